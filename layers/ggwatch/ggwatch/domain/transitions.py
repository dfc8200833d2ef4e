"""Pure rules: is an observation a transition, and what does its notification say. No I/O here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from ggwatch.domain.models import (
    TRACKING_FAILED,
    ErrorDetail,
    Observation,
    TrackedDeployment,
    is_terminal,
)
from ggwatch.domain.notification import (
    STATUS_CHANGE,
    TRACKING_FAILED_EVENT,
    TRUNCATION_MARKER,
    Change,
    Notification,
    NotificationErrorDetail,
    NotificationMetrics,
)


@dataclass(frozen=True)
class Assessment:
    """What one observation means for the stored state."""

    changes: tuple[Change, ...]
    """Why a notification is due; empty when none is."""
    state_changed: bool
    """Whether anything worth storing differs (metrics alone count here, but are not notified)."""

    @property
    def notify(self) -> bool:
        return bool(self.changes)


def assess(stored: TrackedDeployment, observation: Observation) -> Assessment:
    """Compare an observation with the stored state.

    A status change notifies (the first observation too: previousStatus is null); so does a change of
    the error information under the same status. Anything else that differs is only stored.
    """
    changes: list[Change] = []
    if stored.status != observation.status:
        changes.append("status")
    errors_now = (observation.error_message, observation.error_details)
    errors_before = (stored.error_message, stored.error_details)
    if errors_now != errors_before and (stored.status is not None or any(errors_now)):
        changes.append("errors")
    state_changed = bool(changes) or (stored.metrics, stored.created_at, stored.tags) != (
        observation.metrics,
        observation.created_at,
        observation.tags,
    )
    return Assessment(changes=tuple(changes), state_changed=state_changed)


def transition_id(stored: TrackedDeployment, observation: Observation) -> str:
    """A stable ID: the same transition from the same stored version always gets the same one.

    Overlapping poller runs that see the same change compute the same ID, and so does a later run that
    publishes again after a failure, so consumers can drop copies.
    """
    errors = "\x1e".join(f"{d.code}\x1d{d.message}" for d in observation.error_details)
    parts = [
        observation.kind.value,
        observation.deployment_id,
        str(stored.version),
        stored.status or "",
        observation.status,
        observation.error_message or "",
        errors,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def build_notification(
    stored: TrackedDeployment,
    observation: Observation,
    changes: tuple[Change, ...],
    *,
    observed_at: datetime,
    region: str | None,
) -> Notification:
    """The schema-version-1 notification for one transition."""
    return Notification(
        event_type=TRACKING_FAILED_EVENT if observation.status == TRACKING_FAILED else STATUS_CHANGE,
        deployment_kind=observation.kind.value,
        transition_id=transition_id(stored, observation),
        deployment_id=observation.deployment_id,
        deployment_arn=observation.deployment_arn or stored.deployment_arn,
        region=region,
        previous_status=stored.status,
        status=observation.status,
        terminal=is_terminal(observation.status),
        changes=changes,
        metrics=NotificationMetrics(
            records_processed=observation.metrics.records_processed,
            invalid_input_records=observation.metrics.invalid_input_records,
            retry_attempts=observation.metrics.retry_attempts,
        ),
        error_message=observation.error_message,
        error_details=tuple(
            NotificationErrorDetail(code=d.code, message=d.message) for d in observation.error_details
        ),
        created_at=observation.created_at,
        observed_at=observed_at.isoformat().replace("+00:00", "Z"),
        tags=dict(observation.tags),
    )


def tracking_failure(stored: TrackedDeployment, reason: str) -> Observation:
    """The observation ggwatch records when the source says a tracked ID does not exist."""
    return Observation(
        kind=stored.kind,
        deployment_id=stored.deployment_id,
        status=TRACKING_FAILED,
        metrics=stored.metrics,
        error_message=reason,
        created_at=stored.created_at,
        deployment_arn=stored.deployment_arn,
        tags=stored.tags,
    )


MAX_ERROR_MESSAGE_CHARS = 8_000
MAX_ERROR_DETAILS = 50
MAX_ERROR_DETAIL_CHARS = 1_000


def bounded(observation: Observation) -> Observation:
    """Cap the error texts a source returned, the same way every time.

    Capping before comparing and storing keeps DynamoDB items and SNS messages well inside their size
    limits, and because the cut is deterministic an unchanged oversized error never looks like a change.
    """
    details = observation.error_details
    if len(details) > MAX_ERROR_DETAILS:
        hidden = len(details) - MAX_ERROR_DETAILS + 1
        details = (
            *details[: MAX_ERROR_DETAILS - 1],
            ErrorDetail(code=None, message=f"{hidden} more not shown"),
        )
    capped_details = tuple(
        ErrorDetail(code=_cap(d.code, 256), message=_cap(d.message, MAX_ERROR_DETAIL_CHARS)) for d in details
    )
    message = _cap(observation.error_message, MAX_ERROR_MESSAGE_CHARS)
    if capped_details == observation.error_details and message == observation.error_message:
        return observation
    return observation.model_copy(update={"error_message": message, "error_details": capped_details})


def _cap(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
