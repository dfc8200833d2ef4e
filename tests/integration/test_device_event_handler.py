"""The poller handler tells a Greengrass device event from the schedule: one check, never a full pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ggwatch_local.greengrass import BulkDeploymentFake, Step
from ggwatch_local.greengrass_v2 import FleetFake, FleetFakeServer
from ggwatch_local.greengrass_v2.lives import single_device
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from tests.integration.conftest import TopicWithSubscriber
from tests.unit.test_events import EVENTS

pytestmark = [
    pytest.mark.usefixtures("app_environment"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]


def device_event() -> dict[str, Any]:
    sample: dict[str, Any] = json.loads((EVENTS / "poller_device_event.json").read_text(encoding="utf-8"))
    return sample


@pytest.fixture
def tracked_v1(greengrass: BulkDeploymentFake, lambda_context: LambdaContext) -> BulkDeploymentFake:
    greengrass.add("bd-1", [Step("Running")])
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-1"}, lambda_context)
    greengrass.clear_calls()
    return greengrass


def test_a_device_event_checks_its_deployment_only(
    tracked_v1: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    summary = load_handler("poller").lambda_handler(device_event(), lambda_context)
    assert summary["checked"] == device_event()["detail"]["deploymentId"]
    assert tracked_v1.calls == [], "a device event must not start a full pass"
    assert topic.drain() == []


@pytest.mark.parametrize(
    "change",
    [{"detail": {}}, {"detail-type": "AWS API Call via CloudTrail"}, {"resources": "not a list"}],
)
def test_a_malformed_device_event_is_reported_not_raised_and_polls_nothing(
    tracked_v1: BulkDeploymentFake,
    lambda_context: LambdaContext,
    change: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = load_handler("poller").lambda_handler({**device_event(), **change}, lambda_context)
    assert summary == {"checked": None, "result": "malformed"}
    assert tracked_v1.calls == []
    assert '"MalformedEvents"' in capsys.readouterr().out


def test_the_schedule_still_runs_a_full_pass(
    tracked_v1: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    schedule = json.loads((EVENTS / "poller_schedule.json").read_text(encoding="utf-8"))
    summary = load_handler("poller").lambda_handler(schedule, lambda_context)
    assert summary["polled"] == 1 and summary["transitions"] == 1
    assert [d.body["status"] for d in topic.drain()] == ["Running"]


def test_a_device_event_notifies_a_v2_deployment_at_once_and_a_burst_checks_it_once(
    fleet: FleetFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    # Given a tracked single-device V2 deployment, already notified as queued
    deployment_id = fleet.add(single_device(), "d-gateway")
    load_handler("tracker").lambda_handler(
        {"deploymentId": deployment_id, "kind": "greengrass-v2"}, lambda_context
    )
    poller = load_handler("poller").lambda_handler
    event = {**device_event(), "detail": {**device_event()["detail"], "deploymentId": deployment_id}}
    assert poller(event, lambda_context)["checked"] == deployment_id
    first = topic.drain()
    assert [(d.body["deploymentKind"], d.body["previousStatus"], d.body["status"]) for d in first] == [
        ("greengrass-v2", None, "ACTIVE")
    ]

    # When the device finishes and Greengrass sends its event twice within the debounce window
    fleet.advance(deployment_id)
    fleet.advance(deployment_id)
    for _ in range(2):
        poller(event, lambda_context)

    # Then the burst was debounced (the first event's check was moments ago): nothing new yet
    assert topic.drain() == []
    # And the next scheduled run reports the completion, once
    schedule = json.loads((EVENTS / "poller_schedule.json").read_text(encoding="utf-8"))
    poller(schedule, lambda_context)
    done = topic.drain()
    assert [(d.body["previousStatus"], d.body["status"], d.body["terminal"]) for d in done] == [
        ("ACTIVE", "COMPLETED", True)
    ]


def test_a_device_event_forwarded_from_another_region_checks_the_deployment_where_it_lives(
    monkeypatch: pytest.MonkeyPatch, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    # Given a deployment tracked in eu-west-1, known only to that region's Greengrass
    home, eu = FleetFake(), FleetFake(region="eu-west-1")
    with FleetFakeServer(home, regions={"eu-west-1": eu}) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASSV2", server.endpoint_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_IOT", server.endpoint_url)
        monkeypatch.setenv("POLL_REGIONS", "eu-west-1")
        load_handler("poller").cold_start.cache_clear()
        deployment_id = eu.add(single_device())
        load_handler("tracker").lambda_handler(
            {"deploymentId": deployment_id, "kind": "greengrass-v2", "region": "eu-west-1"}, lambda_context
        )
        # When its device's event arrives on the home bus (the region forwarder keeps its region)
        event = device_event()
        event = {**event, "region": "eu-west-1", "detail": {**event["detail"], "deploymentId": deployment_id}}
        summary = load_handler("poller").lambda_handler(event, lambda_context)
    # Then the poller asked eu-west-1 about it and notified it, naming that region
    assert summary["checked"] == deployment_id and summary["transitions"] == 1
    assert [(d.body["deploymentId"], d.body["region"]) for d in topic.drain()] == [
        (deployment_id, "eu-west-1")
    ]
