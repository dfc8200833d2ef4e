"""The SNS message body and attributes, and the size guard."""

import json
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ggwatch.domain.models import ErrorDetail
from ggwatch.domain.notification import (
    EVENT_TYPES,
    Notification,
    eventbridge_entry_size,
    fit_to_eventbridge_entry,
    fit_to_size,
    sns_message_size,
)
from ggwatch.domain.sizes import EVENTBRIDGE_ENTRY_MAX_BYTES, SNS_MESSAGE_MAX_BYTES
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


def test_a_failed_device_round_trips_as_thing_name_on_the_wire() -> None:
    # Given a V2 notification whose error detail names a failed device, and a settled rollout
    failed = notification(
        changes=("errors", "settled"),
        error_details=(ErrorDetail(code="FAILED", message="m", thing_name="edge-1"),),
    )

    # When it is published and read back
    body = json.loads(failed.to_json())

    # Then the device is `thingName` in camelCase and survives the round trip
    assert body["errorDetails"] == [{"code": "FAILED", "message": "m", "thingName": "edge-1"}]
    assert body["changes"] == ["errors", "settled"]
    assert Notification.model_validate(body) == failed


def test_fitting_to_size_keeps_the_names_of_failed_devices() -> None:
    huge = notification(
        error_details=tuple(
            ErrorDetail(code="C", message="d" * 5_000, thing_name=f"edge-{i}") for i in range(200)
        )
    )

    fitted = fit_to_size(huge)

    assert fitted.truncated
    assert [d.thing_name for d in fitted.error_details] == [
        f"edge-{i}" for i in range(len(fitted.error_details))
    ]


def test_small_notifications_are_not_touched() -> None:
    original = notification(error_message="fine")
    assert fit_to_size(original) is original


def test_huge_error_texts_are_truncated_with_a_marker_to_fit_sns() -> None:
    huge = notification(
        status="Failed",
        error_message="e" * 400_000,
        error_details=tuple(ErrorDetail(code="C", message="d" * 5_000) for _ in range(200)),
    )
    fitted = fit_to_size(huge)
    assert len(fitted.to_json().encode()) < SNS_MESSAGE_MAX_BYTES
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
            error_details=tuple(ErrorDetail(code="c", message=d) for d in details),
        )
    )
    assert len(fitted.to_json().encode()) <= SNS_MESSAGE_MAX_BYTES


HOSTILE = st.text(alphabet=st.sampled_from(["x", "😀", "\x00", '"', "é"]), max_size=80_000)


@settings(max_examples=30, deadline=None)
@given(
    message=HOSTILE,
    details=st.lists(HOSTILE, max_size=40),
    tags=st.dictionaries(HOSTILE, HOSTILE, max_size=3),
)
def test_emoji_and_control_characters_fit_sns_with_the_attributes_counted(
    message: str, details: list[str], tags: dict[str, str]
) -> None:
    fitted = fit_to_size(
        notification(
            error_message=message,
            error_details=tuple(ErrorDetail(code="😀" * 300, message=d) for d in details),
            tags=tags,
        )
    )
    assert sns_message_size(fitted) <= SNS_MESSAGE_MAX_BYTES


def test_the_sns_size_counts_each_attribute_name_type_and_value() -> None:
    body = notification(previous_status="Running")
    attributes = sum(len(k) + len("String") + len(v) for k, v in body.message_attributes().items())
    assert sns_message_size(body) == len(body.to_json().encode()) + attributes


def test_a_notification_is_cut_to_fit_one_eventbridge_entry() -> None:
    huge = notification(status="Failed", error_message="😀" * 100_000, deployment_arn="arn:aws:greengrass:x")
    fitted = fit_to_eventbridge_entry(huge, source="ggwatch", detail_type="Deployment status change")
    size = eventbridge_entry_size(fitted, source="ggwatch", detail_type="Deployment status change")
    assert fitted.truncated and size <= EVENTBRIDGE_ENTRY_MAX_BYTES
    # Time (14) + Source + DetailType + Detail + the ARN as the one resource, all in UTF-8
    assert size == 14 + len("ggwatch") + len("Deployment status change") + len(
        fitted.to_json().encode()
    ) + len("arn:aws:greengrass:x")


def test_fitting_ends_even_when_a_field_it_cannot_shrink_is_over_the_limit() -> None:
    # Given a message whose ARN alone is over the limit (fit_to_size used to halve texts forever)
    oversized = notification(
        deployment_arn="a" * (SNS_MESSAGE_MAX_BYTES + 1), error_message="e" * 1_000, tags={"k": "v"}
    )
    outcome: list[Notification] = []
    worker = threading.Thread(target=lambda: outcome.append(fit_to_size(oversized)), daemon=True)
    # When it is fitted
    worker.start()
    worker.join(timeout=60)
    # Then fitting ends, with the last resort: every text it may drop is dropped
    assert outcome, "fit_to_size did not end"
    assert (outcome[0].error_message, outcome[0].error_details, outcome[0].tags) == (None, (), {})
    assert outcome[0].truncated


def test_every_notification_carries_the_deployment_description_fields_null_for_v1() -> None:
    body = json.loads(notification().to_json())
    assert {
        name: body[name] for name in ("deploymentName", "targetArn", "revisionId", "jobId")
    } == dict.fromkeys(("deploymentName", "targetArn", "revisionId", "jobId"))
    older = {k: v for k, v in body.items() if k not in ("deploymentName", "targetArn", "revisionId", "jobId")}
    assert Notification.model_validate(older) == notification()


def test_fitting_keeps_the_name_of_each_failed_device_it_keeps() -> None:
    huge = notification(
        error_details=tuple(
            ErrorDetail(code="C", message="d" * 20_000, thing_name=f"gw-{i}") for i in range(40)
        )
    )
    fitted = fit_to_size(huge)
    assert fitted.truncated and fitted.error_details
    assert [d.thing_name for d in fitted.error_details] == [
        f"gw-{i}" for i in range(len(fitted.error_details))
    ]
    assert json.loads(fitted.to_json())["errorDetails"][0]["thingName"] == "gw-0"


def test_every_event_type_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    schema = readme[readme.index("## Notification schema") :]
    assert all(f"`{event_type}`" in schema for event_type in EVENT_TYPES)
    assert len(set(EVENT_TYPES)) == 5
