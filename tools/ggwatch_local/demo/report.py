"""What the demo saw, kept apart from how it is shown: the live lines and the summary both read it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ggwatch_local.lambda_runtime import Invocation

TERMINAL = frozenset({"Completed", "Failed", "Stopped", "TrackingFailed"})


@dataclass
class Tracked:
    """One deployment as the demo saw it: its transitions and the Slack messages they caused."""

    deployment_id: str
    life_name: str
    transitions: list[tuple[str | None, str]] = field(default_factory=list)
    transition_ids: set[str] = field(default_factory=set)
    messages: Counter[str] = field(default_factory=Counter)

    @property
    def status(self) -> str | None:
        return self.transitions[-1][1] if self.transitions else None

    @property
    def chain(self) -> str:
        statuses = [self.transitions[0][0] or "new"] if self.transitions else []
        return " → ".join([*statuses, *(status for _, status in self.transitions)])


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
    def ok(self) -> bool:
        return self.finished and not (self.duplicates or self.failed_deliveries or self.failed_invocations)
