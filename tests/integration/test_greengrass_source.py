"""The Greengrass V1 adapter against the fake over HTTP: parsing, and errors in ggwatch's own words."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from ggwatch.adapters.greengrass_v1 import GreengrassV1BulkSource
from ggwatch.domain.models import ErrorDetail, Metrics
from ggwatch.exceptions import DeploymentNotFoundError, SourceThrottledError, SourceUnavailableError
from ggwatch_local.greengrass import BulkDeploymentFake, Fault, Step
from ggwatch_local.greengrass import ErrorDetail as WireErrorDetail
from ggwatch_local.greengrass.model import TRUNCATED_BODY

FAST_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 2})


@pytest.fixture
def source(greengrass: BulkDeploymentFake) -> GreengrassV1BulkSource:
    return GreengrassV1BulkSource()


def test_every_field_of_the_answer_is_read(
    greengrass: BulkDeploymentFake, source: GreengrassV1BulkSource
) -> None:
    greengrass.add(
        "bd-1",
        [
            Step(
                "Failed",
                records_processed=7,
                invalid_input_records=2,
                retry_attempts=3,
                error_message="boom",
                error_details=[WireErrorDetail("E1", "first"), WireErrorDetail("E2", "second")],
            )
        ],
        tags={"team": "iot"},
    )
    observation = source.get_status("bd-1")
    assert observation.status == "Failed"
    assert observation.metrics == Metrics(
        {"recordsProcessed": 7, "invalidInputRecords": 2, "retryAttempts": 3}
    )
    assert observation.error_message == "boom"
    assert observation.error_details == (
        ErrorDetail(code="E1", message="first"),
        ErrorDetail(code="E2", message="second"),
    )
    assert observation.tags == {"team": "iot"}
    assert observation.created_at is not None
    assert source.region == "us-east-1"


def test_unknown_id_is_deployment_not_found_with_the_api_message(source: GreengrassV1BulkSource) -> None:
    with pytest.raises(DeploymentNotFoundError, match="does not exist"):
        source.get_status("no-such-deployment")


def test_throttling_that_outlasts_retries_is_source_throttled(greengrass: BulkDeploymentFake) -> None:
    greengrass.add("bd-1", [Step("Running")])
    greengrass.inject(Fault.throttle(), operation="GetBulkDeploymentStatus", times=5)
    client = boto3.client("greengrass", config=FAST_RETRIES)
    with pytest.raises(SourceThrottledError):
        GreengrassV1BulkSource(client).get_status("bd-1")


def test_a_short_throttling_burst_is_absorbed_by_sdk_retries(
    greengrass: BulkDeploymentFake, source: GreengrassV1BulkSource
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    greengrass.inject(Fault.throttle(), operation="GetBulkDeploymentStatus", times=2)
    assert source.get_status("bd-1").status == "Running"


@pytest.mark.parametrize(
    "fault",
    [
        Fault.server_error(),
        Fault.malformed_body(),
        Fault.malformed_body(TRUNCATED_BODY),
        Fault.drop_connection(),
    ],
    ids=["500", "wrongly-typed", "truncated", "dropped"],
)
def test_server_errors_and_garbled_answers_are_source_unavailable(
    greengrass: BulkDeploymentFake, fault: Fault
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    greengrass.inject(fault, operation="GetBulkDeploymentStatus", times=5)
    client = boto3.client("greengrass", config=FAST_RETRIES)
    with pytest.raises(SourceUnavailableError):
        GreengrassV1BulkSource(client).get_status("bd-1")


def test_list_deployments_pages_through_everything(
    greengrass: BulkDeploymentFake, source: GreengrassV1BulkSource
) -> None:
    ids = {greengrass.add(f"bd-{i}", [Step("Running")]) for i in range(23)}
    listed = list(source.list_deployments())
    assert {d.deployment_id for d in listed} == ids
    assert all(d.deployment_arn and d.deployment_arn.endswith(d.deployment_id) for d in listed)
