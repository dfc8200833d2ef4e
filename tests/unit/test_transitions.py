"""Pure transition rules: what is notified, what is only stored, and the stable transition ID."""

from datetime import UTC, datetime

import pytest

from ggwatch.domain.models import (
    TRACKING_FAILED,
    DeploymentKind,
    ErrorDetail,
    Metrics,
    Observation,
    TrackedDeployment,
)
from ggwatch.domain.transitions import (
    MAX_ERROR_CODE_BYTES,
    MAX_ERROR_DETAILS,
    MAX_ERROR_MESSAGE_BYTES,
    assess,
    bounded,
    build_notification,
    tracking_failure,
    transition_id,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KIND = DeploymentKind.GREENGRASS_V1_BULK


def stored(**fields: object) -> TrackedDeployment:
    return TrackedDeployment.model_validate(
        {"kind": KIND, "deployment_id": "bd-1", "tracked_at": NOW, "version": 3, **fields}
    )


def observed(status: str = "Running", **fields: object) -> Observation:
    return Observation.model_validate({"kind": KIND, "deployment_id": "bd-1", "status": status, **fields})


def test_first_observation_is_a_status_transition_from_null() -> None:
    # Given a deployment never observed, When it is seen Initializing
    result = assess(stored(), observed("Initializing"))
    # Then a status notification is due
    assert result.changes == ("status",)
    assert result.notify and result.state_changed


def test_first_observation_with_errors_reports_both_changes() -> None:
    result = assess(stored(), observed("Failed", error_message="boom"))
    assert result.changes == ("status", "errors")


def test_same_status_and_errors_is_no_change() -> None:
    state = stored(status="Running", metrics=Metrics({"recordsProcessed": 2}))
    result = assess(state, observed("Running", metrics=Metrics({"recordsProcessed": 2})))
    assert not result.notify
    assert not result.state_changed


def test_metrics_only_change_is_stored_not_notified() -> None:
    result = assess(stored(status="Running"), observed("Running", metrics=Metrics({"recordsProcessed": 9})))
    assert not result.notify
    assert result.state_changed


def test_error_change_under_same_status_is_notified_as_errors() -> None:
    before = stored(status="Running", error_details=(ErrorDetail(code="A", message="a"),))
    result = assess(before, observed("Running", error_details=(ErrorDetail(code="B", message="b"),)))
    assert result.changes == ("errors",)


def test_skipped_state_is_one_transition_from_the_stored_status() -> None:
    notification = build_notification(
        stored(status="Initializing"), observed("Completed"), ("status",), observed_at=NOW, region="eu-west-1"
    )
    assert (notification.previous_status, notification.status) == ("Initializing", "Completed")
    assert notification.terminal


def test_transition_id_is_stable_for_the_same_transition_and_differs_otherwise() -> None:
    base = stored(status="Running")
    assert transition_id(base, observed("Completed")) == transition_id(base, observed("Completed"))
    assert transition_id(base, observed("Completed")) != transition_id(base, observed("Failed"))
    moved_on = base.model_copy(update={"version": 4})
    assert transition_id(base, observed("Completed")) != transition_id(moved_on, observed("Completed"))


def test_notification_carries_every_schema_field() -> None:
    observation = observed(
        "Failed",
        metrics=Metrics({"recordsProcessed": 5, "invalidInputRecords": 1, "retryAttempts": 2}),
        error_message="failed",
        error_details=(ErrorDetail(code="E1", message="m1"),),
        created_at="2026-11-28T11:00:00Z",
        tags={"team": "iot"},
    )
    body = build_notification(
        stored(status="Running", deployment_arn="arn:x"),
        observation,
        ("status", "errors"),
        observed_at=NOW,
        region="us-east-1",
    ).model_dump(by_alias=True, mode="json")
    assert body == {
        "schemaVersion": "1",
        "eventType": "DeploymentStatusChange",
        "deploymentKind": "greengrass-v1-bulk",
        "transitionId": body["transitionId"],
        "deploymentId": "bd-1",
        "deploymentArn": "arn:x",
        "region": "us-east-1",
        "previousStatus": "Running",
        "status": "Failed",
        "terminal": True,
        "changes": ["status", "errors"],
        "metrics": {"recordsProcessed": 5, "invalidInputRecords": 1, "retryAttempts": 2},
        "errorMessage": "failed",
        "errorDetails": [{"code": "E1", "message": "m1", "thingName": None}],
        "createdAt": "2026-11-28T11:00:00Z",
        "observedAt": "2026-11-28T12:00:00Z",
        "tags": {"team": "iot"},
        "deploymentName": None,
        "targetArn": None,
        "revisionId": None,
        "jobId": None,
        "stuck": None,
        "progress": None,
        "results": None,
        "truncated": False,
    }
    assert len(body["transitionId"]) == 32


def test_unknown_future_status_is_carried_through_and_not_terminal() -> None:
    notification = build_notification(
        stored(status="Running"), observed("Paused"), ("status",), observed_at=NOW, region=None
    )
    assert notification.status == "Paused"
    assert not notification.terminal


def test_tracking_failure_is_a_terminal_event_of_its_own_kind() -> None:
    failure = tracking_failure(stored(status="Running"), "Bulk deployment bd-1 not found")
    notification = build_notification(
        stored(status="Running"), failure, ("status", "errors"), observed_at=NOW, region=None
    )
    assert failure.status == TRACKING_FAILED
    assert notification.event_type == "DeploymentTrackingFailed"
    assert notification.terminal
    assert notification.error_message == "Bulk deployment bd-1 not found"


@pytest.mark.parametrize("size", [MAX_ERROR_MESSAGE_BYTES + 1, 10 * MAX_ERROR_MESSAGE_BYTES])
def test_bounded_caps_long_error_messages_deterministically(size: int) -> None:
    observation = observed("Failed", error_message="x" * size)
    first, second = bounded(observation), bounded(observation)
    assert first == second
    assert first.error_message is not None
    assert len(first.error_message.encode()) == MAX_ERROR_MESSAGE_BYTES
    assert first.error_message.endswith("[truncated by ggwatch]")


def test_bounded_keeps_a_count_of_hidden_error_details() -> None:
    details = tuple(ErrorDetail(code=str(i), message="m") for i in range(MAX_ERROR_DETAILS + 10))
    result = bounded(observed("Failed", error_details=details))
    assert len(result.error_details) == MAX_ERROR_DETAILS
    assert result.error_details[-1].message == "11 more not shown"


def test_bounded_leaves_ordinary_observations_untouched() -> None:
    observation = observed("Failed", error_message="short")
    assert bounded(observation) is observation


def test_bounded_keeps_each_failed_devices_name_and_caps_it() -> None:
    details = (
        ErrorDetail(code="E", message="m", thing_name="gw-1"),
        ErrorDetail(code="E", message="m", thing_name="g" * 1_000),
    )
    result = bounded(observed("Failed", error_details=details))
    assert result.error_details[0] == details[0]
    assert result.error_details[1].thing_name is not None
    assert len(result.error_details[1].thing_name.encode()) == MAX_ERROR_CODE_BYTES


def test_a_v1_transition_id_is_what_it_always_was() -> None:
    # Pinned: consumers drop copies by this ID, so the same V1 transition keeps its ID across versions.
    observation = observed(
        "Failed",
        error_message="2 groups failed",
        error_details=(
            ErrorDetail(code="GroupNotFound", message="group g-1"),
            ErrorDetail(code=None, message="role"),
        ),
    )
    assert transition_id(stored(status="Running"), observation) == "b260ea49d9bfaa42d1dfb6f48d0962aa"
