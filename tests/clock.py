"""The one clock tests control: time moves only when a test says so, so nothing waits on a real clock.

Call it for the datetime the services read (`Poller(clock=clock)`); `epoch` is the same instant in
seconds, for the parts that count seconds (the delivery ledger, the Greengrass fake).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
"""Where every clock starts unless a test says otherwise (the factories' `observed_at`)."""


class Clock:
    """A clock that stands still until `advance` (or a test setting `now`) moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
