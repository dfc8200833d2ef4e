"""Time under the test's control: a clock that moves only when told, and Lambda contexts that run out.

The poller and the delivery ledger read `Clock`, so leases and schedules pass without sleeping; the
contexts let a test decide exactly where a run meets its deadline or its timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ggwatch.settings import PollerSettings
from tests.conftest import LambdaContext
from tests.faults.faults import SimulatedCrash

SAFETY_MARGIN_MS = int(PollerSettings.model_fields["SAFETY_MARGIN_MS"].default)
"""The poller's default safety margin, which the world leaves as configured."""
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
    """A context whose time left drops by `spend_ms` at every look, as a run's time runs out."""

    spend_ms: int = 1000
    looks: int = 0

    def get_remaining_time_in_millis(self) -> int:
        left = self.remaining_ms - self.looks * self.spend_ms
        self.looks += 1
        return left


@dataclass
class TimedContext(LambdaContext):
    """A context whose time is spent by simulated slow calls; at zero the runtime kills the run."""

    def spend(self, ms: int) -> None:
        self.remaining_ms -= ms
        if self.remaining_ms <= 0:
            raise SimulatedCrash("the function timed out")


def deadline_after(items: int) -> Countdown:
    """Time for `items` deployments, then less than the poller's safety margin (SAFETY_MARGIN_MS)."""
    return Countdown(remaining_ms=SAFETY_MARGIN_MS + items * Countdown.spend_ms - 1)
