"""Stuck, recovered and progress notifications end to end: the poller as its handler wires it (settings
from the environment, boto3 clients, DynamoDB on moto, SNS on moto with an SQS subscriber) against the
Greengrass V1 and V2 simulators over HTTP, under a controlled clock. Every poll runs twice, so a
repeat would show."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from ggwatch.adapters import rate_limit, sdk_config
from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind
from ggwatch.services.poller import Poller, PollerPolicy
from ggwatch.settings.poller import PollerSettings
from ggwatch_local.greengrass import BulkDeploymentFake, Step
from ggwatch_local.greengrass_v2 import FleetFake, lives
from ggwatch_local.lambda_runtime import load_handler
from tests.clock import START, Clock
from tests.conftest import REGION
from tests.integration.conftest import TopicWithSubscriber

pytestmark = [
    pytest.mark.usefixtures("app_environment"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

MINUTE = 60


@pytest.fixture
def poller(
    monkeypatch: pytest.MonkeyPatch, fleet_clock: Clock, greengrass: BulkDeploymentFake, fleet: FleetFake
) -> Poller:
    """The handler's own lane and pace policy, from its environment, on the test's clock (built once
    both simulators' endpoints are in the environment)."""
    monkeypatch.setenv("STUCK_V1_PROGRESS_MINUTES", "30")
    monkeypatch.setenv("STUCK_V2_PROGRESS_MINUTES", "120")
    monkeypatch.setenv("PROGRESS_STEP_PERCENT", "25")
    app = load_handler("poller")
    settings = PollerSettings.from_env()
    lane = app._lane(
        settings, rate_limit.poller_rate_limits(settings), sdk_config.API_CONFIG, sdk_config.FULL
    )
    return Poller([lane], PollerPolicy(pace=app._pace_policy(settings)), clock=fleet_clock)


class Run:
    def __init__(self, poller: Poller, clock: Clock, topic: TopicWithSubscriber) -> None:
        self.poller, self.clock, self.topic = poller, clock, topic

    def after(self, minutes: int) -> list[dict[str, Any]]:
        """Advance the clock, poll twice, and answer what the subscriber received."""
        self.clock.advance(minutes * MINUTE)
        self.poller.run()
        self.poller.run()
        return [delivered.body for delivered in self.topic.drain()]


@pytest.fixture
def run(poller: Poller, fleet_clock: Clock, topic: TopicWithSubscriber) -> Run:
    return Run(poller, fleet_clock, topic)


def events(published: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(n["eventType"], n["status"]) for n in published]


def test_a_bulk_deployment_that_stalls_is_stuck_once_per_episode_and_recovers_when_it_moves(
    run: Run, greengrass: BulkDeploymentFake, deployments_table: str, topic: TopicWithSubscriber
) -> None:
    greengrass.add(
        "bd-1",
        [
            Step("Running", records_processed=4),
            Step("Running", records_processed=9),
            Step("Completed", records_processed=12),
        ],
    )
    repository = DynamoDeploymentRepository(
        deployments_table, client=boto3.client("dynamodb", region_name=REGION)
    )
    repository.track(DeploymentKind.GREENGRASS_V1_BULK, "bd-1", tracked_by="test", now=START)

    assert events(run.after(0)) == [("DeploymentStatusChange", "Running")]
    assert run.after(20) == []
    stuck = run.after(10)
    assert events(stuck) == [("DeploymentStuck", "Running")]
    assert stuck[0]["stuck"] == {
        "reason": "progress",
        "since": "2026-11-28T12:00:00Z",
        "durationSeconds": 1800,
        "thresholdSeconds": 1800,
        "progress": 4,
    }
    assert run.after(60) == [], "one notification per episode"

    greengrass.advance("bd-1")
    recovered = run.after(10)
    assert events(recovered) == [("DeploymentRecovered", "Running")]
    assert recovered[0]["stuck"]["durationSeconds"] == 100 * MINUTE
    assert events(run.after(30)) == [("DeploymentStuck", "Running")], "a second stall, a second episode"

    greengrass.advance("bd-1")
    assert events(run.after(10)) == [
        ("DeploymentRecovered", "Running"),
        ("DeploymentStatusChange", "Completed"),
    ]
    stored = repository.get(DeploymentKind.GREENGRASS_V1_BULK, "bd-1")
    assert stored is not None and not stored.active and stored.pending is None
    assert stored.pace is not None and stored.pace.stuck_since is None


def test_a_v2_rollout_reports_its_steps_its_stall_and_never_a_settled_deployment(
    run: Run, fleet: FleetFake, deployments_table: str
) -> None:
    deployment_id = fleet.add(lives.rollout_with_failures(devices=20))
    DynamoDeploymentRepository(deployments_table, client=boto3.client("dynamodb", region_name=REGION)).track(
        DeploymentKind.GREENGRASS_V2, deployment_id, tracked_by="test", now=START
    )
    assert [n["eventType"] for n in run.after(0)] == ["DeploymentStatusChange"]

    fleet.advance(deployment_id)  # 4 of 20 finished: no step of 25 % yet, and the rest waits
    assert run.after(1) == []
    assert run.after(119) == []
    stuck = run.after(1)
    assert [(n["eventType"], n["stuck"]["reason"], n["stuck"]["progress"]) for n in stuck] == [
        ("DeploymentStuck", "progress", 4)
    ]

    fleet.advance(deployment_id)  # 12 of 20, three of them failed: moving again, and past the 50 % step
    moving = run.after(1)  # the first poll recovers; the step it crossed follows on the second
    assert [(n["eventType"], n["changes"]) for n in moving] == [
        ("DeploymentRecovered", []),
        ("DeploymentStatusChange", ["errors"]),
        ("DeploymentProgress", []),
    ]
    assert moving[2]["progress"] == {"percent": 50, "finished": 12, "total": 20}
    assert run.after(1) == []

    fleet.advance(deployment_id)  # all 20 finished: settled, said by its status change, not a step
    assert [(n["eventType"], n["changes"]) for n in run.after(1)] == [("DeploymentStatusChange", ["settled"])]
    assert run.after(3 * 24 * 60) == [], "a settled continuous deployment is never stuck"
