"""What the demo saw, kept apart from how it is shown: the live lines and the summary both read it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pydantic import ValidationError

from ggwatch.domain.models import Results
from ggwatch_local.lambda_runtime import Invocation

TERMINAL = frozenset({"Completed", "Failed", "Stopped", "TrackingFailed"})
V1_BULK = "v1 bulk"
V2 = "v2"
"""The kind column: a Greengrass V1 bulk deployment or a Greengrass V2 deployment."""


def marked(status: str, changes: tuple[str, ...]) -> str:
    """A status with the other reasons it was news, e.g. ``ACTIVE+errors+settled``: a V2 deployment
    tells new failed devices and a finished rollout while its status stays ACTIVE."""
    return "".join([status, *(f"+{change}" for change in changes if change != "status")])


def results_summary(results: object) -> str | None:
    """A notification's `results` (see the README's notification schema) in a few words, e.g. ``7
    Success, 3 Failure; 3 failures listed (list cut)``; None when it has none, or cannot be read."""
    try:
        read = Results.model_validate(results)
    except ValidationError:
        return None
    parts = [", ".join(f"{n} {status}" for status, n in read.counts.items())] if read.counts else []
    if read.failures:
        listed = len(read.failures)
        parts.append(
            f"{listed} failure{'s' if listed != 1 else ''} listed{' (list cut)' if read.truncated else ''}"
        )
    if read.error:
        parts.append(f"not available: {read.error}")
    return "; ".join(parts) or None


def device_progress(metrics: dict[str, int]) -> str:
    """A V2 deployment's devices in a few words, e.g. ``47/50 ok, 3 failed``."""
    total = sum(metrics.values())
    failed = sum(metrics.get(name, 0) for name in ("failed", "rejected", "timedOut"))
    running = metrics.get("queued", 0) + metrics.get("inProgress", 0)
    parts = [f"{metrics.get('succeeded', 0)}/{total} ok"]
    parts += [
        f"{n} {word}"
        for n, word in ((failed, "failed"), (running, "to go"), (metrics.get("canceled", 0), "canceled"))
        if n
    ]
    return ", ".join(parts)


@dataclass
class Tracked:
    """One deployment as the demo saw it: its transitions and the Slack messages they caused."""

    deployment_id: str
    life_name: str
    kind: str = V1_BULK
    transitions: list[tuple[str | None, str, tuple[str, ...]]] = field(default_factory=list)
    transition_ids: set[str] = field(default_factory=set)
    messages: Counter[str] = field(default_factory=Counter)
    devices: str | None = None
    """A V2 deployment's device progress, as its last notification counted it."""
    events: Counter[str] = field(default_factory=Counter)
    """transitionId -> how many events carrying it were put on the bus."""
    results: str | None = None
    """The last `results` summary its notifications carried (see results_summary)."""
    life_over: bool = False
    """A V2 deployment whose life reached its last step and was polled there: a thing-group
    deployment stays ACTIVE, so its status alone never says it is over."""

    @property
    def status(self) -> str | None:
        return self.transitions[-1][1] if self.transitions else None

    @property
    def done(self) -> bool:
        return self.life_over if self.kind == V2 else self.status in TERMINAL

    def shown(self, status: str, changes: tuple[str, ...]) -> str:
        """A V2 status with its other reasons to be news (a V1 status change says it all)."""
        return marked(status, changes) if self.kind == V2 else status

    @property
    def events_match(self) -> bool:
        """Each transition put on the bus exactly once, and nothing else: the same transitionIds as SNS."""
        return set(self.events) == self.transition_ids and all(n == 1 for n in self.events.values())

    @property
    def chain(self) -> str:
        statuses = [self.transitions[0][0] or "new"] if self.transitions else []
        return " → ".join(
            [*statuses, *(self.shown(status, changes) for _, status, changes in self.transitions)]
        )


@dataclass
class DemoReport:
    deployments: dict[str, Tracked] = field(default_factory=dict)
    duplicates: int = 0
    failed_deliveries: int = 0
    failed_invocations: list[Invocation] = field(default_factory=list)
    finished: bool = False
    interrupted: bool = False
    elapsed: float = 0.0

    @property
    def events(self) -> int:
        """Events put on the bus, all deployments."""
        return sum(sum(t.events.values()) for t in self.deployments.values())

    @property
    def event_mismatches(self) -> int:
        """Deployments whose events on the bus are not their SNS notifications, one for one."""
        return sum(not t.events_match for t in self.deployments.values())

    @property
    def ok(self) -> bool:
        return self.finished and not (
            self.duplicates or self.failed_deliveries or self.failed_invocations or self.event_mismatches
        )
