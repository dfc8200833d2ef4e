"""Every shell command in the README works when copied exactly as written.

The `ggwatch` lines run, in order, against moto, the Greengrass fake and a stack named as the README
names it; the `aws` lines cannot run here, so they are checked for what makes them fail when pasted:
a variable nobody defined, a stack output the template does not have, AWS CLI v2's base64 payloads.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from ggwatch_local.greengrass import BulkDeploymentFake, Step
from ggwatch_local.greengrass_v2 import FleetFake, lives
from ggwatch_local.template import load_template
from tests.integration.conftest import TopicWithSubscriber
from tests.integration.test_cli import Cli, cli, create_stack  # noqa: F401  (fixture)

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text()
NOT_RUN_HERE = ("ggwatch local up",)
"""Serves until Ctrl-C; tests/integration/test_cli.py runs it in a subprocess."""


def shell_blocks() -> list[list[str]]:
    """The README's ```sh blocks as logical lines (continuations joined)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
    return [block.replace("\\\n", " ").splitlines() for block in blocks]


def assignments(line: str) -> list[str]:
    return re.findall(r"^(?:export\s+)?([A-Z_][A-Z0-9_]*)=", line.strip())


def ggwatch_blocks() -> list[list[str]]:
    """Per block, its variable assignments and `ggwatch` lines, in order."""
    wanted = []
    for block in shell_blocks():
        lines = [line for line in block if line.startswith("ggwatch ") or assignments(line)]
        if any(line.startswith("ggwatch ") for line in lines):
            wanted.append(lines)
    return wanted


def test_the_readme_has_ggwatch_commands_to_run() -> None:
    commands = [line for block in ggwatch_blocks() for line in block if line.startswith("ggwatch ")]
    assert len(commands) >= 15
    assert {"ggwatch test-notify", "ggwatch discover", "ggwatch --version"} <= {
        " ".join(shlex.split(line, comments=True)) for line in commands
    }


def test_every_variable_a_block_uses_is_defined_in_it() -> None:
    for block in shell_blocks():
        defined: set[str] = set()
        for line in block:
            used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", line))
            assert used <= defined, f"undefined {sorted(used - defined)} in: {line}"
            defined.update(assignments(line))


def test_every_lambda_invoke_sends_its_payload_as_raw_json() -> None:
    invokes = [line for block in shell_blocks() for line in block if "aws lambda invoke" in line]
    assert invokes
    assert all("--cli-binary-format raw-in-base64-out" in line for line in invokes)


def test_every_stack_output_the_readme_reads_exists_under_the_stack_name_deployed() -> None:
    outputs = re.findall(r"OutputKey=='(\w+)'", README)
    # the region forwarder's stacks (README, Several regions) have no outputs the README reads
    stacks = set(re.findall(r"--stack-name (\S+)", README)) - {"ggwatch-forwarder"}
    example = tomllib.loads((REPO_ROOT / "samconfig.toml.example").read_text())

    assert outputs and set(outputs) <= set(load_template()["Outputs"])
    assert stacks == {example["default"]["global"]["parameters"]["stack_name"]}


@pytest.mark.parametrize("block", ggwatch_blocks(), ids=lambda block: block[-1].split("#")[0].strip())
def test_every_ggwatch_command_runs_as_written(
    cli: Cli,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    deployments_table: str,
    topic: TopicWithSubscriber,
    greengrass: BulkDeploymentFake,
    fleet: FleetFake,
    block: list[str],
) -> None:
    # Given the stack the README names, deployed (its outputs name the moto table and topic)
    create_stack("ggwatch", {"TableName": deployments_table, "TopicArn": topic.topic_arn})
    monkeypatch.setenv("GGWATCH_STACK_NAME", "ggwatch")
    # and the README's example deployments running in Greengrass
    for deployment_id in set(re.findall(r"^ID=(\S+)", README, flags=re.MULTILINE)):
        greengrass.add(deployment_id, [Step("Running")])
    for deployment_id in set(re.findall(r"^V2_ID=(\S+)", README, flags=re.MULTILINE)):
        fleet.add(lives.single_device(), deployment_id)

    for line in block:
        if line.startswith(NOT_RUN_HERE):
            continue
        words = shlex.split(os.path.expandvars(line), comments=True)
        if words[0] == "export":
            words = words[1:]
        if words[0] != "ggwatch":
            name, _, value = words[0].partition("=")
            monkeypatch.setenv(name, value)
            continue
        result = cli(*words[1:])
        assert result.code == 0, f"{line}\n{result.err}"
