"""Rendering for people (aligned tables, one line per event) and for scripts (JSON).

Pure functions from domain objects to text: no I/O, so every format is tested without AWS. The JSON
uses the camelCase names of the notification schema, so scripts see one vocabulary everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from ggwatch.domain.models import (
    COUNTERS,
    INVALID_INPUT_RECORDS,
    RECORDS_PROCESSED,
    RETRY_ATTEMPTS,
    DeploymentKind,
    ErrorDetail,
    Metrics,
    Observation,
    TrackedDeployment,
    counter_label,
    is_terminal,
)
from ggwatch.domain.notification import Notification
from ggwatch.domain.transitions import iso
from ggwatch.services.poller import PollReport, Result

NONE = "-"
MAX_ERROR_CHARS = 120
"""Error texts are cut in one-line output (the JSON keeps them whole)."""


def dumps(value: Any) -> str:
    """JSON for scripts: indented, keys in the order built, non-ASCII kept readable."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Collection[int] = ()) -> str:
    """Columns padded to their widest cell, two spaces apart; columns in `right` are right-aligned."""
    lines = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join(
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    )


def timestamp(moment: datetime | None) -> str:
    """A moment in UTC to the second, the same for every operator whatever their time zone."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else NONE


def json_timestamp(moment: datetime | None) -> str | None:
    """A moment for scripts in the notification schema's form (`observedAt`): ISO 8601, UTC, `Z`."""
    return iso(moment) if moment else None


def state_of(deployment: TrackedDeployment) -> str:
    """active (polled), finished (terminal status reached) or untracked (stopped by an operator)."""
    if deployment.active:
        return "active"
    return "finished" if is_terminal(deployment.status) else "untracked"


def one_line(text: str | None) -> str:
    """An error text fit for one line of a table or report."""
    if not text:
        return NONE
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_ERROR_CHARS else flat[: MAX_ERROR_CHARS - 1] + "…"


KIND_NOUNS = {
    DeploymentKind.GREENGRASS_V1_BULK: "bulk deployment",
    DeploymentKind.GREENGRASS_V2: "Greengrass V2 deployment",
}


def progress(kind: DeploymentKind | str, metrics: Metrics) -> str:
    """A deployment's counters in one phrase of its kind's own words: a V1 bulk deployment counts
    records (`6 processed, 2 invalid, 1 retries`), a V2 one devices (`50 devices: 47 succeeded, 3 failed`)."""
    if kind == DeploymentKind.GREENGRASS_V1_BULK:
        return (
            f"{metrics[RECORDS_PROCESSED]} processed, {metrics[INVALID_INPUT_RECORDS]} invalid, "
            f"{metrics[RETRY_ATTEMPTS]} retries"
        )
    counted = [(name, count) for name, count in metrics.root.items() if count]
    if kind == DeploymentKind.GREENGRASS_V2:
        total = sum(count for _, count in counted)
        if not total:
            return "no devices yet"
        devices = f"{total} device{'' if total == 1 else 's'}: "
        return devices + ", ".join(f"{count} {counter_label(name).lower()}" for name, count in counted)
    return ", ".join(f"{count} {counter_label(name).lower()}" for name, count in counted) or NONE


# -- list ---------------------------------------------------------------------------------------
LIST_HEADERS = ("DEPLOYMENT ID", "KIND", "STATE", "STATUS", "PROGRESS", "LAST CHANGE", "REGION")


NOT_POLLED_YET = "(not polled yet)"
"""The status column of a tracked deployment the poller has not observed: tracking stores no status."""


def unpolled_status(deployment: TrackedDeployment) -> str:
    """Before the first poll: the status `discover` saw, when it tracked the deployment."""
    seen = deployment.discovered_status
    return f"{seen} (at discovery; {NOT_POLLED_YET[1:-1]})" if seen else NOT_POLLED_YET


def region_of(deployment: TrackedDeployment, home_region: str | None) -> str | None:
    """Where the deployment lives: its own region, else (None stored) the stack's."""
    return deployment.region or home_region


def deployments_table(deployments: Iterable[TrackedDeployment], home_region: str | None = None) -> str:
    rows = [
        (
            d.deployment_id,
            d.kind.value,
            state_of(d),
            d.status or (unpolled_status(d) if d.active else NONE),
            progress(d.kind, d.metrics.for_kind(d.kind)) if d.status else NONE,
            timestamp(d.last_changed_at),
            region_of(d, home_region) or NONE,
        )
        for d in deployments
    ]
    return table(LIST_HEADERS, rows)


def deployment_json(deployment: TrackedDeployment, home_region: str | None = None) -> dict[str, Any]:
    """The stored state of one deployment as scripts see it."""
    return {
        "deploymentId": deployment.deployment_id,
        "deploymentKind": deployment.kind.value,
        "region": region_of(deployment, home_region),
        "state": state_of(deployment),
        "status": deployment.status,
        "metrics": metrics_json(deployment.metrics),
        "errorMessage": deployment.error_message,
        "errorDetails": errors_json(deployment.error_details),
        "createdAt": deployment.created_at,
        "deploymentArn": deployment.deployment_arn,
        **described(deployment),
        "trackedAt": json_timestamp(deployment.tracked_at),
        "trackedBy": deployment.tracked_by,
        "discoveredStatus": deployment.discovered_status,
        "lastChangedAt": json_timestamp(deployment.last_changed_at),
        "lastTransitionId": deployment.last_transition_id,
        "pendingTransitionId": deployment.pending.transition_id if deployment.pending else None,
    }


def described(state: Observation | TrackedDeployment) -> dict[str, str | None]:
    """What a V2 deployment says about itself (null for a V1 bulk deployment), named as notifications
    name them."""
    return {
        "deploymentName": state.deployment_name,
        "targetArn": state.target_arn,
        "revisionId": state.revision_id,
        "jobId": state.job_id,
    }


def metrics_json(metrics: Metrics) -> dict[str, int]:
    return dict(metrics.root)


def errors_json(details: Iterable[ErrorDetail]) -> list[dict[str, str | None]]:
    return [d.model_dump() for d in details]


# -- status -------------------------------------------------------------------------------------
def observation_json(observation: Observation) -> dict[str, Any]:
    """What Greengrass answered just now."""
    return {
        "status": observation.status,
        "terminal": is_terminal(observation.status),
        "metrics": metrics_json(observation.metrics),
        "errorMessage": observation.error_message,
        "errorDetails": errors_json(observation.error_details),
        "createdAt": observation.created_at,
        "deploymentArn": observation.deployment_arn,
        **described(observation),
    }


def status_json(
    observation: Observation,
    stored: TrackedDeployment | None,
    region: str | None = None,
    home_region: str | None = None,
) -> dict[str, Any]:
    """`region`: where Greengrass was asked; `home_region`: the stack's (the stored one's if it has none)."""
    return {
        "deploymentId": observation.deployment_id,
        "deploymentKind": observation.kind.value,
        "region": region,
        "greengrass": observation_json(observation),
        "stored": deployment_json(stored, home_region) if stored else None,
    }


def status_fields(kind: DeploymentKind) -> tuple[str, ...]:
    """The rows of a status report: the kind's own facts and counters between the shared ones."""
    described_rows = ("name", "target") if kind == DeploymentKind.GREENGRASS_V2 else ()
    counters = tuple(counter_label(name).lower() for name in COUNTERS.get(kind, ()))
    return ("status", *described_rows, *counters, "error", "created at", "tracking", "last change")


def status_report(
    observation: Observation, stored: TrackedDeployment | None, region: str | None = None
) -> str:
    """Greengrass's answer beside ggwatch's stored state, one field a row, plus what the gap means;
    `region` (where Greengrass was asked) is named in the heading."""
    now = _shared_fields(observation)
    kept = (
        {
            **_shared_fields(stored),
            "tracking": state_of(stored),
            "last change": timestamp(stored.last_changed_at),
        }
        if stored
        else {"tracking": "not tracked"}
    )
    rows = [(field, now.get(field, NONE), kept.get(field, NONE)) for field in status_fields(observation.kind)]
    where = f" in {region}" if region else ""
    lines = [
        f"{KIND_NOUNS.get(observation.kind, 'deployment')} {observation.deployment_id}{where}",
        table(("", "GREENGRASS NOW", "STORED BY GGWATCH"), rows),
    ]
    if stored is None:
        lines.append(f"not tracked: '{track_command(observation)}' starts notifications for it")
    elif stored.active and stored.status != observation.status:
        lines.append("the stored status is behind: the next poll publishes the change")
    return "\n".join(lines)


def track_command(state: Observation | TrackedDeployment) -> str:
    """The command that tracks this deployment (V1 bulk deployments need no --kind)."""
    kind = "" if state.kind == DeploymentKind.GREENGRASS_V1_BULK else f"--kind {state.kind.value} "
    return f"ggwatch track {kind}{state.deployment_id}"


def _shared_fields(state: Observation | TrackedDeployment) -> dict[str, str]:
    """The fields an observation and a stored state have in common, as table cells."""
    metrics = state.metrics.for_kind(state.kind)
    return {
        "status": state.status or NONE,
        "name": state.deployment_name or NONE,
        "target": state.target_arn or NONE,
        **{counter_label(name).lower(): str(count) for name, count in metrics.root.items()},
        "error": one_line(state.error_message),
        "created at": state.created_at or NONE,
    }


# -- poll ---------------------------------------------------------------------------------------
FAILED: tuple[Result, ...] = ("failed", "corrupt")
"""Outcomes that make `ggwatch poll` exit 1: a deployment that could not be polled at all."""
_COUNTED: tuple[Result, ...] = ("unchanged", "stored", "skipped", "failed", "corrupt")


def poll_report(report: PollReport, dry_run: bool) -> str:
    """One line per transition and per deployment not polled, then a summary of the outcomes."""
    lines = ["dry run: nothing was published or stored"] if dry_run else []
    for outcome in report.outcomes:
        lines += [transition_line(n) for n in outcome.notifications]
        if outcome.result in (*FAILED, "skipped"):
            lines.append(f"{outcome.deployment_id or outcome.key}: {outcome.result}: {outcome.detail}")
    transitions = len(report.notifications)
    summary = f"polled {len(report.outcomes)}: {transitions} transition{'' if transitions == 1 else 's'}"
    counts = [f"{report.count(result)} {result}" for result in _COUNTED if report.count(result)]
    return "\n".join([*lines, ", ".join([summary, *counts])])


def poll_json(report: PollReport, dry_run: bool) -> dict[str, Any]:
    """The transitions as the notification bodies subscribers receive, plus each deployment's outcome.

    An outcome names its deployment by ID, never by the table's internal key; an item too garbled to
    name one has a null ID and says why in its detail.
    """
    return {
        "dryRun": dry_run,
        "transitions": [n.model_dump(mode="json", by_alias=True) for n in report.notifications],
        "outcomes": [
            {"deploymentId": o.deployment_id, "result": o.result, "detail": o.detail} for o in report.outcomes
        ],
    }


def transition_line(notification: Notification) -> str:
    """`bd-1: Running -> Failed (6 processed, 2 invalid, 0 retries): <error>` for one transition."""
    counts = progress(notification.deployment_kind, notification.metrics)
    if "status" in notification.changes:
        change = f"{notification.previous_status or '(new)'} -> {notification.status}"
    else:
        change = f"{notification.status}, errors changed"
    line = f"{notification.deployment_id}: {change} ({counts})"
    if notification.error_message:
        line += f": {one_line(notification.error_message)}"
    return line
