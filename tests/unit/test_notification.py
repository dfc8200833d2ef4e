"""The SNS message body and attributes, and the size guard."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ggwatch.domain.notification import (
    SNS_MAX_BYTES,
    Notification,
    NotificationErrorDetail,
    fit_to_size,
)
from tests.factories import notification


def test_message_attributes_omit_a_null_previous_status() -> None:
    assert notification().message_attributes() == {
        "eventType": "DeploymentStatusChange",
        "deploymentKind": "greengrass-v1-bulk",
        "deploymentId": "bd-1",
        "status": "Initializing",
    }


def test_message_attributes_include_previous_status_when_known() -> None:
    assert notification(previous_status="Running").message_attributes()["previousStatus"] == "Running"


def test_body_keeps_null_fields_so_consumers_see_every_key() -> None:
    body = json.loads(notification().to_json())
    assert body["previousStatus"] is None
    assert body["errorMessage"] is None
    assert body["deploymentArn"] is None


def test_parsing_ignores_fields_added_by_newer_producers() -> None:
    body = json.loads(notification().to_json()) | {"somethingNew": 1}
    assert Notification.model_validate(body) == notification()


def test_small_notifications_are_not_touched() -> None:
    original = notification(error_message="fine")
    assert fit_to_size(original) is original


def test_huge_error_texts_are_truncated_with_a_marker_to_fit_sns() -> None:
    huge = notification(
        status="Failed",
        error_message="e" * 400_000,
        error_details=tuple(NotificationErrorDetail(code="C", message="d" * 5_000) for _ in range(200)),
    )
    fitted = fit_to_size(huge)
    assert len(fitted.to_json().encode()) < SNS_MAX_BYTES
    assert fitted.truncated
    assert fitted.error_message is not None
    assert fitted.error_message.endswith("[truncated by ggwatch]")
    assert fitted.status == "Failed"


@settings(max_examples=30, deadline=None)
@given(
    message=st.text(min_size=0, max_size=300_000),
    details=st.lists(st.text(max_size=20_000), max_size=40),
)
def test_any_error_text_fits_after_fitting(message: str, details: list[str]) -> None:
    fitted = fit_to_size(
        notification(
            error_message=message,
            error_details=tuple(NotificationErrorDetail(code="c", message=d) for d in details),
        )
    )
    assert len(fitted.to_json().encode()) <= SNS_MAX_BYTES
