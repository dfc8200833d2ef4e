"""Every AWS call each CLI command really makes is in the permissions it documents, and nothing more.

The operator's IAM policy is written from `ggwatch COMMAND --help` and the README's table; both come
from ggwatch_cli.permissions, so a new SDK call without a documented permission fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ggwatch_cli.permissions import PERMISSIONS, REGIONAL_SERVICES, STACK_OUTPUTS
from ggwatch_local.greengrass import BulkDeploymentFake, GreengrassFakeServer, Step
from ggwatch_local.greengrass_v2 import DeviceFailure, Execution, FleetFake, FleetLife, FleetStep, Target
from tests.conftest import REGION
from tests.integration.conftest import TopicWithSubscriber
from tests.integration.test_cli import Cli, cli, configured, create_stack  # noqa: F401  (fixtures)
from tests.integration.test_policies_cover_calls import (  # noqa: F401  (fixture)
    Recorded,
    iam_action,
    recorded_calls,
)

README = Path(__file__).resolve().parents[2] / "README.md"

V2 = ["--kind", "greengrass-v2"]
SCENARIOS: dict[str, list[list[str]]] = {
    "track": [["track", "bd-1"], ["track", "bd-1"], ["track", *V2, "d-1"], ["track", *V2, "d-1"]],
    "untrack": [["untrack", "bd-1"], ["untrack", *V2, "d-1"]],
    "list": [["list"], ["list", "--active"]],
    "status": [["status", "bd-1"], ["status", *V2, "d-1"]],
    "poll": [["poll"]],
    "discover": [["discover"]],
    "test-notify": [["test-notify"]],
}
"""Enough runs of each command to exercise every call it can make."""
ENVIRONMENTS: dict[str, dict[str, str]] = {"poll": {"GGWATCH_EVENT_BUS_NAME": "default"}}
"""What a command needs set to make every call it can (poll puts events on a bus only when it knows one)."""


@pytest.mark.parametrize("command", sorted(SCENARIOS))
def test_each_command_calls_exactly_what_it_documents(
    cli: Cli,  # noqa: F811
    configured: str,  # noqa: F811
    greengrass: BulkDeploymentFake,
    fleet: FleetFake,
    recorded_calls: Recorded,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    for name, value in ENVIRONMENTS.get(command, {}).items():
        monkeypatch.setenv(name, value)
    # Given of each kind a tracked deployment, and one Greengrass runs that ggwatch does not know yet
    # (the V2 ones with a failed device, whose reason status looks up; the tracked V1 one finished, so
    # that poll reads its group reports)
    greengrass.add("bd-1", [Step("Completed", records_processed=2)])
    greengrass.add("bd-2", [Step("Running")])
    failing = (
        Execution("gw-1", "FAILED", DeviceFailure("component crashed")),
        Execution("gw-2", "IN_PROGRESS"),
    )
    fleet.add(
        FleetLife("known", Target("thinggroup", "line-1"), (FleetStep("ACTIVE", "IN_PROGRESS", failing),)),
        "d-1",
    )
    fleet.add(
        FleetLife("new", Target("thinggroup", "line-2"), (FleetStep("ACTIVE", "IN_PROGRESS", failing),)),
        "d-2",
    )
    assert cli("track", "bd-1").code == 0
    assert cli("track", *V2, "d-1").code == 0
    recorded_calls.clear()

    for argv in SCENARIOS[command]:
        result = cli(*argv)
        assert result.code == 0, result.err

    assert actions(recorded_calls) == set(PERMISSIONS[command])


def test_reading_the_stack_needs_describe_stacks_only(
    cli: Cli,  # noqa: F811
    topic: TopicWithSubscriber,
    deployments_table: str,
    recorded_calls: Recorded,  # noqa: F811
) -> None:
    create_stack("ggwatch", {"TableName": deployments_table, "TopicArn": topic.topic_arn})
    recorded_calls.clear()

    assert cli("test-notify", "--stack", "ggwatch").code == 0

    assert actions(recorded_calls) == {STACK_OUTPUTS, "sns:Publish"}


def test_the_readme_lists_each_commands_permissions() -> None:
    rows = dict(re.findall(r"^\| `ggwatch ([a-z-]+)[^`]*` \| (.+) \|$", README.read_text(), re.MULTILINE))

    for command, actions in PERMISSIONS.items():
        assert command in rows, command
        assert re.findall(r"`([a-z]+:[A-Za-z]+)`", rows[command]) == list(actions), command


def actions(recorded: Recorded) -> set[str]:
    """The IAM action names of the recorded calls."""
    return {iam_action(service, operation) for service, operation, *_ in recorded}


def test_with_a_region_greengrass_and_iot_are_called_there_and_the_table_in_the_stacks_region(
    cli: Cli,  # noqa: F811
    configured: str,  # noqa: F811
    recorded_calls: Recorded,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    fleet: FleetFake,
) -> None:
    # Given a stack in us-east-1 that polls eu-west-1 too, and a deployment Greengrass runs there
    monkeypatch.setenv("GGWATCH_POLL_REGIONS", "eu-west-1")
    eu = GreengrassFakeServer(BulkDeploymentFake(region="eu-west-1"))
    eu.fake.add("bd-1", [Step("Running")])
    with eu:
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASS", eu.endpoint_url)
        assert_regional_calls(cli, recorded_calls)


def assert_regional_calls(cli: Cli, recorded_calls: Recorded) -> None:  # noqa: F811
    for argv in (["discover", "--region", "eu-west-1"], ["status", "--region", "eu-west-1", "bd-1"]):
        recorded_calls.clear()
        assert cli(*argv).code == 0, argv
        # Then each call goes where the permissions say: the regional services in eu-west-1 only
        regions = {(service, region) for service, _operation, _params, region in recorded_calls}
        assert {service for service, _ in regions} >= {"greengrass", "dynamodb"}, argv
        for service, region in regions:
            assert region == ("eu-west-1" if service in REGIONAL_SERVICES else REGION), (argv, service)
