"""Greengrass V2 end to end: the real poller handler against moto (DynamoDB, SNS→SQS) and the fleet
fake over HTTP, through each realistic life. Every poll runs twice, so a repeat would show."""

from __future__ import annotations

from typing import Any

import pytest

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind
from ggwatch_local.greengrass_v2 import FleetFake, FleetLife, lives
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from tests.clock import START, Clock
from tests.conftest import REGION
from tests.integration.conftest import TopicWithSubscriber

pytestmark = [
    pytest.mark.usefixtures("app_environment"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

ACCOUNT = "123456789012"
STEP_SECONDS = 60


def poll(context: LambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = load_handler("poller").lambda_handler({}, context)
    return result


def counts(**values: int) -> dict[str, int]:
    names = ("queued", "inProgress", "succeeded", "failed", "rejected", "timedOut", "canceled", "removed")
    return {name: values.get(name, 0) for name in names}


class Watch:
    """Tracks a fleet deployment and polls it through its whole life, a minute between its steps."""

    def __init__(
        self,
        fleet: FleetFake,
        clock: Clock,
        table: str,
        topic: TopicWithSubscriber,
        context: LambdaContext,
    ) -> None:
        self.fleet, self.clock, self.table, self.topic, self.context = fleet, clock, table, topic, context

    def life(self, life: FleetLife) -> tuple[str, list[dict[str, Any]]]:
        deployment_id = self.fleet.add(life, tags={"team": "edge"})
        DynamoDeploymentRepository(self.table).track(
            DeploymentKind.GREENGRASS_V2, deployment_id, tracked_by="test", now=START
        )
        published: list[dict[str, Any]] = []
        for step in range(len(life.steps)):
            if step:
                self.clock.advance(STEP_SECONDS)
                self.fleet.advance(deployment_id)
            poll(self.context)
            poll(self.context)
            published += [delivered.body for delivered in self.topic.drain()]
        return deployment_id, published

    def is_no_longer_polled(self) -> bool:
        self.fleet.clear_calls()
        return poll(self.context)["polled"] == 0 and not self.fleet.calls


@pytest.fixture
def watch(
    fleet: FleetFake,
    fleet_clock: Clock,
    deployments_table: str,
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
) -> Watch:
    return Watch(fleet, fleet_clock, deployments_table, topic, lambda_context)


def story(published: list[dict[str, Any]]) -> list[tuple[str | None, str, list[str], bool]]:
    return [(n["previousStatus"], n["status"], n["changes"], n["terminal"]) for n in published]


def failed(published: dict[str, Any]) -> list[str]:
    return [detail["thingName"] for detail in published["errorDetails"]]


def test_a_rollout_to_50_devices_reports_each_of_its_3_failures_once_then_settles(
    watch: Watch, fleet: FleetFake
) -> None:
    deployment_id, published = watch.life(lives.rollout_with_failures(devices=50))

    assert story(published) == [
        (None, "ACTIVE", ["status"], False),
        ("ACTIVE", "ACTIVE", ["errors"], False),
        ("ACTIVE", "ACTIVE", ["errors"], False),
        ("ACTIVE", "ACTIVE", ["errors", "settled"], False),
    ]
    first, *errors = published
    # The first says what the deployment is
    view = fleet.get(deployment_id)
    assert first["deploymentKind"] == "greengrass-v2"
    assert first["deploymentArn"] == f"arn:aws:greengrass:{REGION}:{ACCOUNT}:deployments:{deployment_id}"
    assert (first["deploymentName"], first["targetArn"]) == (
        "telemetry-2.1.0",
        f"arn:aws:iot:{REGION}:{ACCOUNT}:thinggroup/plant-a",
    )
    assert (first["revisionId"], first["jobId"], first["tags"]) == ("1", view.job_id, {"team": "edge"})
    assert first["metrics"] == counts(queued=50)
    assert (first["errorMessage"], first["errorDetails"], first["region"]) == (None, [], REGION)
    # Each failure is named once, by the notification of the poll that found it
    assert [failed(n) for n in errors] == [["plant-a-008"], ["plant-a-024"], ["plant-a-042"]]
    assert errors[0]["errorDetails"] == [
        {"code": "DEVICE_ERROR", "message": lives.DISK_FULL.reason, "thingName": "plant-a-008"}
    ]
    assert (
        errors[0]["errorMessage"]
        == f"1 of 50 devices failed: plant-a-008 (DEVICE_ERROR: {lives.DISK_FULL.reason})"
    )
    assert errors[0]["metrics"] == counts(queued=30, inProgress=10, succeeded=9, failed=1)
    assert errors[-1]["metrics"] == counts(succeeded=47, failed=3)
    assert str(errors[-1]["errorMessage"]).startswith(
        "3 of 50 devices failed: plant-a-042 (PERMISSION_ERROR: Access denied"
    )
    # Only the settled one carries results: the devices by status and the failed ones, newest first
    assert [n["results"] is None for n in published] == [True, True, True, False]
    results = errors[-1]["results"]
    assert (results["total"], results["counts"]) == (50, {"succeeded": 47, "failed": 3})
    assert [f["thingName"] for f in results["failures"]] == ["plant-a-042", "plant-a-024", "plant-a-008"]
    assert results["failures"][-1]["message"] == lives.DISK_FULL.reason and not results["truncated"]
    # A thing-group deployment is continuous: still polled after it settled
    assert poll(watch.context)["polled"] == 1
    assert watch.topic.drain() == []


def test_a_canceled_rollout_is_reported_once_with_its_final_counts_and_ends_tracking(watch: Watch) -> None:
    _, published = watch.life(lives.canceled(devices=20))

    assert story(published) == [(None, "ACTIVE", ["status"], False), ("ACTIVE", "CANCELED", ["status"], True)]
    assert published[-1]["metrics"] == counts(succeeded=5, inProgress=3, canceled=12)
    assert published[-1]["results"]["counts"] == {"succeeded": 5, "inProgress": 3, "canceled": 12}
    assert published[-1]["results"]["failures"] == [] and published[0]["results"] is None
    assert watch.is_no_longer_polled()


def test_a_continuous_deployment_settles_again_when_devices_join_and_ends_when_replaced(
    watch: Watch,
) -> None:
    _, published = watch.life(lives.continuous_replaced(devices=10, joining=2))

    assert story(published) == [
        (None, "ACTIVE", ["status"], False),
        ("ACTIVE", "ACTIVE", ["settled"], False),
        ("ACTIVE", "ACTIVE", ["settled"], False),  # the two devices that joined got it too
        ("ACTIVE", "INACTIVE", ["status"], True),  # a newer revision replaced it
    ]
    assert [n["metrics"]["succeeded"] for n in published] == [0, 10, 12, 12]
    assert watch.is_no_longer_polled()


def test_a_single_device_deployment_completes_in_one_notification(watch: Watch) -> None:
    _, published = watch.life(lives.single_device())

    assert story(published) == [
        (None, "ACTIVE", ["status"], False),
        ("ACTIVE", "COMPLETED", ["status", "settled"], True),
    ]
    assert published[-1]["metrics"] == counts(succeeded=1)
    assert published[-1]["targetArn"] == f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/gateway-042"
    assert watch.is_no_longer_polled()


def test_every_transition_has_its_own_transition_id(watch: Watch) -> None:
    published = [
        n for life in (lives.rollout_with_failures(), lives.single_device()) for n in watch.life(life)[1]
    ]
    assert len({n["transitionId"] for n in published}) == len(published) == 6
