"""The simulator's pacing and regions, through real boto3 clients: latency on every answer, each
service's own throttling error above a rate per (region, operation), deployments kept per region.

The token buckets read a test clock, so "over the rate" is exact and nothing waits on real time.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from ggwatch_local.greengrass import BulkDeploymentFake, GreengrassFakeServer, lives
from ggwatch_local.greengrass.__main__ import main as serve_main
from ggwatch_local.greengrass.pacing import Pacing, RateLimits
from ggwatch_local.greengrass.regions import region_of
from ggwatch_local.greengrass_v2 import Execution, FleetFake, FleetFakeServer, FleetLife, FleetStep, Target
from tests.clock import Clock

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
THREE_ATTEMPTS = Config(retries={"mode": "standard", "total_max_attempts": 3})
LIFE = FleetLife(
    "telemetry",
    Target("thinggroup", "line-1"),
    (FleetStep("ACTIVE", "IN_PROGRESS", (Execution("a", "QUEUED"),)),),
)


@pytest.fixture
def bucket_clock() -> Clock:
    return Clock()


@pytest.fixture
def paced(monkeypatch: pytest.MonkeyPatch, bucket_clock: Clock) -> Iterator[FleetFakeServer]:
    """One request a second per (region, operation), no burst, on a clock that moves only when told."""
    pacing = Pacing(rate_limit=1, burst=1, clock=bucket_clock.epoch)
    with FleetFakeServer(FleetFake(), pacing=pacing) as server:
        for service in ("GREENGRASS", "GREENGRASSV2", "IOT"):
            monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", server.endpoint_url)
        yield server


def error_of(info: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, int]:
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_request_over_the_rate_is_throttled_until_the_bucket_refills(
    paced: FleetFakeServer, bucket_clock: Clock
) -> None:
    fleet = paced.fleet
    fleet.add(LIFE, "dep-1")
    gg = boto3.client("greengrassv2", config=NO_RETRIES)

    gg.get_deployment(deploymentId="dep-1")
    with pytest.raises(botocore.exceptions.ClientError) as throttled:
        gg.get_deployment(deploymentId="dep-1")
    assert error_of(throttled) == ("ThrottlingException", 429)
    bucket_clock.advance(0.5)
    with pytest.raises(botocore.exceptions.ClientError):
        gg.get_deployment(deploymentId="dep-1")
    bucket_clock.advance(0.5)
    assert gg.get_deployment(deploymentId="dep-1")["deploymentId"] == "dep-1"
    assert [c.fault for c in fleet.calls] == [None, "throttle", "throttle", None]


@pytest.mark.usefixtures("no_retry_delay")
def test_throttling_surfaces_as_the_services_error_once_botocore_stops_retrying(
    paced: FleetFakeServer,
) -> None:
    fleet = paced.fleet
    fleet.add(LIFE, "dep-1")
    gg = boto3.client("greengrassv2", config=THREE_ATTEMPTS)
    iot = boto3.client("iot", config=THREE_ATTEMPTS)
    job_id = gg.get_deployment(deploymentId="dep-1")["iotJobId"]
    iot.describe_job(jobId=job_id)  # a bucket of its own: GetDeployment's use does not count
    fleet.clear_calls()

    with pytest.raises(gg.exceptions.ThrottlingException) as on_greengrass:
        gg.get_deployment(deploymentId="dep-1")
    with pytest.raises(iot.exceptions.ThrottlingException) as on_iot:
        iot.describe_job(jobId=job_id)

    assert error_of(on_greengrass) == ("ThrottlingException", 429)
    assert error_of(on_iot) == ("ThrottlingException", 400)
    assert [(c.operation, c.fault) for c in fleet.calls] == [("GetDeployment", "throttle")] * 3 + [
        ("DescribeJob", "throttle")
    ] * 3


def test_greengrass_v1_throttles_with_too_many_requests(paced: FleetFakeServer) -> None:
    bulk: BulkDeploymentFake = paced.fake
    deployment_id = bulk.add(life=lives.completes())
    client = boto3.client("greengrass", config=NO_RETRIES)

    client.get_bulk_deployment_status(BulkDeploymentId=deployment_id)
    with pytest.raises(botocore.exceptions.ClientError) as throttled:
        client.get_bulk_deployment_status(BulkDeploymentId=deployment_id)

    assert error_of(throttled) == ("TooManyRequestsException", 429)


def test_each_region_has_a_rate_of_its_own(paced: FleetFakeServer) -> None:
    paced.fleet.add(LIFE, "dep-1")
    home = boto3.client("greengrassv2", config=NO_RETRIES)
    away = boto3.client("greengrassv2", config=NO_RETRIES, region_name="eu-west-1")

    home.get_deployment(deploymentId="dep-1")
    with pytest.raises(home.exceptions.ThrottlingException):
        home.get_deployment(deploymentId="dep-1")
    assert away.get_deployment(deploymentId="dep-1")["deploymentId"] == "dep-1"


def test_a_bucket_lets_a_burst_through_then_holds_to_the_rate() -> None:
    clock = Clock()
    limits = RateLimits(Pacing(rate_limit=2, burst=3, clock=clock.epoch))

    assert [limits.admit("us-east-1", "GetDeployment") for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)
    assert [limits.admit("us-east-1", "GetDeployment") for _ in range(2)] == [True, False]
    clock.advance(60)  # a quiet minute refills only up to the burst
    assert [limits.admit("us-east-1", "GetDeployment") for _ in range(4)] == [True, True, True, False]


def test_without_a_rate_limit_every_request_is_admitted() -> None:
    limits = RateLimits(Pacing())
    assert all(limits.admit("us-east-1", "GetDeployment") for _ in range(1000))


def test_latency_holds_every_answer_back(monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = FleetFake()
    fleet.add(LIFE, "dep-1")
    impatient = Config(read_timeout=1, retries={"mode": "standard", "total_max_attempts": 1})
    with FleetFakeServer(fleet, pacing=Pacing(latency=60)) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASSV2", server.endpoint_url)
        with pytest.raises(botocore.exceptions.ReadTimeoutError):
            boto3.client("greengrassv2", config=impatient).get_deployment(deploymentId="dep-1")


def test_each_region_keeps_its_own_deployments(monkeypatch: pytest.MonkeyPatch) -> None:
    home, ireland = FleetFake(), FleetFake(region="eu-west-1")
    ireland.add(LIFE, "dep-eu")
    bulk_home, bulk_ireland = BulkDeploymentFake(), BulkDeploymentFake()
    bulk_id = bulk_ireland.add(life=lives.completes())
    with (
        FleetFakeServer(home, regions={"eu-west-1": ireland}) as v2,
        GreengrassFakeServer(bulk_home, regions={"eu-west-1": bulk_ireland}) as v1,
    ):
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASSV2", v2.endpoint_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASS", v1.endpoint_url)
        in_ireland = boto3.client("greengrassv2", config=NO_RETRIES, region_name="eu-west-1")
        at_home = boto3.client("greengrassv2", config=NO_RETRIES)

        found = in_ireland.get_deployment(deploymentId="dep-eu")
        with pytest.raises(at_home.exceptions.ResourceNotFoundException):
            at_home.get_deployment(deploymentId="dep-eu")
        v1_ireland = boto3.client("greengrass", config=NO_RETRIES, region_name="eu-west-1")
        v1_home = boto3.client("greengrass", config=NO_RETRIES)
        assert v1_ireland.get_bulk_deployment_status(BulkDeploymentId=bulk_id)["BulkDeploymentStatus"]
        with pytest.raises(botocore.exceptions.ClientError) as not_at_home:
            v1_home.get_bulk_deployment_status(BulkDeploymentId=bulk_id)

    assert found["targetArn"].startswith("arn:aws:iot:eu-west-1:")
    assert error_of(not_at_home) == ("BadRequestException", 400)  # V1's answer to an unknown id
    assert [c.deployment_id for c in ireland.calls] == ["dep-eu"]
    assert [c.deployment_id for c in home.calls] == ["dep-eu"]
    assert [c.deployment_id for c in bulk_ireland.calls] == [bulk_id]


def test_the_region_is_read_from_the_sigv4_credential_scope() -> None:
    signed = (
        "AWS4-HMAC-SHA256 Credential=AKID/20261202/ap-south-1/greengrass/aws4_request, SignedHeaders=host"
    )
    assert region_of({"authorization": signed}) == "ap-south-1"
    assert region_of({}) is None
    assert region_of({"authorization": "Bearer token"}) is None


@pytest.mark.parametrize(
    ("flag", "named"),
    [("--rate-limit=0", "rate_limit"), ("--latency=-1", "latency"), ("--burst=0.5", "burst")],
)
def test_the_server_command_rejects_a_bad_pacing_by_name(
    flag: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        serve_main([flag])
    assert exit_.value.code == 2
    assert named in capsys.readouterr().err
