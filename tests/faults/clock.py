"""Time under the test's control: a clock that moves only when told, and Lambda contexts that run out.

The poller and the delivery ledger read `Clock`, so leases and schedules pass without sleeping; the
contexts let a test decide exactly where a run meets its deadline or its timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ggwatch.adapters.sdk_config import HURRIED
from ggwatch.settings import PollerSettings
from tests.conftest import LambdaContext
from tests.faults.faults import SimulatedCrash

DEPLOYMENT_NEEDS_MS = 2 * HURRIED.worst_case_ms + int(
    PollerSettings.model_fields["END_OF_RUN_RESERVE_MS"].default
)
"""The least time left in which the poller starts a deployment: one hurried call, then the cursor write
through the hurried lane, then the end-of-run reserve (the world leaves the settings as configured)."""
_START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    """The time the poller and the delivery ledger see."""

    def __init__(self) -> None:
        self._now = _START

    def now(self) -> datetime:
        return self._now

    def epoch(self) -> float:
        return self._now.timestamp()

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


@dataclass
class Countdown(LambdaContext):
    """A context with time for the handler's timeout check, the reads and `items` deployments, then too
    little to start another, as if those deployments had taken the rest of the run."""

    items: int = 0
    looks: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.looks += 1
        return self.remaining_ms if self.looks <= self.items + 2 else DEPLOYMENT_NEEDS_MS - 1


@dataclass
class TimedContext(LambdaContext):
    """A context whose time is spent by simulated slow calls; at zero the runtime kills the run."""

    def spend(self, ms: int) -> None:
        self.remaining_ms -= ms
        if self.remaining_ms <= 0:
            raise SimulatedCrash("the function timed out")


def deadline_after(items: int) -> Countdown:
    """A run cut short after `items` deployments; it looks at its time `items + 3` times."""
    return Countdown(items=items)
