"""Greengrass V2 transition rules: a new status, more failed devices, a rollout that settled; and what
the notification says about the devices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ggwatch.domain.fleet_rules import MAX_NEW_FAILURES, SUMMARY_MAX_BYTES, failure_summary, settled
from ggwatch.domain.models import DeploymentKind, ErrorDetail, Metrics, Observation, TrackedDeployment
from ggwatch.domain.sizes import utf8_size
from ggwatch.domain.transitions import (
    assess,
    build_notification,
    tracking_failure,
    transition_id,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KIND = DeploymentKind.GREENGRASS_V2


def counts(**values: int) -> Metrics:
    return Metrics(values).for_kind(KIND)


def device(name: str, reason: str = "disk full") -> ErrorDetail:
    return ErrorDetail(code="DEVICE_ERROR", message=reason, thing_name=name)


def stored(status: str | None = "ACTIVE", **fields: object) -> TrackedDeployment:
    return TrackedDeployment.model_validate(
        {"kind": KIND, "deployment_id": "d-1", "tracked_at": NOW, "version": 4, "status": status, **fields}
    )


def observed(status: str = "ACTIVE", **fields: object) -> Observation:
    failed = fields.get("error_details", ())
    metrics = fields.get("metrics", Metrics.zero(KIND))
    assert isinstance(metrics, Metrics) and isinstance(failed, tuple)
    return Observation.model_validate(
        {
            "kind": KIND,
            "deployment_id": "d-1",
            "status": status,
            "error_message": failure_summary(metrics, failed),
            **fields,
        }
    )


def notify(before: TrackedDeployment, now: Observation) -> dict[str, Any]:
    changes = assess(before, now).changes
    body = build_notification(before, now, changes, observed_at=NOW, region="eu-west-1")
    return body.model_dump(by_alias=True, mode="json")


def test_first_observation_of_a_fleet_is_a_status_transition_with_its_device_counts() -> None:
    # Given a tracked deployment never observed, When it is seen rolling out to 50 devices
    body = notify(stored(None), observed(metrics=counts(queued=40, inProgress=10)))
    # Then one status notification with the V2 counters by name, and no errors
    assert body["changes"] == ["status"]
    assert (body["previousStatus"], body["status"], body["terminal"]) == (None, "ACTIVE", False)
    assert body["metrics"] == {
        "queued": 40,
        "inProgress": 10,
        "succeeded": 0,
        "failed": 0,
        "rejected": 0,
        "timedOut": 0,
        "canceled": 0,
        "removed": 0,
    }
    assert (body["errorMessage"], body["errorDetails"]) == (None, [])


def test_more_failed_devices_is_one_errors_notification_naming_only_the_new_ones() -> None:
    # Given one device stored as failed, When two more failed (one rejected) since
    before = stored(metrics=counts(inProgress=47, failed=1, succeeded=2), error_details=(device("a"),))
    now = observed(
        metrics=counts(inProgress=43, failed=2, rejected=1, succeeded=4),
        error_details=(device("c", "too old"), device("b"), device("a")),
    )
    body = notify(before, now)
    # Then one notification: "errors", the two new devices newest first, and a summary of all three
    assert body["changes"] == ["errors"]
    assert body["errorDetails"] == [
        {"code": "DEVICE_ERROR", "message": "too old", "thingName": "c"},
        {"code": "DEVICE_ERROR", "message": "disk full", "thingName": "b"},
    ]
    assert body["errorMessage"] == (
        "3 of 50 devices failed: c (DEVICE_ERROR: too old), b (DEVICE_ERROR: disk full), "
        "a (DEVICE_ERROR: disk full)"
    )


@pytest.mark.parametrize("counter", ["failed", "rejected", "timedOut"])
def test_each_kind_of_failure_counts(counter: str) -> None:
    now = observed(metrics=counts(inProgress=1, **{counter: 1}), error_details=(device("a"),))
    assert assess(stored(metrics=counts(inProgress=2)), now).changes == ("errors",)


def test_a_changed_device_list_without_more_failures_is_stored_not_notified() -> None:
    # Given two devices stored as failed, When the list reorders and a reason is reworded
    before = stored(metrics=counts(inProgress=8, failed=2), error_details=(device("b"), device("a")))
    now = observed(metrics=counts(inProgress=8, failed=2), error_details=(device("a", "retry"), device("b")))
    result = assess(before, now)
    # Then it is stored for the next comparison, and nobody is told
    assert (result.notify, result.state_changed) == (False, True)


def test_fewer_failures_notify_nothing() -> None:
    # A failed device retried by the job's retry policy leaves the failed count
    before = stored(metrics=counts(inProgress=1, failed=2), error_details=(device("b"), device("a")))
    now = observed(metrics=counts(inProgress=2, failed=1), error_details=(device("a"),))
    assert assess(before, now).changes == ()


def test_a_device_already_known_as_failed_is_never_named_again() -> None:
    # Given a stored list that holds only the last notified device (as after a re-published claim),
    # with two failures counted
    before = stored(metrics=counts(failed=2, inProgress=8), error_details=(device("b"),))
    # When a third device fails
    now = observed(
        metrics=counts(failed=3, inProgress=7), error_details=(device("c"), device("b"), device("a"))
    )
    # Then only the one new failure is named: the rise in the count bounds the list
    assert [d["thingName"] for d in notify(before, now)["errorDetails"]] == ["c"]


def test_many_failures_at_once_are_one_notification_naming_at_most_25() -> None:
    failed = tuple(device(f"gw-{i:02d}") for i in range(MAX_NEW_FAILURES))
    now = observed(metrics=counts(failed=40, succeeded=10), error_details=failed)
    body = notify(stored(metrics=counts(queued=50)), now)
    assert body["changes"] == ["errors", "settled"]
    assert len(body["errorDetails"]) == MAX_NEW_FAILURES
    assert str(body["errorMessage"]).endswith(", and 15 more")


def test_a_rollout_that_finished_is_settled_once_until_it_rolls_out_again() -> None:
    rolling = stored(metrics=counts(inProgress=2, succeeded=8))
    done = observed(metrics=counts(succeeded=10))
    # When the last devices finish: "settled"
    assert assess(rolling, done).changes == ("settled",)
    # While it stays settled: nothing
    still = stored(metrics=counts(succeeded=10))
    assert not assess(still, observed(metrics=counts(succeeded=10))).state_changed
    # Devices joining the group are stored, and settle again when they got it
    joining = observed(metrics=counts(succeeded=10, queued=2))
    assert (assess(still, joining).notify, assess(still, joining).state_changed) == (False, True)
    grown = stored(metrics=counts(succeeded=10, queued=2))
    assert assess(grown, observed(metrics=counts(succeeded=12))).changes == ("settled",)


def test_nothing_is_settled_without_a_target() -> None:
    assert not settled(counts())
    assert settled(counts(canceled=3))
    assert not settled(counts(succeeded=3, queued=1))


def test_a_single_device_completing_is_status_and_settled() -> None:
    before = stored(metrics=counts(inProgress=1))
    body = notify(before, observed("COMPLETED", metrics=counts(succeeded=1)))
    assert body["changes"] == ["status", "settled"]
    assert body["terminal"] is True


@pytest.mark.parametrize("status", ["COMPLETED", "CANCELED", "FAILED", "INACTIVE"])
def test_v2_end_states_are_terminal(status: str) -> None:
    assert notify(stored(), observed(status, metrics=counts(queued=1)))["terminal"] is True


def test_an_unknown_v2_deployment_is_reported_once_as_a_tracking_failure() -> None:
    before = stored(metrics=counts(failed=1), error_details=(device("a"),))
    body = notify(before, tracking_failure(before, "Deployment d-1 not found"))
    assert (body["eventType"], body["changes"], body["terminal"]) == (
        "DeploymentTrackingFailed",
        ["status"],
        True,
    )
    assert body["errorMessage"] == "Deployment d-1 not found"


def test_the_failed_device_names_take_part_in_the_transition_id() -> None:
    before = stored(metrics=counts(inProgress=1))
    one = observed(metrics=counts(failed=1), error_details=(device("a"),))
    other = one.model_copy(update={"error_details": (device("b"),)})
    assert transition_id(before, one) == transition_id(before, one.model_copy())
    assert transition_id(before, one) != transition_id(before, other)


def test_the_summary_is_bounded_in_bytes_and_counts_the_devices_it_cannot_name() -> None:
    failed = tuple(device(f"gw-{i}", "😀" * 500) for i in range(25))
    summary = failure_summary(counts(failed=30), failed)
    assert summary is not None and utf8_size(summary) <= SUMMARY_MAX_BYTES
    assert summary.startswith("30 of 30 devices failed: gw-0 (DEVICE_ERROR: 😀")
    assert failure_summary(counts(failed=1), (ErrorDetail(code="REJECTED", thing_name="gw-1"),)) == (
        "1 of 1 device failed: gw-1 (REJECTED)"
    )
    assert failure_summary(counts(failed=2, succeeded=3), ()) == "2 of 5 devices failed"
    assert failure_summary(counts(succeeded=3), ()) is None
