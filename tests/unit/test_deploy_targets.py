"""`make deploy`, `make build`, `make delete` and samconfig.toml.example agree with the template and the CLI.

No AWS here: the Makefile is read with `make -n` (print the commands, run nothing), and the example
configuration is checked against template.yaml's parameters and resources.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ggwatch_local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "samconfig.toml.example"
NAMED_IAM_PROPERTIES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


def make_dry_run(
    *arguments: str, environ: dict[str, str] | None = None, unset: tuple[str, ...] = ()
) -> list[str]:
    """The commands `make -n ARGUMENTS` would run in the repository, without running them."""
    hidden = ("MAKE", "MFLAGS", "GGWATCH_", *unset)
    env = {k: v for k, v in os.environ.items() if not k.startswith(hidden)}
    env.update(environ or {})
    completed = subprocess.run(
        ["make", "--no-print-directory", "-n", *arguments],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.splitlines()


def sam_commands(lines: list[str]) -> list[str]:
    return [line for line in lines if re.search(r"/sam (build|deploy|delete)\b", line)]


@pytest.fixture
def example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text())


def test_the_first_deploy_builds_then_asks_with_the_stack_name_the_cli_reads(tmp_path: Path) -> None:
    commands = sam_commands(make_dry_run("deploy", f"SAMCONFIG={tmp_path / 'absent.toml'}"))

    assert len(commands) == 2
    assert commands[0].endswith(".venv-iac/bin/sam build --template template.yaml")
    assert ".venv-iac/bin/sam deploy --guided" in commands[1]
    assert "--stack-name ggwatch " in commands[1]
    assert "--capabilities CAPABILITY_IAM" in commands[1]


def test_a_deploy_with_a_configuration_file_asks_nothing(tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(EXAMPLE.read_text())

    commands = sam_commands(make_dry_run("deploy", f"SAMCONFIG={config}"))

    assert commands[1].endswith(f".venv-iac/bin/sam deploy --config-file {config}")


def test_the_stack_name_follows_ggwatch_stack_name(tmp_path: Path) -> None:
    absent = f"SAMCONFIG={tmp_path / 'absent.toml'}"

    deploy = sam_commands(make_dry_run("deploy", absent, environ={"GGWATCH_STACK_NAME": "ggwatch-dev"}))
    delete = sam_commands(make_dry_run("delete", absent, environ={"GGWATCH_STACK_NAME": "ggwatch-dev"}))

    assert "--stack-name ggwatch-dev " in deploy[1]
    assert delete[0].endswith("sam delete --stack-name ggwatch-dev")


def test_deploy_uses_the_operators_region_not_the_one_pinned_for_tests(tmp_path: Path) -> None:
    """The Makefile pins us-east-1 for the local tests; a deploy must not land there by accident."""
    absent = f"SAMCONFIG={tmp_path / 'absent.toml'}"

    pinned = make_dry_run("deploy", absent, unset=("AWS_DEFAULT_REGION",))
    chosen = sam_commands(make_dry_run("deploy", absent, environ={"AWS_DEFAULT_REGION": "eu-west-1"}))

    assert sam_commands(pinned)[1].startswith("env -u AWS_DEFAULT_REGION ")
    assert not chosen[1].startswith("env -u")


def test_build_says_it_downloads_arm64_wheels() -> None:
    lines = make_dry_run("build")
    announcement = next(line for line in lines if line.startswith('echo "sam build'))

    assert "arm64 wheels" in announcement
    assert load_template()["Resources"]["GgwatchLayer"]["Metadata"]["BuildArchitecture"] == "arm64"


def test_the_example_names_the_stack_the_makefile_deploys(example: dict[str, Any], tmp_path: Path) -> None:
    guided = sam_commands(make_dry_run("deploy", f"SAMCONFIG={tmp_path / 'absent.toml'}"))[1]

    assert f"--stack-name {example['default']['global']['parameters']['stack_name']} " in guided


def test_the_example_grants_exactly_the_capability_the_template_needs(example: dict[str, Any]) -> None:
    """The template creates IAM roles (CAPABILITY_IAM); a named IAM resource would need more."""
    resources = load_template()["Resources"]
    named = [
        name
        for name, resource in resources.items()
        if NAMED_IAM_PROPERTIES.get(resource["Type"]) in resource.get("Properties", {})
    ]
    roles = [name for name, resource in resources.items() if resource["Type"] == "AWS::IAM::Role"]

    assert named == []
    assert roles
    assert example["default"]["deploy"]["parameters"]["capabilities"] == "CAPABILITY_IAM"


def test_the_examples_parameters_are_the_templates_and_pass_its_patterns(example: dict[str, Any]) -> None:
    """Read as `sam deploy` reads them (its own parser splits on spaces outside quotes)."""
    sam_python = REPO_ROOT / ".venv-iac" / "bin" / "python"
    if not sam_python.exists():
        pytest.skip("the SAM CLI's environment (.venv-iac) is not installed")
    parameters = load_template()["Parameters"]
    overrides = example["default"]["deploy"]["parameters"]["parameter_overrides"]
    commented = re.findall(r'^\s*#\s*"(\w+=[^"]*)"', EXAMPLE.read_text(), flags=re.MULTILINE)

    parsed = json.loads(
        subprocess.run(
            [
                str(sam_python),
                "-c",
                "import json, sys\n"
                "from samcli.cli.types import CfnParameterOverridesType\n"
                "print(json.dumps(CfnParameterOverridesType().convert(tuple(sys.argv[1:]), None, None)))",
                *overrides,
                *commented,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )

    assert len(parsed) == len(overrides) + len(commented)
    assert parsed["PollingSchedule"] == "rate(1 minute)"
    assert "SlackWebhooksSecretArn" in parsed
    for key, value in parsed.items():
        assert key in parameters, key
        pattern = parameters[key].get("AllowedPattern")
        assert pattern is None or re.fullmatch(pattern, value), (key, value)


def test_a_secret_arn_without_its_suffix_is_refused_by_the_template() -> None:
    """The README's full-ARN rule is the template's: a name-only ARN fails at deploy time."""
    pattern = load_template()["Parameters"]["SlackWebhooksSecretArn"]["AllowedPattern"]
    partial = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ggwatch/slack-webhooks"

    assert re.fullmatch(pattern, partial) is None
    assert re.fullmatch(pattern, partial + "-AbCdEf")


# ---------------------------------------------------------------- quiet installs
def make_variable(expression: str) -> str:
    """What a recipe of this Makefile sees for a shell expression such as `$$NAME`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "--eval", f"show-it: ; @echo {expression}", "show-it"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_the_editable_install_runs_with_setuptools_notice_filtered() -> None:
    install = next(line for line in make_dry_run("-B", ".venv/bin/.installed") if " -e " in line)
    assignment = install.split()[0]
    name, _, value = assignment.partition("=")
    notice = "Editable installation.\n!!\nPlease be careful with folders in your working directory"
    emit = f"import warnings; warnings.warn({notice!r}, UserWarning); warnings.warn('other', UserWarning)"

    shown = subprocess.run(
        [sys.executable, "-c", emit],
        env={**os.environ, name: value.strip('"')},
        capture_output=True,
        text=True,
        check=True,
    ).stderr

    assert name == "PYTHONWARNINGS"
    assert "UserWarning: Editable installation" not in shown
    assert "UserWarning: other" in shown


def test_the_pinned_sam_cli_never_looks_for_updates(tmp_path: Path) -> None:
    settings = tmp_path / "sam-settings"
    subprocess.run(
        ["make", "--no-print-directory", "-s", f"SAM_SETTINGS={settings}", f"{settings}/metadata.json"],
        cwd=REPO_ROOT,
        check=True,
    )
    assert make_variable("$$__SAM_CLI_APP_DIR") == str(REPO_ROOT / ".aws-sam" / "sam-cli-settings")
    sam_python = REPO_ROOT / ".venv-iac" / "bin" / "python"
    if not sam_python.exists():
        pytest.skip("the SAM CLI's environment (.venv-iac) is not installed")

    overdue = subprocess.run(
        [
            str(sam_python),
            "-c",
            "from samcli.cli.global_config import GlobalConfig\n"
            "from samcli.lib.utils.version_checker import is_version_check_overdue\n"
            "print(is_version_check_overdue(GlobalConfig().last_version_check))",
        ],
        env={**os.environ, "__SAM_CLI_APP_DIR": str(settings)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert overdue == "False"
