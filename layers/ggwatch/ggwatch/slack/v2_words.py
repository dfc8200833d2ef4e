"""What a Slack message says about a Greengrass V2 deployment, in words people read (pure, plain text).

A V2 notification carries API words (`INACTIVE`, `timedOut`, a target ARN, device counts); this module
turns them into what an operator reads at a glance: "Replaced by a newer revision", "Thing group
edge-fleet", "3 more devices failed", `▰▰▰▰▰▰▰▰▰▱ 47/50 succeeded · 3 failed · 0 in progress`. It adds
no Slack markup and escapes nothing: `blocks` does both, for every kind alike.
"""

from __future__ import annotations

from ggwatch.domain import fleet_rules
from ggwatch.domain.models import V2DeploymentStatus, counter_label
from ggwatch.domain.notification import Notification

STATUS_WORDS: dict[str, str] = {
    V2DeploymentStatus.ACTIVE: "Active",
    V2DeploymentStatus.COMPLETED: "Completed",
    V2DeploymentStatus.CANCELED: "Canceled",
    V2DeploymentStatus.FAILED: "Failed",
    V2DeploymentStatus.INACTIVE: "Replaced by a newer revision",
}

TARGET_LABELS = {"thinggroup": "Thing group", "thing": "Thing"}
"""The resource types of an IoT target ARN (`arn:aws:iot:…:thinggroup/NAME`, `…:thing/NAME`)."""

BAR_WIDTH = 10
BAR_DONE = "▰"
BAR_TODO = "▱"
"""Geometric shapes that Unicode does not list as emoji, so clients draw them as text, not as pictures;
`blocks` puts the bar in a code span, whose monospace font keeps every bar the same width."""

HEADLINE_COUNTERS = ("succeeded", "failed", "inProgress")
"""Always shown, even at zero; the other counters only when a device is in that state."""
_COUNTER_ORDER = (  # display order
    "succeeded",
    "failed",
    "rejected",
    "timedOut",
    "inProgress",
    "queued",
    "canceled",
    "removed",
)


def status_words(status: str) -> str:
    """A documented status as words; any other (a newer API value, TrackingFailed) as it is."""
    return STATUS_WORDS.get(status, status)


def title(notification: Notification) -> str:
    """What names the deployment for people: its name, or its ID when it has none."""
    return notification.deployment_name or notification.deployment_id


def news(notification: Notification) -> list[str]:
    """What happened to the rollout besides a status change, in lower case: failures, then settling."""
    said = []
    if "errors" in notification.changes:
        said.append(_newly_failed(notification))
    if "settled" in notification.changes:
        said.append("rollout settled")
    return said


def change_words(notification: Notification) -> str:
    """The change as one phrase: `Active → Failed · 3 more devices failed`, `Rollout settled (still Active)`."""
    now = status_words(notification.status)
    happened = news(notification)
    if notification.previous_status is None:
        return " · ".join([f"First seen: {now}", *happened])
    if "status" in notification.changes or not happened:
        return " · ".join([f"{status_words(notification.previous_status)} → {now}", *happened])
    sentence = " · ".join(happened)
    return f"{sentence[:1].upper()}{sentence[1:]} (still {now})"


def _newly_failed(notification: Notification) -> str:
    """The count is exact only when every detail names a device and none was dropped to fit a size."""
    devices = sum(1 for detail in notification.error_details if detail.thing_name)
    if notification.truncated or devices == 0 or devices != len(notification.error_details):
        return "more devices failed"
    return f"{devices} more {'device' if devices == 1 else 'devices'} failed"


def target(target_arn: str | None) -> tuple[str, str] | None:
    """The target as (label, name), e.g. ("Thing group", "edge-fleet"); any other ARN as ("Target", ARN)."""
    if not target_arn:
        return None
    resource = target_arn.split(":", 5)[-1]
    kind, slash, name = resource.partition("/")
    if slash and name and kind in TARGET_LABELS:
        return TARGET_LABELS[kind], name
    return "Target", target_arn


def progress_bar(notification: Notification) -> str:
    """The share of targeted devices that succeeded, as BAR_WIDTH shapes; full only when all did."""
    total = _total(notification)
    done = notification.metrics["succeeded"] * BAR_WIDTH // total if total > 0 else 0
    done = min(max(done, 0), BAR_WIDTH)
    return BAR_DONE * done + BAR_TODO * (BAR_WIDTH - done)


def progress_counts(notification: Notification) -> str:
    """`47/50 succeeded · 3 failed · 0 in progress`, then each other state that holds a device."""
    metrics = notification.metrics
    parts = [f"{metrics['succeeded']}/{_total(notification)} succeeded"]
    for name in _COUNTER_ORDER[1:]:
        if name in HEADLINE_COUNTERS or metrics[name]:
            parts.append(f"{metrics[name]} {counter_label(name).lower()}")
    return " · ".join(parts)


def _total(notification: Notification) -> int:
    """Every device the job counts: each is in exactly one of the states."""
    return fleet_rules.devices(notification.metrics)
