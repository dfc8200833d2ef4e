"""Greengrass V2 as a deployment source: what the poller gets for a fleet deployment, from the fleet
fake over HTTP, and from snapshots the fake cannot produce (garbled, or more failures than it names)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ggwatch.adapters.greengrass_v2 import FailedDevice, V2DeploymentSnapshot
from ggwatch.adapters.greengrass_v2_source import GreengrassV2Source, observation_from_snapshot
from ggwatch.domain.models import V2_DEVICE_COUNTERS, DeploymentKind, ErrorDetail, Metrics
from ggwatch.exceptions import DeploymentNotFoundError, SourceUnavailableError
from ggwatch.ports import DeploymentSource, DeploymentSummary
from ggwatch_local.greengrass_v2 import FleetFake, FleetLife, FleetStep, Target, lives
from tests.clock import Clock
from tests.integration.conftest import rollout_at_its_end

ACCOUNT_ARN = "arn:aws:greengrass:us-east-1:123456789012"


@pytest.fixture
def source(fleet: FleetFake) -> GreengrassV2Source:
    """Built the ordinary way; typed as the port, so mypy checks that it is one."""
    return GreengrassV2Source()


def test_a_rollout_with_three_failures_is_observed_with_its_counts_devices_and_facts(
    fleet: FleetFake, fleet_clock: Clock, source: GreengrassV2Source
) -> None:
    # Given the 50-device rollout at its end, a minute between its steps
    created = fleet_clock()
    deployment_id = rollout_at_its_end(fleet, fleet_clock)

    # When the source is asked
    port: DeploymentSource = source
    observation = port.get_status(deployment_id)

    # Then the notification's facts are there, in ggwatch's words
    view = fleet.get(deployment_id)
    assert (port.kind, port.region) == (DeploymentKind.GREENGRASS_V2, "us-east-1")
    assert observation.kind is DeploymentKind.GREENGRASS_V2
    assert observation.status == "ACTIVE"
    assert observation.metrics.root == {
        "queued": 0,
        "inProgress": 0,
        "succeeded": 47,
        "failed": 3,
        "rejected": 0,
        "timedOut": 0,
        "canceled": 0,
        "removed": 0,
    }
    assert observation.deployment_arn == f"{ACCOUNT_ARN}:deployments:{deployment_id}"
    assert observation.deployment_name == "telemetry-2.1.0"
    assert observation.target_arn == "arn:aws:iot:us-east-1:123456789012:thinggroup/plant-a"
    assert (observation.revision_id, observation.job_id) == ("1", view.job_id)
    assert observation.created_at == created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert observation.tags == {"team": "edge"}
    # the failed devices, newest first, each with its first error type and its reason
    assert observation.error_details == (
        ErrorDetail(code="PERMISSION_ERROR", message=lives.S3_ACCESS_DENIED.reason, thing_name="plant-a-042"),
        ErrorDetail(
            code="USER_COMPONENT_ERROR", message=lives.INSTALL_SCRIPT_FAILED.reason, thing_name="plant-a-024"
        ),
        ErrorDetail(code="DEVICE_ERROR", message=lives.DISK_FULL.reason, thing_name="plant-a-008"),
    )
    assert observation.error_message == (
        "3 of 50 devices failed: "
        f"plant-a-042 (PERMISSION_ERROR: {lives.S3_ACCESS_DENIED.reason}), "
        f"plant-a-024 (USER_COMPONENT_ERROR: {lives.INSTALL_SCRIPT_FAILED.reason}), "
        f"plant-a-008 (DEVICE_ERROR: {lives.DISK_FULL.reason})"
    )


def test_a_deployment_without_a_job_yet_counts_zero_devices_and_no_error(
    fleet: FleetFake, source: GreengrassV2Source
) -> None:
    deployment_id = fleet.add(FleetLife("new", Target("thing", "gw-1"), (FleetStep("ACTIVE", None),)))
    observation = source.get_status(deployment_id)
    assert observation.metrics == Metrics.zero(DeploymentKind.GREENGRASS_V2)
    assert tuple(observation.metrics.root) == V2_DEVICE_COUNTERS
    assert (observation.job_id, observation.error_message, observation.error_details) == (None, None, ())


def test_an_unknown_deployment_is_deployment_not_found(source: GreengrassV2Source) -> None:
    with pytest.raises(DeploymentNotFoundError):
        source.get_status("no-such-deployment")


def test_list_deployments_names_the_latest_revisions_with_their_arns_and_creation_times(
    fleet: FleetFake, fleet_clock: Clock, source: GreengrassV2Source
) -> None:
    replaced = fleet.add(lives.single_device())
    fleet_clock.advance(90)
    latest = fleet.add(lives.single_device())
    group = fleet.add(lives.canceled())

    listed = {summary.deployment_id: summary for summary in source.list_deployments()}

    assert set(listed) == {latest, group}
    assert replaced not in listed
    assert listed[latest] == DeploymentSummary(
        kind=DeploymentKind.GREENGRASS_V2,
        deployment_id=latest,
        deployment_arn=f"{ACCOUNT_ARN}:deployments:{latest}",
        created_at=fleet_clock().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )


# ---------------------------------------------------------------- snapshots the fake does not produce


def snapshot(**fields: object) -> V2DeploymentSnapshot:
    base: dict[str, object] = {
        "deployment_id": "d-1",
        "deployment_status": "ACTIVE",
        "deployment_name": None,
        "target_arn": None,
        "revision_id": None,
        "iot_job_id": None,
        "created_at": datetime(2026, 11, 28, 12, 0, 0, 474_999, tzinfo=UTC),
        "is_latest_for_target": True,
    }
    return V2DeploymentSnapshot(**{**base, **fields})  # type: ignore[arg-type]


def test_creation_time_is_written_as_greengrass_writes_it() -> None:
    assert observation_from_snapshot(snapshot()).created_at == "2026-11-28T12:00:00.474Z"
    assert observation_from_snapshot(snapshot(created_at=None)).created_at is None


def test_at_most_25_failed_devices_are_named_and_the_summary_counts_the_others() -> None:
    from ggwatch.adapters.greengrass_v2 import DeviceCounts

    failed = tuple(FailedDevice(f"gw-{i:02d}", "FAILED", "FAILED", None, None) for i in range(30))
    observation = observation_from_snapshot(
        snapshot(counts=DeviceCounts(succeeded=10, failed=40), failed_devices=failed)
    )
    assert [d.thing_name for d in observation.error_details] == [f"gw-{i:02d}" for i in range(25)]
    assert observation.error_message is not None
    assert observation.error_message.startswith("40 of 50 devices failed: gw-00 (FAILED), gw-01 (FAILED)")
    assert observation.error_message.endswith("gw-24 (FAILED), and 15 more")


def test_a_garbled_status_is_source_unavailable_not_a_crash() -> None:
    with pytest.raises(SourceUnavailableError, match="d-1 returned a garbled answer"):
        observation_from_snapshot(snapshot(deployment_status="A" * 500))
