"""What a deployment source reports and what ggwatch remembers about a tracked deployment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator
from pydantic.alias_generators import to_camel


class DeploymentKind(StrEnum):
    """Every kind of deployment ggwatch can watch; each has one deployment source."""

    GREENGRASS_V1_BULK = "greengrass-v1-bulk"
    GREENGRASS_V2 = "greengrass-v2"


class V1BulkStatus(StrEnum):
    """The statuses GetBulkDeploymentStatus documents. Others may appear later and are carried through."""

    INITIALIZING = "Initializing"
    RUNNING = "Running"
    COMPLETED = "Completed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"


class V2DeploymentStatus(StrEnum):
    """The `deploymentStatus` values greengrassv2 GetDeployment documents."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    INACTIVE = "INACTIVE"
    """A newer revision replaced the deployment for its target."""


TRACKING_FAILED = "TrackingFailed"
"""ggwatch's own status for a deployment the source does not know: notified once, then no longer polled."""

TERMINAL_STATUSES = frozenset(
    {
        V1BulkStatus.COMPLETED,
        V1BulkStatus.STOPPED,
        V1BulkStatus.FAILED,
        V2DeploymentStatus.COMPLETED,
        V2DeploymentStatus.CANCELED,
        V2DeploymentStatus.FAILED,
        V2DeploymentStatus.INACTIVE,
        TRACKING_FAILED,
    }
)
"""The two kinds spell their statuses differently ("Failed", "FAILED"), so one set serves both."""


def is_terminal(status: str | None) -> bool:
    """True for statuses after which a deployment never changes again."""
    return status in TERMINAL_STATUSES


RECORDS_PROCESSED = "recordsProcessed"
INVALID_INPUT_RECORDS = "invalidInputRecords"
RETRY_ATTEMPTS = "retryAttempts"

V2_DEVICE_COUNTERS = (
    "queued",
    "inProgress",
    "succeeded",
    "failed",
    "rejected",
    "timedOut",
    "canceled",
    "removed",
)
"""A V2 deployment's device counts, from its IoT job's jobProcessDetails."""

COUNTERS: Mapping[DeploymentKind, tuple[str, ...]] = {
    DeploymentKind.GREENGRASS_V1_BULK: (RECORDS_PROCESSED, INVALID_INPUT_RECORDS, RETRY_ATTEMPTS),
    DeploymentKind.GREENGRASS_V2: V2_DEVICE_COUNTERS,
}
"""The counters each kind reports, named as the notification's `metrics` names them."""


def counter_label(name: str) -> str:
    """A counter's name as words for people: `invalidInputRecords` is "Invalid input records"."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
    return words[:1].upper() + words[1:]


class Metrics(RootModel[dict[str, int]]):
    """A deployment's counters by name, in the same shape in the source's answer, the table and the
    notification: a V1 bulk deployment counts input records, a V2 deployment will count devices."""

    model_config = ConfigDict(frozen=True)

    root: dict[str, int] = Field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        """A counter's value; 0 for one the source did not report."""
        return self.root.get(name, 0)

    def for_kind(self, kind: DeploymentKind) -> Metrics:
        """Every counter of the kind (0 where unknown) in the kind's order, then any others."""
        names = COUNTERS.get(kind, ())
        return Metrics({**{name: self[name] for name in names}, **self.root})

    @classmethod
    def zero(cls, kind: DeploymentKind) -> Metrics:
        return cls().for_kind(kind)


class ErrorDetail(BaseModel):
    """One error a deployment reports: the same model in the answer, the table and the notification."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True)

    code: str | None = None
    message: str | None = None
    thing_name: str | None = None
    """The core device that failed (Greengrass V2); None for errors of a whole deployment (V1)."""


class ResultFailure(BaseModel):
    """One group deployment (V1) or one device (V2) that failed (domain/results.py builds them)."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True)

    group_arn: str | None = None
    """Greengrass V1: the group."""
    deployment_id: str | None = None
    """Greengrass V1: the group deployment."""
    thing_name: str | None = None
    """Greengrass V2: the core device."""
    code: str | None = None
    """Greengrass V2: the device's error code."""
    message: str | None = None
    """Greengrass V1: the group deployment's ErrorMessage; V2: the device's reason."""
    error_details: tuple[ErrorDetail, ...] = ()
    """Greengrass V1: the group deployment's ErrorDetails."""


class Results(BaseModel):
    """What a finished deployment did: counts by status and the first failures, bounded in bytes
    (domain/results.py builds and bounds them). Carried by an observation to its notification, never
    stored nor compared: it is not an observed fact."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True)

    total: int = 0
    """Group deployments (V1) or devices (V2) counted."""
    counts: dict[str, int] = Field(default_factory=dict)
    """By status as the source names it: V1 `Success`, `Failure`, …; V2 `succeeded`, `failed`, …"""
    failures: tuple[ResultFailure, ...] = ()
    truncated: bool = False
    """The failures do not name every failure (there were more, or they were cut to fit)."""
    error: str | None = None
    """Why the results could not be read (counts and failures are then empty): the transition is
    notified without them rather than late."""

    def with_failures(self, failures: tuple[ResultFailure, ...]) -> Results:
        """These results naming only `failures` (a prefix of its own), flagged as cut."""
        return self.model_copy(update={"failures": failures, "truncated": True})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


StuckReason = Literal["status", "progress"]
"""What did not move: the status (one non-terminal status for too long; a Greengrass V2 rollout
unsettled for too long), or the progress (records processed, devices finished)."""


class Pace(BaseModel):
    """ggwatch's own bookkeeping of how a deployment moves, for stuck and progress notifications.

    Stored with the observation it belongs to (domain/pace.py keeps it), so that a claim carries it
    and a run that takes the claim over commits it with the rest; it changes only when the deployment
    moves or a stuck episode opens or closes, so a deployment that stands still is not written.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True)

    phase_since: datetime
    """When the current phase began: the status (for Greengrass V2 also whether it is settled)."""
    moved_at: datetime
    """When the phase or the progress last changed."""
    stuck_since: datetime | None = None
    """The open stuck episode: when the clock that ran out started (None: no episode is open)."""
    stuck_reason: StuckReason | None = None
    progress_step: int = 0
    """The highest progress step (percent) notified."""


Status = Annotated[str, Field(min_length=1, max_length=64)]
"""A deployment status as the source names it; anything longer is a garbled answer, not a status."""


class _DeploymentFacts(_Frozen):
    """What both a source's answer and the stored state say about a deployment."""

    kind: DeploymentKind
    deployment_id: str
    metrics: Metrics = Field(default_factory=Metrics)
    error_message: str | None = None
    error_details: tuple[ErrorDetail, ...] = ()
    created_at: str | None = None
    deployment_arn: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    deployment_name: str | None = None
    target_arn: str | None = None
    revision_id: str | None = None
    job_id: str | None = None
    pace: Pace | None = None
    """Set by ggwatch's rules (domain/pace.py), never by a source; None before the first observation."""

    @model_validator(mode="before")
    @classmethod
    def _kind_counters_by_default(cls, data: Any) -> Any:
        """Unknown counters read as 0 of the kind's counters, as a fresh deployment has counted nothing."""
        if isinstance(data, dict) and "metrics" not in data and data.get("kind") in COUNTERS:
            return {**data, "metrics": Metrics.zero(DeploymentKind(data["kind"]))}
        return data


OBSERVED_FACTS = (
    "metrics",
    "error_message",
    "error_details",
    "created_at",
    "tags",
    "deployment_name",
    "target_arn",
    "revision_id",
    "job_id",
    "pace",
)
"""What an observation says of a deployment besides its status and identity; all of it is stored."""


class Observation(_DeploymentFacts):
    """One answer of a deployment source about one deployment, in ggwatch's own words."""

    status: Status
    results: Results | None = None
    """Greengrass V1: what the group deployments did, read when the status is terminal. Not an
    observed fact (not in OBSERVED_FACTS): it is neither stored nor compared, so it never makes a
    deployment that did not change look changed; it only rides to the transition's notification."""


class PendingTransition(_Frozen):
    """A notification claimed by one poller run but not yet confirmed as published.

    It is stored before publishing, so that a crash or an SNS failure leaves a record that a later run
    publishes again (same transitionId) instead of losing the transition.
    """

    transition_id: str
    message: str
    """The notification as published (JSON), so that a later run publishes the very same message."""
    observation: Observation | None
    """What commit stores once the message is out. None only in a claim written before claims kept
    it: such a claim is dropped and the deployment observed afresh."""
    claimed_at: datetime
    released: bool = False
    """Set by a run whose publish failed: the claim is nobody's, so the next run publishes it at once."""


class TrackedDeployment(_DeploymentFacts):
    """The stored state of one tracked deployment: what ggwatch last observed and notified."""

    status: Status | None = None
    """None until the first observation."""
    version: int = 0
    active: bool = True
    tracked_at: datetime
    tracked_by: str = "manual"
    region: str | None = None
    """The AWS region the deployment lives in; None: the stack's own region (items tracked before
    ggwatch polled more than one region have none)."""
    discovered_status: str | None = None
    """The status `ggwatch discover` saw when it tracked the deployment: what operators see until the
    first poll stores one (it is not `status`, so that first poll still notifies)."""
    last_changed_at: datetime | None = None
    last_transition_id: str | None = None
    pending: PendingTransition | None = None
