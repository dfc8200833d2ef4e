"""The Greengrass V2 adapter against the fleet fake over HTTP: the facts it reads, its bounds, and
errors in ggwatch's own words."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config

from ggwatch.adapters.greengrass_v2 import (
    MAX_CALLS_PER_SNAPSHOT,
    MAX_FAILED_DEVICES,
    REASON_NOT_READ,
    DeviceCounts,
    FailedDevice,
    GreengrassV2Deployments,
)
from ggwatch.exceptions import (
    DeadlineReachedError,
    DeploymentNotFoundError,
    SourceThrottledError,
    SourceUnavailableError,
)
from ggwatch.ports import Deadline
from ggwatch_local.greengrass import TRUNCATED_BODY, Fault
from ggwatch_local.greengrass_v2 import (
    DeviceFailure,
    Execution,
    FleetFake,
    FleetLife,
    FleetStep,
    Target,
    faults,
    lives,
)
from tests.clock import Clock
from tests.integration.conftest import rollout_at_its_end

FAST_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 2})
GROUP = Target("thinggroup", "line-1")
GONE = Fault("server_error", http_status=404, error_code="ResourceNotFoundException", message="gone")
"""What either service answers about a resource deleted since the previous call."""


@pytest.fixture
def source(fleet: FleetFake) -> GreengrassV2Deployments:
    """Built the ordinary way: the clients find the fake through the endpoint variables."""
    return GreengrassV2Deployments()


@pytest.fixture
def fast_source(fleet: FleetFake, no_retry_delay: None) -> GreengrassV2Deployments:
    """Two attempts per call, no backoff: faults that outlast the retries cost milliseconds."""
    return GreengrassV2Deployments(
        boto3.client("greengrassv2", config=FAST_RETRIES), boto3.client("iot", config=FAST_RETRIES)
    )


def group_life(*executions: Execution) -> FleetLife:
    return FleetLife("telemetry", GROUP, (FleetStep("ACTIVE", "IN_PROGRESS", executions),))


def calls(fleet: FleetFake) -> list[str]:
    return [c.operation for c in fleet.calls]


def test_a_rollout_with_three_failures_reads_every_fact_and_the_failed_devices_newest_first(
    fleet: FleetFake, fleet_clock: Clock, source: GreengrassV2Deployments
) -> None:
    # Given the 50-device rollout, moved on a minute per step so each failure has its own time
    created = fleet_clock()
    deployment_id = rollout_at_its_end(fleet, fleet_clock)

    # When the adapter reads it
    snapshot = source.snapshot(deployment_id)

    # Then the deployment's facts, the job's counts and the three failures with their reasons arrive
    view = fleet.get(deployment_id)
    assert snapshot.deployment_id == deployment_id
    assert snapshot.deployment_status == "ACTIVE"
    assert snapshot.deployment_name == "telemetry-2.1.0"
    assert snapshot.target_arn == "arn:aws:iot:us-east-1:123456789012:thinggroup/plant-a"
    assert snapshot.revision_id == "1"
    assert snapshot.iot_job_id == view.job_id
    assert snapshot.created_at == created and snapshot.created_at.tzinfo == UTC
    assert snapshot.is_latest_for_target is True
    assert snapshot.tags == {"team": "edge"}
    assert snapshot.job_status == "IN_PROGRESS"
    assert snapshot.counts == DeviceCounts(succeeded=47, failed=3)
    assert snapshot.deployment_arn == f"arn:aws:greengrass:us-east-1:123456789012:deployments:{deployment_id}"
    assert snapshot.failed_devices == (
        FailedDevice(
            "plant-a-042", "FAILED", "PERMISSION_ERROR", lives.S3_ACCESS_DENIED.reason, fleet_clock()
        ),
        FailedDevice(
            "plant-a-024",
            "FAILED",
            "USER_COMPONENT_ERROR",
            lives.INSTALL_SCRIPT_FAILED.reason,
            datetime.fromtimestamp(fleet_clock.epoch() - 60, UTC),
        ),
        FailedDevice(
            "plant-a-008",
            "FAILED",
            "DEVICE_ERROR",
            lives.DISK_FULL.reason,
            datetime.fromtimestamp(fleet_clock.epoch() - 120, UTC),
        ),
    )


def test_counts_carry_the_notification_names() -> None:
    counts = DeviceCounts(
        queued=1, in_progress=2, succeeded=3, failed=4, rejected=5, timed_out=6, canceled=7, removed=8
    )
    assert counts.as_metrics() == {
        "queued": 1,
        "inProgress": 2,
        "succeeded": 3,
        "failed": 4,
        "rejected": 5,
        "timedOut": 6,
        "canceled": 7,
        "removed": 8,
    }
    assert counts.failures == 15


def test_a_healthy_rollout_costs_two_calls(fleet: FleetFake, source: GreengrassV2Deployments) -> None:
    deployment_id = fleet.add(lives.single_device())
    snapshot = source.snapshot(deployment_id)
    assert snapshot.counts == DeviceCounts(queued=1)
    assert snapshot.failed_devices == ()
    assert calls(fleet) == ["GetDeployment", "DescribeJob"]


def test_each_failed_status_is_listed_and_a_device_without_error_types_gets_its_status_as_code(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    deployment_id = fleet.add(
        group_life(
            Execution("a", "REJECTED", DeviceFailure("Nucleus version is too old.")),
            Execution("b", "TIMED_OUT"),
            Execution("c", "SUCCEEDED"),
        )
    )
    snapshot = source.snapshot(deployment_id)
    assert {(d.thing_name, d.status, d.code, d.message) for d in snapshot.failed_devices} == {
        ("a", "REJECTED", "REJECTED", "Nucleus version is too old."),
        ("b", "TIMED_OUT", "TIMED_OUT", None),
    }
    assert calls(fleet).count("ListJobExecutionsForJob") == 2  # FAILED has no device: not asked


def test_failed_devices_are_bounded_and_so_are_the_reason_lookups(
    fleet: FleetFake, fleet_clock: Clock, source: GreengrassV2Deployments
) -> None:
    # Given 30 devices that failed one after the other
    names = [f"gw-{i:02d}" for i in range(30)]
    steps = [
        FleetStep("ACTIVE", "IN_PROGRESS", tuple(Execution(n, "QUEUED") for n in names)),
        *(
            FleetStep(
                "ACTIVE", "IN_PROGRESS", (Execution(n, "FAILED", DeviceFailure(f"{n} broke", (), ("X",))),)
            )
            for n in names
        ),
    ]
    deployment_id = fleet.add(FleetLife("big", GROUP, tuple(steps)))
    for _ in names:
        fleet_clock.advance(1)
        fleet.advance(deployment_id)

    # When it is read
    snapshot = source.snapshot(deployment_id)

    # Then the 25 newest are named, each with its reason, at one lookup each
    assert [d.thing_name for d in snapshot.failed_devices] == names[::-1][:MAX_FAILED_DEVICES]
    assert all(d.message == f"{d.thing_name} broke" for d in snapshot.failed_devices)
    assert calls(fleet).count("ListEffectiveDeployments") == MAX_FAILED_DEVICES
    fleet.clear_calls()
    assert len(GreengrassV2Deployments(max_failed_devices=2).snapshot(deployment_id).failed_devices) == 2
    assert calls(fleet).count("ListEffectiveDeployments") == 2


def test_a_device_reason_is_read_once_per_failure_not_on_every_poll(
    fleet: FleetFake, fleet_clock: Clock, source: GreengrassV2Deployments
) -> None:
    # Given a continuous deployment with one failed device, polled once
    first = Execution("gw-1", "FAILED", DeviceFailure("gw-1 broke", (), ("X",)))
    second = Execution("gw-2", "FAILED", DeviceFailure("gw-2 broke", (), ("X",)))
    life = FleetLife(
        "line",
        GROUP,
        (FleetStep("ACTIVE", "IN_PROGRESS", (first,)), FleetStep("ACTIVE", "IN_PROGRESS", (first, second))),
    )
    deployment_id = fleet.add(life)
    assert [d.message for d in source.snapshot(deployment_id).failed_devices] == ["gw-1 broke"]
    fleet.clear_calls()

    # When it is polled again with nothing changed
    again = source.snapshot(deployment_id)

    # Then the device's reason comes without asking the device again
    assert [d.message for d in again.failed_devices] == ["gw-1 broke"]
    assert "ListEffectiveDeployments" not in calls(fleet)

    # And a device that fails later is the only one looked up
    fleet_clock.advance(1)
    fleet.advance(deployment_id)
    fleet.clear_calls()
    assert [d.message for d in source.snapshot(deployment_id).failed_devices] == ["gw-2 broke", "gw-1 broke"]
    assert calls(fleet).count("ListEffectiveDeployments") == 1


def refuse_after(calls: int, *, partial: bool = False) -> Deadline:
    """A run with time for `calls` of the calls an answer can do without, then none."""
    allowed = iter([True] * calls)
    return Deadline(lambda: next(allowed, False), partial=partial)


def failed_group(devices: int) -> FleetLife:
    return group_life(
        *(Execution(f"gw-{i}", "FAILED", DeviceFailure(f"gw-{i} broke", (), ("X",))) for i in range(devices))
    )


def test_the_calls_for_failed_devices_wait_for_the_run_to_allow_them_and_reasons_read_are_kept(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    # Given a deployment with 10 failed devices, and a run with time for 5 of the calls after
    # GetDeployment and DescribeJob (which every answer needs): a page of executions, 4 reasons
    deployment_id = fleet.add(failed_group(10))

    # When the adapter reads it, the run's deadline refuses the sixth
    with pytest.raises(DeadlineReachedError, match="ListEffectiveDeployments"):
        source.snapshot(deployment_id, refuse_after(5))

    # Then no call was made past what was allowed
    assert calls(fleet) == [
        "GetDeployment",
        "DescribeJob",
        "ListJobExecutionsForJob",
        *["ListEffectiveDeployments"] * 4,
    ]

    # And the next run asks only the 6 devices whose reason it has not read yet
    fleet.clear_calls()
    snapshot = source.snapshot(deployment_id, Deadline(lambda: True))
    assert calls(fleet).count("ListEffectiveDeployments") == 6
    assert all(d.message == f"{d.thing_name} broke" for d in snapshot.failed_devices)


def test_a_partial_answer_names_every_failed_device_and_says_which_reasons_it_did_not_read(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    deployment_id = fleet.add(failed_group(10))

    # When a run that may answer in part has time for the page of executions and 4 reasons
    snapshot = source.snapshot(deployment_id, refuse_after(5, partial=True))

    # Then all 10 devices are named, 4 with their reasons, 6 saying theirs was not read
    messages = [d.message for d in snapshot.failed_devices]
    assert len(messages) == 10 and messages.count(REASON_NOT_READ) == 6
    assert calls(fleet).count("ListEffectiveDeployments") == 4
    # And the reasons not read are asked on the next poll, not remembered as read
    fleet.clear_calls()
    assert REASON_NOT_READ not in [d.message for d in source.snapshot(deployment_id).failed_devices]
    assert calls(fleet).count("ListEffectiveDeployments") == 6


def test_failed_executions_are_read_a_page_at_a_time_each_page_only_if_the_run_allows_it(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    # Given 260 failed devices: two pages of ListJobExecutionsForJob (250 a page)
    deployment_id = fleet.add(group_life(*(Execution(f"gw-{i:03d}", "FAILED") for i in range(260))))

    with pytest.raises(DeadlineReachedError, match="ListJobExecutionsForJob"):
        source.snapshot(deployment_id, refuse_after(1))  # the first page, not the second
    assert calls(fleet) == ["GetDeployment", "DescribeJob", "ListJobExecutionsForJob"]

    # With time, both pages are read and the newest failures named
    fleet.clear_calls()
    assert len(source.snapshot(deployment_id).failed_devices) == MAX_FAILED_DEVICES
    assert calls(fleet).count("ListJobExecutionsForJob") == 2


def test_failed_executions_are_listed_again_only_when_a_failed_count_changes(
    fleet: FleetFake, fleet_clock: Clock, source: GreengrassV2Deployments
) -> None:
    # Given a settled rollout with a failed, a rejected and a timed-out device, read once
    first = Execution("gw-1", "FAILED", DeviceFailure("gw-1 broke", (), ("X",)))
    others = (Execution("gw-2", "REJECTED"), Execution("gw-3", "TIMED_OUT"))
    later = Execution("gw-4", "FAILED", DeviceFailure("gw-4 broke", (), ("X",)))
    life = FleetLife(
        "line",
        GROUP,
        (
            FleetStep("ACTIVE", "IN_PROGRESS", (first, *others)),
            FleetStep("ACTIVE", "IN_PROGRESS", (first, *others, later)),
        ),
    )
    deployment_id = fleet.add(life)
    read = source.snapshot(deployment_id).failed_devices
    assert len(read) == 3 and calls(fleet).count("ListJobExecutionsForJob") == 3  # one per failed status
    fleet.clear_calls()

    # When it is polled again with the counts unchanged
    again = source.snapshot(deployment_id)

    # Then it costs its two calls, and names the same devices with their reasons
    assert calls(fleet) == ["GetDeployment", "DescribeJob"]
    assert again.failed_devices == read

    # And once another device fails, the failures are listed again and the new one named first
    fleet_clock.advance(1)
    fleet.advance(deployment_id)
    fleet.clear_calls()
    newest = source.snapshot(deployment_id).failed_devices
    assert (newest[0].thing_name, newest[0].message, newest[1:]) == ("gw-4", "gw-4 broke", read)
    assert calls(fleet).count("ListJobExecutionsForJob") == 3


def test_a_failed_executions_list_cut_short_by_the_deadline_is_listed_again(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    deployment_id = fleet.add(group_life(Execution("gw-1", "FAILED"), Execution("gw-2", "REJECTED")))
    # A partial answer with time for the FAILED page only
    assert [
        d.thing_name for d in source.snapshot(deployment_id, refuse_after(1, partial=True)).failed_devices
    ] == ["gw-1"]
    fleet.clear_calls()
    # The next poll lists both statuses again, and names both devices
    assert {d.thing_name for d in source.snapshot(deployment_id).failed_devices} == {"gw-1", "gw-2"}
    assert calls(fleet).count("ListJobExecutionsForJob") == 2


def test_the_worst_case_snapshot_stays_within_its_call_budget(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    statuses = ("FAILED", "REJECTED", "TIMED_OUT")
    deployment_id = fleet.add(group_life(*(Execution(f"gw-{i:02d}", statuses[i % 3]) for i in range(40))))  # type: ignore[arg-type]
    assert len(source.snapshot(deployment_id).failed_devices) == MAX_FAILED_DEVICES
    assert set(calls(fleet)) == {
        "GetDeployment",
        "DescribeJob",
        "ListJobExecutionsForJob",
        "ListEffectiveDeployments",
    }
    assert len(fleet.calls) <= MAX_CALLS_PER_SNAPSHOT


def test_unknown_deployment_is_deployment_not_found(source: GreengrassV2Deployments) -> None:
    with pytest.raises(DeploymentNotFoundError, match="not found"):
        source.snapshot("no-such-deployment")


def test_a_deployment_without_a_job_yet_has_no_counts_and_asks_iot_nothing(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    deployment_id = fleet.add(FleetLife("new", GROUP, (FleetStep("ACTIVE", None),)))
    snapshot = source.snapshot(deployment_id)
    assert (snapshot.iot_job_id, snapshot.counts, snapshot.job_status) == (None, None, None)
    assert calls(fleet) == ["GetDeployment"]


def test_a_deleted_job_leaves_the_deployment_readable_without_counts(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    deployment_id = fleet.add(group_life(Execution("a", "FAILED")))
    fleet.delete_job(deployment_id)
    snapshot = source.snapshot(deployment_id)
    assert snapshot.deployment_status == "ACTIVE"
    assert snapshot.iot_job_id is not None
    assert (snapshot.counts, snapshot.failed_devices) == (None, ())


def test_a_job_deleted_between_two_calls_leaves_no_failed_devices(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    deployment_id = fleet.add(group_life(Execution("a", "FAILED")))
    fleet.inject(GONE, operation="ListJobExecutionsForJob")
    snapshot = source.snapshot(deployment_id)
    assert (snapshot.counts, snapshot.failed_devices) == (DeviceCounts(failed=1), ())


def test_a_device_whose_effective_deployments_are_gone_is_still_named(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    deployment_id = fleet.add(group_life(Execution("a", "FAILED", DeviceFailure("boom", (), ("E",)))))
    fleet.inject(GONE, operation="ListEffectiveDeployments")
    (device,) = source.snapshot(deployment_id).failed_devices
    assert (device.thing_name, device.code, device.message) == ("a", "FAILED", None)


def test_a_replaced_revision_reads_inactive_and_not_latest(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    old = fleet.add(lives.continuous_replaced())
    for _ in range(4):
        fleet.advance(old)
    snapshot = source.snapshot(old)
    assert (snapshot.deployment_status, snapshot.is_latest_for_target, snapshot.job_status) == (
        "INACTIVE",
        False,
        "CANCELED",
    )


@pytest.mark.parametrize(
    ("fault", "operation"),
    [
        (faults.throttling("greengrassv2"), "GetDeployment"),
        (faults.throttling("iot"), "DescribeJob"),
        (faults.throttling("iot"), "ListJobExecutionsForJob"),
        (faults.throttling("greengrassv2"), "ListEffectiveDeployments"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_throttling_that_outlasts_retries_on_any_call_is_source_throttled(
    fleet: FleetFake, fast_source: GreengrassV2Deployments, fault: Fault, operation: str
) -> None:
    deployment_id = fleet.add(group_life(Execution("a", "FAILED")))
    fleet.inject(fault, operation=operation, times=2)  # type: ignore[arg-type]
    with pytest.raises(SourceThrottledError, match="throttled"):
        fast_source.snapshot(deployment_id)


@pytest.mark.parametrize(
    ("fault", "operation"),
    [
        (faults.server_error("greengrassv2"), "GetDeployment"),
        (faults.server_error("iot"), "DescribeJob"),
        (Fault.malformed_body(b'{"deploymentStatus": 7}'), "GetDeployment"),
        (Fault.malformed_body(TRUNCATED_BODY), "GetDeployment"),
        (
            Fault.malformed_body(b'{"job": {"jobProcessDetails": {"numberOfFailedThings": "x"}}}'),
            "DescribeJob",
        ),
        (Fault.drop_connection(), "ListJobExecutionsForJob"),
    ],
    ids=["500", "iot-503", "wrongly-typed", "truncated", "garbled-counts", "dropped"],
)
def test_server_errors_and_garbled_answers_are_source_unavailable(
    fleet: FleetFake, fast_source: GreengrassV2Deployments, fault: Fault, operation: str
) -> None:
    deployment_id = fleet.add(group_life(Execution("a", "FAILED")))
    fleet.inject(fault, operation=operation, times=2)  # type: ignore[arg-type]
    with pytest.raises(SourceUnavailableError):
        fast_source.snapshot(deployment_id)


def test_wrongly_typed_members_are_read_as_absent(fleet: FleetFake, source: GreengrassV2Deployments) -> None:
    deployment_id = fleet.add(group_life())
    garbled = b'{"deploymentStatus": "ACTIVE", "deploymentName": 7, "iotJobId": [], "targetArn": {}}'
    fleet.inject(Fault.malformed_body(garbled), operation="GetDeployment")
    snapshot = source.snapshot(deployment_id)
    assert snapshot.deployment_status == "ACTIVE"
    assert (snapshot.deployment_name, snapshot.iot_job_id, snapshot.target_arn) == (None, None, None)
    assert snapshot.deployment_arn is None


def test_list_deployments_pages_through_the_latest_revision_of_every_target(
    fleet: FleetFake, source: GreengrassV2Deployments
) -> None:
    ids = {
        fleet.add(FleetLife("d", Target("thing", f"gw-{i}"), (FleetStep("ACTIVE", None),))) for i in range(57)
    }
    replaced = fleet.add(group_life())
    latest = fleet.add(group_life())

    listed = {d.deployment_id: d for d in source.list_deployments()}

    assert set(listed) == ids | {latest}
    assert replaced not in listed
    assert listed[latest].deployment_status == "ACTIVE" and listed[latest].is_latest_for_target
    assert calls(fleet).count("ListDeployments") == 2  # 50 a page


def test_list_deployments_failures_are_source_errors(
    fleet: FleetFake, fast_source: GreengrassV2Deployments
) -> None:
    fleet.inject(faults.server_error("greengrassv2"), operation="ListDeployments", times=2)
    with pytest.raises(SourceUnavailableError, match="InternalServerException"):
        list(fast_source.list_deployments())
