"""The small interfaces between the services and the outside world; adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:  # annotations only: a handler imports the models it uses itself, and only those
    from ggwatch.domain.models import DeploymentKind, Observation, PendingTransition, TrackedDeployment
    from ggwatch.domain.notification import Notification
    from ggwatch.exceptions import PublishError


@dataclass(frozen=True)
class Deadline:
    """The run's deadline as a source sees it, for the calls an answer can do without: a Greengrass V2
    rollout's failed executions and the reason of each newly failed device, a finished V1 deployment's
    report pages. The calls every answer needs were allowed for before the run started the deployment."""

    may_call: Callable[[], bool]
    """Whether the run still has time for one more of those calls at its slowest."""
    partial: bool = False
    """When it has not: False, the source raises DeadlineReachedError and the run defers the deployment
    to the next run, which polls it first; True, the source answers with what it read (the run's first
    deployment, which no later run would give more time)."""


@dataclass(frozen=True)
class DeploymentSummary:
    """A deployment as a source lists it, enough to decide whether to track it."""

    kind: DeploymentKind
    deployment_id: str
    deployment_arn: str | None
    created_at: str | None


class DeploymentSource(Protocol):
    """Where deployments of one kind live (Greengrass V1 bulk deployments; V2 fleets later)."""

    @property
    def kind(self) -> DeploymentKind: ...

    @property
    def region(self) -> str | None: ...

    def get_status(self, deployment_id: str, deadline: Deadline | None = None) -> Observation:
        """The deployment's current state; raises DeploymentNotFoundError, SourceThrottledError or
        SourceUnavailableError, and DeadlineReachedError as `deadline` says (None: no deadline)."""
        ...

    def list_deployments(self) -> Iterator[DeploymentSummary]:
        """Every deployment the source knows, newest first where the source orders them."""
        ...


@dataclass(frozen=True)
class ActiveItem:
    """One entry read from the active index: a tracked deployment, or why it could not be read."""

    key: str
    deployment: TrackedDeployment | None
    problem: str | None = None


class DeploymentRepository(Protocol):
    """Stored state of tracked deployments, with optimistic concurrency on `version`."""

    def active(
        self,
        kind: DeploymentKind,
        *,
        region: str | None = None,
        from_key: str | None = None,
        after_key: str | None = None,
        before_key: str | None = None,
    ) -> Iterator[ActiveItem]:
        """Active deployments of one kind tracked in `region` (None: the stack's own) whose key is at or
        after `from_key` (or after `after_key`) and before `before_key` (every bound optional), in key
        order, read a page at a time as the caller goes: never all of them at once."""
        ...

    def get(self, kind: DeploymentKind, deployment_id: str) -> TrackedDeployment | None: ...

    def all(self) -> Iterator[ActiveItem]:
        """Every tracked deployment, active or finished (for operators; a full read)."""
        ...

    def track(
        self,
        kind: DeploymentKind,
        deployment_id: str,
        *,
        tracked_by: str,
        now: datetime,
        deployment_arn: str | None = None,
        region: str | None = None,
        discovered_status: str | None = None,
    ) -> bool:
        """Start tracking; False when it was tracked already (nothing changes then). `region` is where
        the deployment lives, None for the stack's own region; a re-tracked item keeps its first.
        `discovered_status` is what `discover` saw (kept until polled: see TrackedDeployment)."""
        ...

    def untrack(self, kind: DeploymentKind, deployment_id: str, *, now: datetime, expires_at: int) -> bool:
        """Stop polling it (the item expires at `expires_at`); False when it was not tracked or active."""
        ...

    def claim(self, stored: TrackedDeployment, pending: PendingTransition) -> TrackedDeployment:
        """Record a transition about to be published; raises ConflictError if the item moved on."""
        ...

    def release(self, stored: TrackedDeployment) -> TrackedDeployment:
        """Give up the claim this run wrote (`stored` is the claimed version) after its publish failed, so
        that the next run publishes it at once; raises ConflictError if the item moved on."""
        ...

    def commit(
        self,
        stored: TrackedDeployment,
        observation: Observation,
        *,
        now: datetime,
        expires_at: int | None,
        transition_id: str | None = None,
    ) -> TrackedDeployment:
        """Store an observation (and clear any pending transition); raises ConflictError on a race."""
        ...

    def relocate(self, kind: DeploymentKind, deployment_id: str, region: str) -> bool:
        """Move an active deployment of `region` from the stack's own partition of the active index to
        its region's (one tracked before regions had partitions of their own); False when it is no
        longer active there."""
        ...

    def request_check(
        self, kind: DeploymentKind, deployment_id: str, *, now: datetime, window: timedelta
    ) -> TrackedDeployment | None:
        """Mark an active deployment as being checked now, unless a check was requested less than
        `window` ago (a conditional write, so a burst of events from many devices checks it once);
        answers the item as written, or None when it is not tracked, no longer active, or checked
        within the window."""
        ...

    def cursor(self, kind: DeploymentKind, region: str | None = None) -> str | None:
        """Where the last run that hit its deadline stopped, so the next starts with those not reached.
        `region`: a region run's own cursor (see PollScope); None: the scheduled run's."""
        ...

    def set_cursor(self, kind: DeploymentKind, key: str | None, region: str | None = None) -> None: ...


class NotificationPublisher(Protocol):
    """The hub every channel subscribes to."""

    def publish(self, notification: Notification) -> str:
        """Publish one notification; returns the message ID or raises PublishError."""
        ...

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        """Publish up to PUBLISH_BATCH_MAX notifications in as few calls as the service allows; one
        result per notification, in order: None where it was published, else why not (a failed call
        fails every notification in it). Raises nothing for a failure to publish."""
        ...


PUBLISH_BATCH_MAX = 10
"""The most notifications one publish_batch takes: SNS PublishBatch's (and EventBridge PutEvents')
entries per call."""


Claim = Literal["claimed", "delivered", "sending"]
"""What claiming one delivery found: it is ours to send now, it was delivered already, or another
invocation holds a live claim on it (which is not a delivery: the message may yet fail)."""


class DeliveryLedger(Protocol):
    """Records which destination already took which transition, so retries and copies post once.

    Channel-neutral: a destination is named by a string (a Slack webhook's name, for instance)."""

    @property
    def worst_case_call_seconds(self) -> float:
        """The longest one of the calls below can take, for the caller's deadline."""
        ...

    def begin(self, transition_id: str, destination: str, *, lease_seconds: float) -> Claim:
        """Claim a delivery for `lease_seconds`, after which another invocation may take it over."""
        ...

    def mark_delivered(self, transition_id: str, destination: str) -> None: ...

    def release(self, transition_id: str, destination: str) -> None: ...
