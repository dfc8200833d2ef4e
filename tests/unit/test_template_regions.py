"""Several regions in the templates: the PollRegions parameter, the poller's reads scoped to those
regions, and templates/region-forwarder.yaml, whose rule sends another region's deployment starts to
the home bus, where the tracker's own rule must match them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ggwatch.domain.regions import checked_region
from ggwatch_local.template import TEMPLATE_PATH, Resolver, load_template, resource
from tests.unit.test_events import EVENTS
from tests.unit.test_template import statements_of

FORWARDER_PATH = TEMPLATE_PATH.parent / "templates" / "region-forwarder.yaml"
READS = {"greengrass", "iot"}
"""The services the poller reads deployments from, in every region it polls."""


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def forwarder() -> dict[str, Any]:
    return load_template(FORWARDER_PATH)


def tracker_pattern(template: dict[str, Any]) -> Any:
    events = resource(template, "TrackerFunction")["Properties"]["Events"]
    return events["DeploymentStarted"]["Properties"]["Pattern"]


def matches(pattern: Any, event: Any) -> bool:
    """EventBridge matching as the tracker's pattern uses it: every key present, a value among those
    listed, nested objects matched alike."""
    if isinstance(pattern, list):
        return event in pattern
    return isinstance(event, dict) and all(
        key in event and matches(value, event[key]) for key, value in pattern.items()
    )


# ---------------------------------------------------------------- PollRegions


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("eu-west-1", True),
        ("eu-west-1,us-west-2,us-gov-west-1,ap-southeast-5", True),
        ("eu-west-1, us-west-2", False),
        ("eu-west-1,", False),
        ("Frankfurt", False),
        ("eu-west", False),
    ],
)
def test_poll_regions_accepts_what_the_functions_accept(
    template: dict[str, Any], value: str, accepted: bool
) -> None:
    # The deploy refuses a misspelt region before the functions would fail at cold start
    pattern = template["Parameters"]["PollRegions"]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) == accepted
    if accepted:
        assert all(checked_region(region) for region in value.split(",") if region)


def polled_regions(template: dict[str, Any], poll_regions: str) -> dict[str, list[str]]:
    """Each Greengrass or IoT read action of the poller, and the regions its grant allows."""
    resolve = Resolver(
        template, stack_name="ggwatch", region="us-east-1", parameters={"PollRegions": poll_regions}
    )
    regions: dict[str, list[str]] = {}
    for statement in statements_of(template, "PollerFunction"):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if not {action.split(":")[0] for action in actions} & READS:
            continue
        condition = resolve(statement.get("Condition") or {})
        assert condition.keys() == {"StringEquals"}, actions
        for action in actions:
            regions[action] = condition["StringEquals"]["aws:RequestedRegion"]
    return regions


def test_the_poller_reads_greengrass_and_iot_in_its_own_region_only_by_default(
    template: dict[str, Any],
) -> None:
    regions = polled_regions(template, "")
    assert set(regions) == {
        "greengrass:GetBulkDeploymentStatus",
        "greengrass:ListBulkDeploymentDetailedReports",
        "greengrass:GetDeployment",
        "greengrass:ListEffectiveDeployments",
        "iot:DescribeJob",
        "iot:ListJobExecutionsForJob",
    }
    assert all(allowed == ["us-east-1"] for allowed in regions.values())


def test_the_poller_reads_greengrass_and_iot_in_exactly_its_region_and_the_poll_regions(
    template: dict[str, Any],
) -> None:
    regions = polled_regions(template, "eu-west-1,ap-southeast-2")
    assert all(allowed == ["us-east-1", "eu-west-1", "ap-southeast-2"] for allowed in regions.values())


def test_the_stack_tells_the_cli_every_region_it_polls_its_own_first(template: dict[str, Any]) -> None:
    output = template["Outputs"]["PollRegions"]["Value"]
    resolve = Resolver(template, stack_name="ggwatch", region="us-east-1")
    assert resolve(output) == "us-east-1"
    polling = Resolver(
        template, stack_name="ggwatch", region="us-east-1", parameters={"PollRegions": "eu-west-1"}
    )
    assert polling(output) == "us-east-1,eu-west-1"


# ---------------------------------------------------------------- the region forwarder


def test_the_forwarder_matches_exactly_the_events_the_tracker_consumes(
    template: dict[str, Any], forwarder: dict[str, Any]
) -> None:
    rule = resource(forwarder, "ForwardDeploymentStarts")["Properties"]
    assert rule["EventPattern"] == tracker_pattern(template)
    assert rule["EventBusName"] == "default"  # where a region's CloudTrail events arrive


def test_the_forwarder_forwards_exactly_the_device_events_the_poller_checks_unless_turned_off(
    template: dict[str, Any], forwarder: dict[str, Any]
) -> None:
    rule = resource(forwarder, "ForwardDeviceEventsRule")
    home_rule = resource(template, "PollerDeviceEventRule")["Properties"]
    assert rule["Properties"]["EventPattern"] == home_rule["EventPattern"]
    assert rule["Properties"]["EventBusName"] == "default" and "EventBusName" not in home_rule
    assert (
        rule["Properties"]["Targets"]
        == resource(forwarder, "ForwardDeploymentStarts")["Properties"]["Targets"]
    )
    assert rule["Condition"] == "ForwardsDeviceEvents"
    assert forwarder["Conditions"]["ForwardsDeviceEvents"] == {
        "Fn::Equals": [{"Ref": "ForwardDeviceEvents"}, "true"]
    }
    assert forwarder["Parameters"]["ForwardDeviceEvents"]["Default"] == "true"


@pytest.mark.parametrize("name", ["tracker_cloudtrail_start.json", "tracker_cloudtrail_create_v2.json"])
def test_a_forwarded_event_keeps_what_the_home_rule_matches(template: dict[str, Any], name: str) -> None:
    # A forwarded event keeps source, detail-type, detail and its region: the home rule matches it
    sample = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    forwarded = json.loads(json.dumps(sample).replace("us-east-1", "eu-west-1"))
    assert matches(tracker_pattern(template), forwarded)
    assert not matches(tracker_pattern(template), forwarded | {"source": "aws.iot"})


def test_the_forwarder_sends_to_the_home_bus_as_a_role_that_may_put_events_there_only(
    forwarder: dict[str, Any],
) -> None:
    home_bus = {
        "Fn::Sub": "arn:${AWS::Partition}:events:${HomeRegion}:${AWS::AccountId}:event-bus/${HomeEventBusName}"
    }
    (target,) = resource(forwarder, "ForwardDeploymentStarts")["Properties"]["Targets"]
    assert target["Arn"] == home_bus
    assert target["RoleArn"] == {"Fn::GetAtt": ["ForwarderRole", "Arn"]}

    role = resource(forwarder, "ForwarderRole")["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        }
    ]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
        ("Allow", "events:PutEvents", home_bus)
    ]
    assert "ManagedPolicyArns" not in role


def test_the_forwarder_refuses_to_be_deployed_in_the_home_region(forwarder: dict[str, Any]) -> None:
    (assertion,) = forwarder["Rules"]["NotInHomeRegion"]["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "HomeRegion"}, {"Ref": "AWS::Region"}]}]
    }
    home = forwarder["Parameters"]["HomeRegion"]
    assert re.fullmatch(home["AllowedPattern"], "us-east-1") and not re.fullmatch(
        home["AllowedPattern"], "home"
    )
    assert forwarder["Parameters"]["HomeEventBusName"]["Default"] == "default"


def test_make_iac_lints_the_forwarder_too() -> None:
    recipe = (
        (TEMPLATE_PATH.parent / "Makefile").read_text(encoding="utf-8").split("\niac:")[1].split("\n\n")[0]
    )
    relative = str(FORWARDER_PATH.relative_to(Path(TEMPLATE_PATH.parent)))
    assert f"cfn-lint template.yaml {relative}" in recipe
    assert f"checkov --config-file .checkov.yaml --file {relative}" in recipe
