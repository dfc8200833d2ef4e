"""The client-side rate limit against the simulator's own rate limit, over HTTP: held to the service's
rate it meets no throttle, each (region, operation) on its own rate; set above it, it lowers its rate.

The simulator's buckets and the limiter read one controlled clock, and the limiter's waits move it,
so the calls are spaced exactly as on a real clock and nothing waits on real time (except in the last
test, where the poller handler builds its own limiter: about six seconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.adapters.greengrass_v2 import GreengrassV2Deployments
from ggwatch.adapters.rate_limit import RateLimits
from ggwatch.domain.models import DeploymentKind
from ggwatch_local.greengrass.pacing import Pacing
from ggwatch_local.greengrass_v2 import FleetFake, FleetFakeServer
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from tests.clock import START, Clock
from tests.integration.test_greengrass_pacing import LIFE

ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
THREE_ATTEMPTS = Config(retries={"mode": "standard", "total_max_attempts": 3})
SERVICE_RATE = 2.0
"""Requests a second the simulator allows per (region, operation), with no burst."""


class Waits:
    """The limiter's sleep: moves the shared clock and keeps what it waited."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.total = 0.0

    def __call__(self, seconds: float) -> None:
        self.total += seconds
        self.clock.advance(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[FleetFake]:
    fleet = FleetFake()
    pacing = Pacing(rate_limit=SERVICE_RATE, burst=1, clock=clock.epoch)
    with FleetFakeServer(fleet, pacing=pacing) as server:
        for service in ("GREENGRASSV2", "IOT"):
            monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", server.endpoint_url)
        yield fleet


def limits(clock: Clock, waits: Waits, rate: float = SERVICE_RATE) -> RateLimits:
    return RateLimits(
        {("greengrassv2", "GetDeployment"): rate, ("iot", "DescribeJob"): rate},
        clock=clock.epoch,
        sleep=waits,
    )


def throttles(fleet: FleetFake) -> int:
    return sum(1 for call in fleet.calls if call.fault == "throttle")


def client(
    service: str, rate_limits: RateLimits | None, config: Config = ONE_ATTEMPT, region: str | None = None
) -> Any:
    made: Any = boto3.client(service, config=config, region_name=region)  # type: ignore[call-overload]
    return made if rate_limits is None else rate_limits.attach(made, max_wait_seconds=4)


def test_calls_held_to_the_services_rate_meet_no_throttle_where_unheld_ones_do(
    fleet: FleetFake, clock: Clock
) -> None:
    # Given a deployment, and a service allowing 2 GetDeployment calls a second
    fleet.add(LIFE, "dep-1")
    waits = Waits(clock)
    held = client("greengrassv2", limits(clock, waits))
    unheld = client("greengrassv2", None)

    # When the unheld client calls twice at once, then the held one six times in a row
    unheld.get_deployment(deploymentId="dep-1")
    with pytest.raises(unheld.exceptions.ThrottlingException):
        unheld.get_deployment(deploymentId="dep-1")
    fleet.clear_calls()
    clock.advance(10)
    for _ in range(6):
        assert held.get_deployment(deploymentId="dep-1")["deploymentId"] == "dep-1"

    # Then the held calls met no throttle, spaced by the waits the service's rate needs, no longer
    assert throttles(fleet) == 0
    assert waits.total == pytest.approx(5 / SERVICE_RATE)


def test_each_operation_and_region_waits_only_for_its_own_rate(fleet: FleetFake, clock: Clock) -> None:
    # Given three deployments, read the way the poller reads them (GetDeployment, then DescribeJob)
    ids = [fleet.add(LIFE) for _ in range(3)]
    waits = Waits(clock)
    shared = limits(clock, waits)
    home = GreengrassV2Deployments(client("greengrassv2", shared), client("iot", shared))

    # When each is read at home, and a client in another region calls as often meanwhile
    away = client("greengrassv2", shared, region="eu-west-1")
    for deployment_id in ids:
        home.snapshot(deployment_id)
        away.get_deployment(deploymentId=deployment_id)  # one fleet answers every region here

    # Then nothing was throttled, and the calls waited as three calls of one operation do: each
    # operation and region kept a rate of its own rather than sharing one
    assert throttles(fleet) == 0
    assert waits.total == pytest.approx(2 / SERVICE_RATE)


def test_a_rate_set_above_the_services_is_lowered_by_the_throttles_it_meets(
    fleet: FleetFake, clock: Clock, no_retry_delay: None
) -> None:
    # Given a limiter set to four times the service's rate, and calls retried up to three times
    fleet.add(LIFE, "dep-1")
    waits = Waits(clock)
    rate_limits = limits(clock, waits, rate=4 * SERVICE_RATE)
    held = client("greengrassv2", rate_limits, THREE_ATTEMPTS)

    # When it calls twenty times in a row
    for _ in range(20):
        held.get_deployment(deploymentId="dep-1")

    # Then it met throttles and lowered its rate below the one it was set to; every call succeeded
    bucket = rate_limits.bucket("us-east-1", "greengrassv2", "GetDeployment")
    assert bucket is not None and bucket.rate < 4 * SERVICE_RATE
    assert throttles(fleet) > 0
    first_half = sum(1 for c in fleet.calls[: len(fleet.calls) // 2] if c.fault == "throttle")
    assert throttles(fleet) - first_half <= first_half


@pytest.mark.usefixtures("app_environment")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_poller_holds_every_polled_api_to_its_rate_setting_and_no_poll_fails(
    monkeypatch: pytest.MonkeyPatch, deployments_table: str, lambda_context: LambdaContext
) -> None:
    # Given six tracked fleet deployments, a simulator allowing 1 call a second per API after a burst
    # of 2 (on the real clock: the handler builds its own limiter), and rates of 0.9/s set
    fleet = FleetFake()
    ids = [fleet.add(LIFE) for _ in range(6)]
    for deployment_id in ids:
        DynamoDeploymentRepository(deployments_table).track(
            DeploymentKind.GREENGRASS_V2, deployment_id, tracked_by="test", now=START
        )
    monkeypatch.setenv("RATE_GET_DEPLOYMENT", "0.9")
    monkeypatch.setenv("RATE_DESCRIBE_JOB", "0.9")
    # at most as many in flight as the longest token wait serves at that rate (4 s x 0.9/s)
    monkeypatch.setenv("POLL_CONCURRENCY", "2")
    with FleetFakeServer(fleet, pacing=Pacing(rate_limit=1, burst=2)) as server:
        for service in ("GREENGRASSV2", "IOT"):
            monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", server.endpoint_url)

        # When the poller runs (unheld, it asks several times a second: some polls would fail)
        summary = load_handler("poller").lambda_handler({}, lambda_context)

    # Then every deployment was polled, none failed, and the simulator throttled nothing
    assert (summary["polled"], summary["failed"]) == (6, 0)
    assert [c.operation for c in fleet.calls].count("GetDeployment") == 6
    assert throttles(fleet) == 0
