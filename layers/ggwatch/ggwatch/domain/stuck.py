"""When a deployment is stuck, and when it recovers: one DeploymentStuck per episode, then one
DeploymentRecovered. Pure: no I/O.

A deployment is stuck when, in a non-terminal status, its phase lasted longer than the kind's status
threshold or its progress stood still longer than the kind's progress threshold. A finished deployment
and a settled continuous Greengrass V2 deployment (done for its current targets) are never stuck. The
episode stays open, so nothing more is said, until the deployment moves: for a progress episode any
movement, for a status episode a new phase (more progress within a status that lasts too long is not a
recovery, or a slow rollout would flap), and for both the end of the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ggwatch.domain.models import Observation, StuckReason, TrackedDeployment
from ggwatch.domain.pace import PacePolicy, current, is_resting, movement

REASONS_IN_ORDER: tuple[StuckReason, ...] = ("progress", "status")
"""When both thresholds ran out, the episode is about progress: any movement then ends it."""


@dataclass(frozen=True)
class Stuck:
    """An episode: what did not move, since when, and how long until `now`."""

    reason: StuckReason
    since: datetime
    duration: timedelta
    threshold: timedelta | None


def opened(
    stored: TrackedDeployment, observation: Observation, *, now: datetime, policy: PacePolicy
) -> Stuck | None:
    """A new episode, when the observation shows a deployment that did not move for too long (a
    finished one always changed its phase: it is never stuck)."""
    pace, seen = current(stored), movement(stored, observation)
    if (
        stored.status is None
        or pace.stuck_since is not None
        or is_resting(observation.kind, observation.status, observation.metrics)
        or seen.phase_changed
    ):
        return None
    clocks = {"progress": None if seen.progress_changed else pace.moved_at, "status": pace.phase_since}
    for reason in REASONS_IN_ORDER:
        threshold, since = policy.threshold(stored.kind, reason), clocks[reason]
        if threshold and since is not None and now - since >= threshold:
            return Stuck(reason, since, now - since, threshold)
    return None


def closed(
    stored: TrackedDeployment, observation: Observation, *, now: datetime, policy: PacePolicy
) -> Stuck | None:
    """The open episode, when the observation ends it: the deployment moved again, or finished (a
    terminal status is a new phase)."""
    pace = stored.pace
    if pace is None or pace.stuck_since is None or pace.stuck_reason is None:
        return None
    seen = movement(stored, observation)
    if not (seen.phase_changed or (pace.stuck_reason == "progress" and seen.progress_changed)):
        return None
    reason = pace.stuck_reason
    return Stuck(reason, pace.stuck_since, now - pace.stuck_since, policy.threshold(stored.kind, reason))
