"""Pure rules: is an observation a transition, and what does its notification say. No I/O here."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ggwatch.domain import fleet_rules, results
from ggwatch.domain.models import (
    OBSERVED_FACTS,
    TRACKING_FAILED,
    DeploymentKind,
    ErrorDetail,
    Observation,
    Results,
    TrackedDeployment,
    is_terminal,
)
from ggwatch.domain.notification import STATUS_CHANGE, TRACKING_FAILED_EVENT, Change, Notification
from ggwatch.domain.sizes import encodable, json_text_size, truncate


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

    The kind's rules say which differences are notified; any other difference in what is stored is
    only stored.
    """
    changes = RULES[observation.kind].changes(stored, observation)
    state_changed = bool(changes) or any(
        getattr(stored, name) != getattr(observation, name) for name in OBSERVED_FACTS
    )
    return Assessment(changes=changes, state_changed=state_changed)


def _bulk_changes(stored: TrackedDeployment, observation: Observation) -> tuple[Change, ...]:
    """A V1 bulk deployment: a status change notifies (the first observation too: previousStatus is
    null); so does a change of the error information under the same status."""
    changes: list[Change] = []
    if stored.status != observation.status:
        changes.append("status")
    errors_now = (observation.error_message, observation.error_details)
    errors_before = (stored.error_message, stored.error_details)
    if errors_now != errors_before and (stored.status is not None or any(errors_now)):
        changes.append("errors")
    return tuple(changes)


def _every_error(stored: TrackedDeployment, observation: Observation) -> tuple[ErrorDetail, ...]:
    return observation.error_details


def _bulk_results(observation: Observation, changes: tuple[Change, ...]) -> Results | None:
    """What the source read of the group deployments (only for a terminal status)."""
    return observation.results if is_terminal(observation.status) else None


def _fleet_results(observation: Observation, changes: tuple[Change, ...]) -> Results | None:
    """The device executions when the rollout settles or the deployment ends: from the snapshot's
    device counts and the failed devices it names, no further reads."""
    if observation.status == TRACKING_FAILED:
        return None
    if "settled" not in changes and not is_terminal(observation.status):
        return None
    metrics = observation.metrics.for_kind(observation.kind)
    return results.from_devices(metrics.root, observation.error_details, fleet_rules.failures(metrics))


@dataclass(frozen=True)
class KindRules:
    """What one kind of deployment notifies: a new kind brings its rules, never a second pipeline."""

    changes: Callable[[TrackedDeployment, Observation], tuple[Change, ...]]
    notified_errors: Callable[[TrackedDeployment, Observation], tuple[ErrorDetail, ...]]
    """The error details a notification carries (a V2 one: only the devices that failed since)."""
    results: Callable[[Observation, tuple[Change, ...]], Results | None]
    """The notification's `results`: None where they do not apply (a deployment still moving)."""


RULES: Mapping[DeploymentKind, KindRules] = {
    DeploymentKind.GREENGRASS_V1_BULK: KindRules(_bulk_changes, _every_error, _bulk_results),
    DeploymentKind.GREENGRASS_V2: KindRules(fleet_rules.changes, fleet_rules.newly_failed, _fleet_results),
}


def transition_id(stored: TrackedDeployment, observation: Observation) -> str:
    """A stable ID: the same transition from the same stored version always gets the same one.

    Overlapping poller runs that see the same change compute the same ID, and so does a later run that
    publishes again after a failure, so consumers can drop copies.
    """
    errors = "\x1e".join(map(_error_key, observation.error_details))
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


def _error_key(detail: ErrorDetail) -> str:
    """A V1 error's key is what it always was (consumers drop copies by transitionId)."""
    key = f"{detail.code}\x1d{detail.message}"
    return key if detail.thing_name is None else f"{key}\x1d{detail.thing_name}"


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
        metrics=observation.metrics.for_kind(observation.kind),
        error_message=observation.error_message,
        error_details=RULES[observation.kind].notified_errors(stored, observation),
        created_at=observation.created_at,
        observed_at=iso(observed_at),
        tags=dict(observation.tags),
        deployment_name=observation.deployment_name,
        target_arn=observation.target_arn,
        revision_id=observation.revision_id,
        job_id=observation.job_id,
        results=RULES[observation.kind].results(observation, changes),
    )


def iso(moment: datetime, timespec: str = "auto") -> str:
    """A moment as ggwatch writes one everywhere (notifications, JSON output): ISO 8601 in UTC, with
    a `Z`."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return utc.isoformat(timespec=timespec).replace("+00:00", "Z")


def tracking_failure(stored: TrackedDeployment, reason: str) -> Observation:
    """The observation ggwatch records when the source says a tracked ID does not exist."""
    return as_observed(stored, TRACKING_FAILED, error_message=reason, error_details=())


def as_observed(stored: TrackedDeployment, status: str, **changes: Any) -> Observation:
    """The stored facts as an observation with `status`, and `changes` on top."""
    facts = {name: getattr(stored, name) for name in OBSERVED_FACTS}
    return Observation(
        kind=stored.kind,
        deployment_id=stored.deployment_id,
        status=status,
        deployment_arn=stored.deployment_arn,
        **{**facts, **changes},
    )


MAX_ERROR_MESSAGE_BYTES = 8_000
MAX_ERROR_DETAILS = 50
MAX_ERROR_DETAIL_BYTES = 1_000
MAX_ERROR_CODE_BYTES = 256
MAX_TAGS_BYTES = 24 * 1024
"""Room for 50 tags of AWS's longest ASCII keys (128) and values (256); tags beyond it are dropped."""
MAX_FIELD_BYTES = 2048
"""Any other text a source reports (createdAt, names, ARNs, revision and job IDs): an ARN's maximum."""


def bounded(observation: Observation) -> Observation:
    """Cap every text a source returned by its size in bytes (as JSON writes it), the same way every time.

    Capping before comparing and storing keeps the claimed item (the previous state plus the message
    of the new one) inside DynamoDB's 400 KB and the message inside SNS's 256 KB whatever characters
    the texts hold, and because the cut is deterministic an unchanged oversized error never looks like
    a change. A lone surrogate, which no UTF-8 message can carry, becomes U+FFFD.
    """
    details = observation.error_details
    if len(details) > MAX_ERROR_DETAILS:
        hidden = len(details) - MAX_ERROR_DETAILS + 1
        details = (
            *details[: MAX_ERROR_DETAILS - 1],
            ErrorDetail(code=None, message=f"{hidden} more not shown"),
        )
    capped: dict[str, Any] = {
        "status": encodable(observation.status),
        "error_details": tuple(
            ErrorDetail(
                code=_text(d.code, MAX_ERROR_CODE_BYTES),
                message=_text(d.message, MAX_ERROR_DETAIL_BYTES),
                thing_name=_text(d.thing_name, MAX_ERROR_CODE_BYTES),
            )
            for d in details
        ),
        "error_message": _text(observation.error_message, MAX_ERROR_MESSAGE_BYTES),
        "tags": _bounded_tags(observation.tags),
        **{
            name: _text(getattr(observation, name), MAX_FIELD_BYTES)
            for name in ("created_at", "deployment_name", "target_arn", "revision_id", "job_id")
        },
    }
    if observation.results is not None:
        capped["results"] = results.bound(observation.results)
    if all(getattr(observation, name) == value for name, value in capped.items()):
        return observation
    return observation.model_copy(update=capped)


def _text(text: str | None, limit: int) -> str | None:
    return None if text is None else truncate(encodable(text), limit)


def _bounded_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags, in key order, while they fit MAX_TAGS_BYTES; each key and value counts with its quotes."""
    kept: dict[str, str] = {}
    used = 0
    for key in sorted(tags):
        clean_key, value = encodable(key), encodable(tags[key])
        used += json_text_size(clean_key) + json_text_size(value) + 6
        if used > MAX_TAGS_BYTES:
            break
        kept[clean_key] = value
    return kept if kept != tags else tags
