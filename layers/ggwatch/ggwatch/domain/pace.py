"""How a deployment moves: its phase, its progress, and the bookkeeping stuck and progress rules read.

Pure: no I/O. A deployment *moves* when its phase changes (its status; for a Greengrass V2 deployment
also whether devices wait for it, so that a device joining a settled deployment starts a fresh
clock) or its progress does (V1: records processed, which the API counts "processed or attempted";
V2: devices finished, whatever their outcome).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ggwatch.domain import fleet_rules
from ggwatch.domain.models import (
    RECORDS_PROCESSED,
    DeploymentKind,
    Metrics,
    Observation,
    Pace,
    StuckReason,
    TrackedDeployment,
    V2DeploymentStatus,
)

Phase = tuple[str | None, bool]


@dataclass(frozen=True)
class PacePolicy:
    """The thresholds of the stuck rule per kind and reason, and the progress step; None: off."""

    stuck_after: Mapping[tuple[DeploymentKind, StuckReason], timedelta] = field(default_factory=dict)
    """A missing entry turns that check off."""
    progress_step: int | None = None
    """Percent; None: no DeploymentProgress notifications."""

    def threshold(self, kind: DeploymentKind, reason: StuckReason) -> timedelta | None:
        return self.stuck_after.get((kind, reason))


def phase(kind: DeploymentKind, status: str | None, metrics: Metrics) -> Phase:
    """The status, and for Greengrass V2 whether devices wait for the deployment (queued or in
    progress): a rollout that settles, or one that resumes for a device joining its target, is a new
    phase with clocks of its own."""
    return status, kind == DeploymentKind.GREENGRASS_V2 and _waiting(metrics) > 0


def _waiting(metrics: Metrics) -> int:
    return sum(metrics[name] for name in fleet_rules.UNFINISHED_COUNTERS)


def progress(kind: DeploymentKind, metrics: Metrics) -> int:
    """Records processed (V1 bulk) or devices finished, whatever their outcome (V2)."""
    if kind == DeploymentKind.GREENGRASS_V2:
        return fleet_rules.devices(metrics) - _waiting(metrics)
    return metrics[RECORDS_PROCESSED]


def total(kind: DeploymentKind, metrics: Metrics) -> int | None:
    """Everything the progress counts towards: the devices a V2 job reached; None for a V1 bulk
    deployment, whose API does not say how many records its input file holds."""
    return fleet_rules.devices(metrics) if kind == DeploymentKind.GREENGRASS_V2 else None


def is_resting(kind: DeploymentKind, status: str, metrics: Metrics) -> bool:
    """An ACTIVE Greengrass V2 deployment that no device waits for: settled (done for its current
    targets), or targeting an empty thing group. Nothing is held up, so it is never stuck."""
    return (
        kind == DeploymentKind.GREENGRASS_V2 and status == V2DeploymentStatus.ACTIVE and not _waiting(metrics)
    )


@dataclass(frozen=True)
class Movement:
    """How an observation differs from the stored state, in the terms of the pace rules."""

    phase_changed: bool
    progress_changed: bool

    @property
    def moved(self) -> bool:
        return self.phase_changed or self.progress_changed


def movement(stored: TrackedDeployment, observation: Observation) -> Movement:
    kind = stored.kind
    return Movement(
        phase_changed=phase(kind, stored.status, stored.metrics)
        != phase(kind, observation.status, observation.metrics),
        progress_changed=progress(kind, stored.metrics) != progress(kind, observation.metrics),
    )


def current(stored: TrackedDeployment) -> Pace:
    """The stored bookkeeping; for an item stored before ggwatch kept it, its last change stands in
    for both clocks (later than the truth, so such an item is found stuck late, never early)."""
    since = stored.last_changed_at or stored.tracked_at
    return stored.pace or Pace(phase_since=since, moved_at=since)


def paced(stored: TrackedDeployment, observation: Observation, now: datetime) -> Observation:
    """The observation with the bookkeeping to store with it: the stored one unless the deployment
    moved, so that a deployment that stands still is not written."""
    seen = movement(stored, observation)
    pace = stored.pace
    if seen.moved:
        base = current(stored)
        pace = base.model_copy(
            update={"moved_at": now, "phase_since": now if seen.phase_changed else base.phase_since}
        )
    return observation if observation.pace == pace else observation.model_copy(update={"pace": pace})
