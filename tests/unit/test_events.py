"""The sample events in events/ (for `sam local invoke -e`) have the shapes the handlers read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ggwatch.domain.commands import IgnoredEvent, TrackRequest
from ggwatch.domain.models import DeploymentKind
from ggwatch.domain.notification import SCHEMA_VERSION, Notification
from ggwatch.inbound.device_events import device_status_change
from ggwatch.inbound.region_runs import is_region_run, region_of, region_run_event
from ggwatch.inbound.tracker import parse_tracker_event
from ggwatch_local.template import function_properties, load_template

EVENTS = Path(__file__).resolve().parents[2] / "events"
BULK_DEPLOYMENT_ARN_PREFIX = "arn:aws:greengrass:us-east-1:123456789012:/greengrass/bulk/deployments/"


def event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def test_every_sample_event_is_json_and_is_tested_here() -> None:
    names = {path.name for path in EVENTS.glob("*.json")}
    assert names == {
        "tracker_cloudtrail_start.json",
        "tracker_cloudtrail_failed_call.json",
        "tracker_track.json",
        "tracker_untrack.json",
        "tracker_cloudtrail_create_v2.json",
        "tracker_cloudtrail_create_v1_group.json",
        "tracker_track_v2.json",
        "poller_schedule.json",
        "poller_device_event.json",
        "poller_region_run.json",
        "slack_notifier_sns.json",
    }
    for name in names:
        assert isinstance(event(name), dict), name


@pytest.mark.parametrize(
    "name",
    [
        "tracker_cloudtrail_start.json",
        "tracker_cloudtrail_failed_call.json",
        "tracker_cloudtrail_create_v2.json",
        "tracker_cloudtrail_create_v1_group.json",
    ],
)
def test_the_cloudtrail_events_match_the_trackers_rule(name: str) -> None:
    sample = event(name)
    pattern = load_template()["Resources"]["TrackerFunction"]["Properties"]["Events"]["DeploymentStarted"][
        "Properties"
    ]["Pattern"]
    assert sample["source"] in pattern["source"]
    assert sample["detail-type"] in pattern["detail-type"]
    assert sample["detail"]["eventSource"] in pattern["detail"]["eventSource"]
    assert sample["detail"]["eventName"] in pattern["detail"]["eventName"]


def test_the_cloudtrail_start_event_asks_to_track_the_started_deployment() -> None:
    detail = event("tracker_cloudtrail_start.json")["detail"]
    deployment_id = detail["responseElements"]["bulkDeploymentId"]
    assert detail["responseElements"]["bulkDeploymentArn"] == BULK_DEPLOYMENT_ARN_PREFIX + deployment_id
    assert "errorCode" not in detail

    request = parse_tracker_event(event("tracker_cloudtrail_start.json"))

    assert isinstance(request, TrackRequest)
    assert (request.deployment_id, request.action, request.source) == (deployment_id, "track", "cloudtrail")
    assert request.deployment_arn == detail["responseElements"]["bulkDeploymentArn"]
    assert request.region == detail["awsRegion"]


def test_the_failed_cloudtrail_call_carries_an_error_and_nothing_to_track() -> None:
    sample = event("tracker_cloudtrail_failed_call.json")
    assert sample["detail"]["eventName"] == "StartBulkDeployment"
    assert sample["detail"]["errorCode"]
    assert sample["detail"]["errorMessage"]
    assert "responseElements" not in sample["detail"]

    assert isinstance(parse_tracker_event(sample), IgnoredEvent)


def test_the_v2_create_event_asks_to_track_the_created_deployment_by_its_arn() -> None:
    detail = event("tracker_cloudtrail_create_v2.json")["detail"]
    deployment_id = detail["responseElements"]["deploymentId"]
    assert detail["requestParameters"]["targetArn"].startswith("arn:aws:iot:us-east-1:123456789012:")

    request = parse_tracker_event(event("tracker_cloudtrail_create_v2.json"))

    assert isinstance(request, TrackRequest)
    assert (request.kind, request.deployment_id, request.source) == (
        DeploymentKind.GREENGRASS_V2,
        deployment_id,
        "cloudtrail",
    )
    assert request.deployment_arn == f"arn:aws:greengrass:us-east-1:123456789012:deployments:{deployment_id}"
    assert request.region == detail["awsRegion"]


def in_region(sample: Any, region: str) -> Any:
    """The sample as another region's CloudTrail records it, forwarded to the home bus (which keeps
    the event's region): every region in it, the ARNs' too, replaced."""
    return json.loads(
        json.dumps(sample).replace('"us-east-1"', f'"{region}"').replace(":us-east-1:", f":{region}:")
    )


@pytest.mark.parametrize("name", ["tracker_cloudtrail_start.json", "tracker_cloudtrail_create_v2.json"])
def test_a_deployment_started_in_another_region_is_tracked_with_that_region(name: str) -> None:
    forwarded = in_region(event(name), "eu-central-1")
    assert forwarded["detail"]["awsRegion"] == "eu-central-1"

    request = parse_tracker_event(forwarded)

    assert isinstance(request, TrackRequest)
    assert request.region == "eu-central-1"
    assert request.deployment_arn is not None and ":eu-central-1:" in request.deployment_arn


def test_the_v1_group_create_event_is_ignored() -> None:
    sample = event("tracker_cloudtrail_create_v1_group.json")
    assert sample["detail"]["eventName"] == "CreateDeployment"
    assert "GroupId" in sample["detail"]["requestParameters"]

    assert isinstance(parse_tracker_event(sample), IgnoredEvent)


def test_the_direct_v2_invocation_names_its_kind() -> None:
    request = parse_tracker_event(event("tracker_track_v2.json"))
    assert isinstance(request, TrackRequest)
    assert (request.kind, request.action, request.source) == (DeploymentKind.GREENGRASS_V2, "track", "manual")


@pytest.mark.parametrize(
    ("name", "action"), [("tracker_track.json", "track"), ("tracker_untrack.json", "untrack")]
)
def test_direct_tracker_invocations_name_a_deployment_and_an_action(name: str, action: str) -> None:
    sample = event(name)
    assert set(sample) <= {"bulkDeploymentId", "action"}

    request = parse_tracker_event(sample)

    assert isinstance(request, TrackRequest)
    assert (request.deployment_id, request.action, request.source) == (
        sample["bulkDeploymentId"],
        action,
        "manual",
    )


def test_the_schedule_event_is_the_input_the_template_configures_with_its_placeholders_filled() -> None:
    schedule = function_properties(load_template(), "PollerFunction")["Events"]["Schedule"]["Properties"]
    configured = json.loads(schedule["Input"])
    sample = event("poller_schedule.json")
    assert set(sample) == set(configured)
    for key, value in configured.items():
        if value.startswith("<aws.scheduler."):
            assert sample[key], key
            assert not sample[key].startswith("<"), key
        else:
            assert sample[key] == value, key


def test_the_device_event_matches_the_pollers_rule_and_names_a_deployment() -> None:
    sample = event("poller_device_event.json")
    pattern = load_template()["Resources"]["PollerDeviceEventRule"]["Properties"]["EventPattern"]
    assert sample["source"] in pattern["source"]
    assert sample["detail-type"] in pattern["detail-type"]

    change = device_status_change(sample)

    assert change is not None
    assert change.deployment_id == sample["detail"]["deploymentId"]
    assert change.core_device_arn == sample["resources"][0]


def test_the_region_run_event_is_what_the_scheduled_run_sends() -> None:
    sample = event("poller_region_run.json")
    assert is_region_run(sample) and region_of(sample) == "eu-west-1"
    assert sample == region_run_event("eu-west-1", event("poller_schedule.json")["scheduledTime"])


def test_the_sns_event_carries_a_version_1_notification_with_its_filter_attributes() -> None:
    (record,) = event("slack_notifier_sns.json")["Records"]
    assert record["EventSource"] == "aws:sns"
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    body = json.loads(sns["Message"])
    assert body["schemaVersion"] == SCHEMA_VERSION == "1"

    notification = Notification.model_validate(body)

    assert notification.to_json() == sns["Message"]
    assert {
        name: a["Value"] for name, a in sns["MessageAttributes"].items()
    } == notification.message_attributes()
    assert all(a["Type"] == "String" for a in sns["MessageAttributes"].values())
