"""The notification schema (version 1): the SNS message body every subscriber relies on."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from ggwatch.domain.models import ErrorDetail, Metrics, Results, StuckReason
from ggwatch.domain.sizes import (
    EVENTBRIDGE_ENTRY_MAX_BYTES,
    SNS_MESSAGE_MAX_BYTES,
    truncate_optional,
    utf8_size,
)

SCHEMA_VERSION = "1"
STATUS_CHANGE = "DeploymentStatusChange"
TRACKING_FAILED_EVENT = "DeploymentTrackingFailed"
STUCK_EVENT = "DeploymentStuck"
"""A non-terminal deployment did not move for longer than its threshold: once per episode."""
RECOVERED_EVENT = "DeploymentRecovered"
"""A deployment notified as stuck moved again (or finished): closes the episode."""
PROGRESS_EVENT = "DeploymentProgress"
"""Opt-in: a Greengrass V2 rollout's finished devices crossed a configured step (percent)."""
EVENT_TYPES = (STATUS_CHANGE, TRACKING_FAILED_EVENT, STUCK_EVENT, RECOVERED_EVENT, PROGRESS_EVENT)
"""Every `eventType` ggwatch publishes (the CLI's test notification adds DeploymentTest)."""

Change = Literal["status", "errors", "settled"]
"""Why a notification is due: a new status, new errors, or (Greengrass V2) a rollout that finished."""

SNS_ATTRIBUTE_TYPE = "String"


class _Wire(BaseModel):
    """camelCase on the wire; unknown fields from newer producers are ignored, not rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore")


class StuckDetail(_Wire):
    """What did not move, since when and for how long (DeploymentStuck and DeploymentRecovered)."""

    reason: StuckReason
    since: str
    """When the status began (reason "status") or the progress last moved (reason "progress")."""
    duration_seconds: int
    """How long it had not moved: when found stuck, or (DeploymentRecovered) when it moved again."""
    threshold_seconds: int | None
    """The threshold that ran out (None: the threshold was turned off since)."""
    progress: int
    """Records processed (V1) or devices finished (V2) at that moment."""


class ProgressDetail(_Wire):
    """How far a rollout got (DeploymentProgress)."""

    percent: int
    """The step reached: the highest multiple of the configured step not above the finished share."""
    finished: int
    total: int


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
    metrics: Metrics
    error_message: str | None
    error_details: tuple[ErrorDetail, ...]
    created_at: str | None
    observed_at: str
    tags: dict[str, str]
    deployment_name: str | None = None
    target_arn: str | None = None
    revision_id: str | None = None
    job_id: str | None = None
    stuck: StuckDetail | None = None
    """DeploymentStuck and DeploymentRecovered only."""
    progress: ProgressDetail | None = None
    """DeploymentProgress only."""
    results: Results | None = None
    """What a finished deployment did: a V1 bulk deployment at its terminal status (its group
    deployments), a V2 deployment when its rollout settles or it ends (its devices); None otherwise."""
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


Size = Callable[[Notification], int]


def sns_message_size(notification: Notification) -> int:
    """What SNS counts against its limit: the body plus each attribute's name, data type and value."""
    attributes = notification.message_attributes().items()
    return utf8_size(notification.to_json()) + sum(
        utf8_size(name) + utf8_size(SNS_ATTRIBUTE_TYPE) + utf8_size(value) for name, value in attributes
    )


def eventbridge_entry_size(notification: Notification, *, source: str, detail_type: str) -> int:
    """What PutEvents counts for an entry with the notification as Detail, a Time and the ARN as
    its one resource."""
    resources = [notification.deployment_arn] if notification.deployment_arn else []
    return (
        14
        + utf8_size(source)
        + utf8_size(detail_type)
        + utf8_size(notification.to_json())
        + sum(map(utf8_size, resources))
    )


def fit_to_eventbridge_entry(notification: Notification, *, source: str, detail_type: str) -> Notification:
    """The notification, cut like `fit_to_size`, so that it fits one EventBridge entry."""
    size = partial(eventbridge_entry_size, source=source, detail_type=detail_type)
    return fit_to_size(notification, EVENTBRIDGE_ENTRY_MAX_BYTES, size=size)


_DETAIL_CODE_BYTES = 256
_SMALLEST_TEXT_BYTES = 64
_MAX_ROUNDS = 64
"""Each round halves the error details or the text budget, so a few dozen rounds reach the smallest
candidate for any input; the bound keeps an input that cannot shrink from looping forever."""


def fit_to_size(
    notification: Notification, max_bytes: int = SNS_MESSAGE_MAX_BYTES, *, size: Size = sns_message_size
) -> Notification:
    """Shrink the error texts until the message fits a size limit (by default SNS's, attributes included).

    A huge ErrorMessage or hundreds of ErrorDetails must never make publishing fail: the transition is
    still delivered, with the texts cut and `truncated` set so that readers know. The failures named
    in `results` go first (halved until it fits, `results.truncated` set): their counts stay. When even the
    smallest cut does not fit (a field that cannot shrink is over the limit), the last resort drops the
    error texts and the tags; the result may then still be too large, and the channel's own size check
    reports it, but this function always ends.
    """
    if size(notification) <= max_bytes:
        return notification
    notification = _fewer_result_failures(notification, max_bytes, size)
    if size(notification) <= max_bytes:
        return notification
    details = notification.error_details
    budget = max_bytes // 4
    for _ in range(_MAX_ROUNDS):
        candidate = _with_texts(notification, notification.error_message, details, budget)
        if size(candidate) <= max_bytes:
            return candidate
        if len(details) > 1:
            details = details[: len(details) // 2]
        elif budget > _SMALLEST_TEXT_BYTES:
            budget //= 2
        else:
            break
    candidate = _with_texts(notification, notification.error_message, (), _SMALLEST_TEXT_BYTES)
    if size(candidate) <= max_bytes:
        return candidate
    return notification.model_copy(
        update={"error_message": None, "error_details": (), "tags": {}, "truncated": True}
    )


def _fewer_result_failures(notification: Notification, max_bytes: int, size: Size) -> Notification:
    """The notification naming half as many result failures each round, until it fits or names none."""
    results = notification.results
    while results is not None and results.failures and size(notification) > max_bytes:
        results = results.with_failures(results.failures[: len(results.failures) // 2])
        notification = notification.model_copy(update={"results": results, "truncated": True})
    return notification


def _with_texts(
    notification: Notification, message: str | None, details: tuple[ErrorDetail, ...], budget: int
) -> Notification:
    return notification.model_copy(
        update={
            "error_message": truncate_optional(message, budget),
            "error_details": tuple(
                ErrorDetail(
                    code=truncate_optional(d.code, _DETAIL_CODE_BYTES),
                    message=truncate_optional(d.message, budget),
                    thing_name=truncate_optional(d.thing_name, _DETAIL_CODE_BYTES),
                )
                for d in details
            ),
            "truncated": True,
        }
    )
