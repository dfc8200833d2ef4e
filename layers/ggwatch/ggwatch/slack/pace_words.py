"""What a Slack message says about a deployment's pace (stuck, moving again, progress), in plain words.

Plain text only, like `v2_words`: `blocks` escapes it and adds the markup. None for a notification
that is not about pace, so the caller falls back to the words of a status change.
"""

from __future__ import annotations

from ggwatch.domain.models import DeploymentKind
from ggwatch.domain.notification import PROGRESS_EVENT, RECOVERED_EVENT, STUCK_EVENT, Notification


def sentence(notification: Notification) -> str | None:
    """`Stuck: no progress for 2 h 5 min (still Running, 40 records processed)`, `Moving again after
    3 h stuck`, `Rollout at 50 %: 10 of 20 devices finished`."""
    stuck, progress = notification.stuck, notification.progress
    if notification.event_type == STUCK_EVENT and stuck is not None:
        how_long = duration(stuck.duration_seconds)
        if stuck.reason == "progress":
            return f"Stuck: no progress for {how_long} (still {notification.status}, {_done(notification, stuck.progress)})"
        if notification.deployment_kind == DeploymentKind.GREENGRASS_V2:
            return f"Stuck: rollout not settled after {how_long} ({_done(notification, stuck.progress)})"
        return f"Stuck: {notification.status} for {how_long} ({_done(notification, stuck.progress)})"
    if notification.event_type == RECOVERED_EVENT and stuck is not None:
        return f"Moving again after {duration(stuck.duration_seconds)} stuck"
    if notification.event_type == PROGRESS_EVENT and progress is not None:
        return f"Rollout at {progress.percent} %: {progress.finished} of {progress.total} devices finished"
    return None


def headline(notification: Notification) -> str | None:
    """A few words for a header: `stuck`, `moving again`, `50 % finished`."""
    if notification.event_type == STUCK_EVENT:
        return "stuck"
    if notification.event_type == RECOVERED_EVENT:
        return "moving again"
    if notification.event_type == PROGRESS_EVENT and notification.progress is not None:
        return f"{notification.progress.percent} % finished"
    return None


def duration(seconds: int) -> str:
    """`45 min`, `2 h 5 min`, `1 d 3 h`: the two largest units, enough for a rollout's pace."""
    minutes = max(seconds, 0) // 60
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _done(notification: Notification, count: int) -> str:
    if notification.deployment_kind == DeploymentKind.GREENGRASS_V2:
        return f"{count} {'device' if count == 1 else 'devices'} finished"
    return f"{count} {'record' if count == 1 else 'records'} processed"
