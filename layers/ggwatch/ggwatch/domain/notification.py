"""The notification schema (version 1): the SNS message body every subscriber relies on."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

SCHEMA_VERSION = "1"
STATUS_CHANGE = "DeploymentStatusChange"
TRACKING_FAILED_EVENT = "DeploymentTrackingFailed"

Change = Literal["status", "errors"]

SNS_MAX_BYTES = 256 * 1024
TRUNCATION_MARKER = "… [truncated by ggwatch]"


class _Wire(BaseModel):
    """camelCase on the wire; unknown fields from newer producers are ignored, not rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore")


class NotificationMetrics(_Wire):
    records_processed: int
    invalid_input_records: int
    retry_attempts: int


class NotificationErrorDetail(_Wire):
    code: str | None
    message: str | None


class Notification(_Wire):
    """One transition of one deployment, as published to the topic."""

    schema_version: str = SCHEMA_VERSION
    event_type: str = STATUS_CHANGE
    deployment_kind: str
    transition_id: str
    deployment_id: str
    deployment_arn: str | None
    region: str | None
    previous_status: str | None
    status: str
    terminal: bool
    changes: tuple[Change, ...]
    metrics: NotificationMetrics
    error_message: str | None
    error_details: tuple[NotificationErrorDetail, ...]
    created_at: str | None
    observed_at: str
    tags: dict[str, str]
    truncated: bool = False

    def to_json(self) -> str:
        """The message body: camelCase JSON with every schema field present (nulls included)."""
        return self.model_dump_json(by_alias=True)

    def message_attributes(self) -> dict[str, str]:
        """SNS message attributes for subscription filter policies; null values are left out."""
        attributes = {
            "eventType": self.event_type,
            "deploymentKind": self.deployment_kind,
            "deploymentId": self.deployment_id,
            "status": self.status,
            "previousStatus": self.previous_status,
        }
        return {name: value for name, value in attributes.items() if value}


def fit_to_size(notification: Notification, max_bytes: int = SNS_MAX_BYTES) -> Notification:
    """Shrink the error texts until the message and its attributes fit SNS's size limit.

    A huge ErrorMessage or hundreds of ErrorDetails must never make publishing fail: the transition is
    still delivered, with the texts cut and `truncated` set so that readers know.
    """
    if _encoded_size(notification) <= max_bytes:
        return notification
    details = list(notification.error_details)
    message = notification.error_message
    text_budget = max_bytes // 4
    while True:
        candidate = notification.model_copy(
            update={
                "error_message": _cut(message, text_budget),
                "error_details": tuple(
                    NotificationErrorDetail(code=_cut(d.code, 256), message=_cut(d.message, text_budget))
                    for d in details
                ),
                "truncated": True,
            }
        )
        if _encoded_size(candidate) <= max_bytes:
            return candidate
        if len(details) > 1:
            details = details[: len(details) // 2]
        else:
            text_budget //= 2
            if text_budget < 64:
                details = []
                message = _cut(message, 64)


def _encoded_size(notification: Notification) -> int:
    attributes = notification.message_attributes()
    attribute_bytes = sum(len(k.encode()) + len(v.encode()) + len("String") for k, v in attributes.items())
    return len(notification.to_json().encode()) + attribute_bytes


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATION_MARKER), 0)] + TRUNCATION_MARKER
