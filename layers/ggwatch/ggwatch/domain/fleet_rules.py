"""Pure rules of Greengrass V2 deployments: when devices failed, when a rollout settled, what to say.

A V2 deployment reaches many core devices, so its errors are counts and a list of the newest failed
devices rather than one message. What is news is a rise in the failure count: a device list that
merely reorders, or drops an old entry, is stored without a notification.
"""

from __future__ import annotations

from typing import Final

from ggwatch.domain.models import (
    V2_DEVICE_COUNTERS,
    DeploymentKind,
    ErrorDetail,
    Metrics,
    Observation,
    TrackedDeployment,
    V2DeploymentStatus,
)
from ggwatch.domain.notification import Change
from ggwatch.domain.sizes import truncate

FAILURE_COUNTERS: Final = ("failed", "rejected", "timedOut")
"""Devices that did not apply the deployment."""
UNFINISHED_COUNTERS: Final = ("queued", "inProgress")
MAX_NEW_FAILURES: Final = 25
"""How many newly failed devices one notification names (the source names at most as many)."""
SUMMARY_MAX_BYTES: Final = 2_000
"""The failure summary (errorMessage) in bytes: a few dozen devices with their reasons, and short
enough for a chat message."""


def failures(metrics: Metrics) -> int:
    """Failed + rejected + timed-out devices."""
    return sum(metrics[name] for name in FAILURE_COUNTERS)


def devices(metrics: Metrics) -> int:
    """Every device the deployment's job reached, whatever its state."""
    return sum(metrics[name] for name in V2_DEVICE_COUNTERS)


def settled(metrics: Metrics) -> bool:
    """The rollout to the current targets finished: at least one target, none queued or running."""
    return devices(metrics) > 0 and not any(metrics[name] for name in UNFINISHED_COUNTERS)


def is_settled(deployment: TrackedDeployment) -> bool:
    """A continuous Greengrass V2 deployment whose rollout to its current targets finished: ACTIVE
    and settled. It changes only when a device or the target's membership does."""
    return (
        deployment.kind == DeploymentKind.GREENGRASS_V2
        and deployment.status == V2DeploymentStatus.ACTIVE
        and settled(deployment.metrics)
    )


def changes(stored: TrackedDeployment, observation: Observation) -> tuple[Change, ...]:
    """A new status; more failed devices than stored (one "errors" however many failed since); a
    rollout that finished since the stored state."""
    found: list[Change] = []
    if stored.status != observation.status:
        found.append("status")
    if failures(observation.metrics) > failures(stored.metrics):
        found.append("errors")
    if settled(observation.metrics) and not settled(stored.metrics):
        found.append("settled")
    return tuple(found)


def newly_failed(stored: TrackedDeployment, observation: Observation) -> tuple[ErrorDetail, ...]:
    """The devices that failed since the stored state, newest first, at most MAX_NEW_FAILURES.

    The rise of the failure count says how many are new; the stored list says which are not (a device
    stored as failed already is never named twice, even when the stored list was cut short).
    """
    rise = failures(observation.metrics) - failures(stored.metrics)
    if rise <= 0:
        return ()
    known = {detail.thing_name for detail in stored.error_details}
    fresh = [detail for detail in observation.error_details if detail.thing_name not in known]
    return tuple(fresh[: min(rise, MAX_NEW_FAILURES)])


def failure_summary(metrics: Metrics, failed: tuple[ErrorDetail, ...]) -> str | None:
    """ "3 of 50 devices failed: thing-a (code: reason), ..." naming `failed` (newest first); None
    while no device failed. Cut to SUMMARY_MAX_BYTES."""
    count = failures(metrics)
    if count == 0:
        return None
    total = max(devices(metrics), count)
    text = f"{count} of {total} {'device' if total == 1 else 'devices'} failed"
    if failed:
        text += ": " + ", ".join(map(_device, failed))
        if count > len(failed):
            text += f", and {count - len(failed)} more"
    return truncate(text, SUMMARY_MAX_BYTES)


def _device(detail: ErrorDetail) -> str:
    reason = f"{detail.code}: {detail.message}" if detail.message else detail.code
    return f"{detail.thing_name} ({reason})" if reason else str(detail.thing_name)
