"""What a deployment source reports and what ggwatch remembers about a tracked deployment."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class DeploymentKind(StrEnum):
    """Every kind of deployment ggwatch can watch; each has one deployment source."""

    GREENGRASS_V1_BULK = "greengrass-v1-bulk"


class V1BulkStatus(StrEnum):
    """The statuses GetBulkDeploymentStatus documents. Others may appear later and are carried through."""

    INITIALIZING = "Initializing"
    RUNNING = "Running"
    COMPLETED = "Completed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"


TRACKING_FAILED = "TrackingFailed"
"""ggwatch's own status for a deployment the source does not know: notified once, then no longer polled."""

TERMINAL_STATUSES = frozenset(
    {V1BulkStatus.COMPLETED, V1BulkStatus.STOPPED, V1BulkStatus.FAILED, TRACKING_FAILED}
)


def is_terminal(status: str | None) -> bool:
    """True for statuses after which a deployment never changes again."""
    return status in TERMINAL_STATUSES


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Metrics(_Frozen):
    """Counters of a bulk deployment's input records."""

    records_processed: int = 0
    invalid_input_records: int = 0
    retry_attempts: int = 0


class ErrorDetail(_Frozen):
    """One entry of the API's ErrorDetails list."""

    code: str | None = None
    message: str | None = None


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


class Observation(_DeploymentFacts):
    """One answer of a deployment source about one deployment, in ggwatch's own words."""

    status: str


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

    status: str | None = None
    """None until the first observation."""
    version: int = 0
    active: bool = True
    tracked_at: datetime
    tracked_by: str = "manual"
    last_changed_at: datetime | None = None
    last_transition_id: str | None = None
    pending: PendingTransition | None = None
