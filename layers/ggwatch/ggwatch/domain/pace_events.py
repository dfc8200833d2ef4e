"""The notifications about a deployment's pace (stuck, recovered, progress) and what each stores. Pure.

One poll of one deployment yields at most one of them, before any status-change notification of the
same poll: its commit stores the stored facts unchanged with only the bookkeeping (domain/pace.py)
updated, so a run that dies after it still finds the status change to notify, and a run that dies
before it finds the same event again, with the same transitionId (from the deployment, the episode's
start or the step, and the event type).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from ggwatch.domain import progress, stuck
from ggwatch.domain.models import Observation, TrackedDeployment
from ggwatch.domain.notification import (
    PROGRESS_EVENT,
    RECOVERED_EVENT,
    STUCK_EVENT,
    Notification,
    ProgressDetail,
    StuckDetail,
)
from ggwatch.domain.pace import PacePolicy, current
from ggwatch.domain.pace import progress as progress_count
from ggwatch.domain.transitions import as_observed, build_notification, iso


@dataclass(frozen=True)
class PaceEvent:
    notification: Notification
    observation: Observation
    """What its commit stores: the stored facts as they were, with the new bookkeeping."""


def pace_event(
    stored: TrackedDeployment,
    observation: Observation,
    *,
    now: datetime,
    policy: PacePolicy,
    region: str | None,
) -> PaceEvent | None:
    """The one pace notification this observation calls for: a recovery, else a new stuck episode,
    else a progress step (a step crossed by the poll that recovered is notified by the next)."""
    if stored.status is None:
        return None
    pace = current(stored)
    detail: StuckDetail | ProgressDetail
    if episode := stuck.closed(stored, observation, now=now, policy=policy):
        event_type, key = RECOVERED_EVENT, _episode_key(episode)
        after = pace.model_copy(update={"stuck_since": None, "stuck_reason": None})
        detail = _stuck_detail(episode, progress_count(observation.kind, observation.metrics))
    elif episode := stuck.opened(stored, observation, now=now, policy=policy):
        event_type, key = STUCK_EVENT, _episode_key(episode)
        after = pace.model_copy(update={"stuck_since": episode.since, "stuck_reason": episode.reason})
        detail = _stuck_detail(episode, progress_count(observation.kind, observation.metrics))
    elif step := progress.reached(stored, observation, step=policy.progress_step):
        event_type, key = PROGRESS_EVENT, str(step.percent)
        after = pace.model_copy(update={"progress_step": step.percent})
        detail = ProgressDetail(percent=step.percent, finished=step.finished, total=step.total)
    else:
        return None
    parts = [stored.kind.value, stored.deployment_id, event_type, key]
    # As of the stored status with the counts seen now: the status a poll finds changed is said by
    # the status change that follows, so the state stored after each notification is the one it
    # describes, and a run that dies between the two leaves no stored state that contradicts it.
    seen = as_observed(stored, stored.status, metrics=observation.metrics)
    notification = build_notification(stored, seen, (), observed_at=now, region=region).model_copy(
        update={
            "event_type": event_type,
            "transition_id": hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32],
            "stuck" if isinstance(detail, StuckDetail) else "progress": detail,
        }
    )
    # Its commit keeps the stored facts, so that the poll's status change is still found.
    return PaceEvent(notification, as_observed(stored, stored.status, pace=after))


def _episode_key(episode: stuck.Stuck) -> str:
    """What names an episode: a status episode and a later progress episode may start at the same
    moment (the status began when the progress last moved), so the reason is part of the name."""
    return f"{episode.reason}@{iso(episode.since)}"


def _stuck_detail(episode: stuck.Stuck, progress_now: int) -> StuckDetail:
    return StuckDetail(
        reason=episode.reason,
        since=iso(episode.since),
        duration_seconds=int(episode.duration.total_seconds()),
        threshold_seconds=int(episode.threshold.total_seconds()) if episode.threshold else None,
        progress=progress_now,
    )
