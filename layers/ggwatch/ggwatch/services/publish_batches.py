"""Claimed notifications from a run's workers, sent PUBLISH_BATCH_MAX to a call.

A worker that claimed a transition hands its notification here and waits until the call that carried it
has answered for it; only then does it commit (or release its claim), so claim -> publish -> commit holds
for each notification exactly as with one call each. A batch leaves when it is full, when no worker of
the run could still add to it (every one in flight is waiting here), or when its first notification has
waited `linger_seconds`: the dispatcher keeps starting deployments while any are left, so "nobody could
add" alone would hold a lone transition until the run ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ggwatch.domain.notification import Notification
from ggwatch.exceptions import PublishError
from ggwatch.ports import PUBLISH_BATCH_MAX, NotificationPublisher

DEFAULT_LINGER_SECONDS = 0.05
"""About one Greengrass answer: in a burst, the workers started together claim within it of each other,
so waiting this long fills batches; alone, a transition is late by 50 ms, nothing beside Slack's pace."""


@dataclass(eq=False)
class _Entry:
    notification: Notification
    taken: bool = False
    """In a call already: no other worker may send it again."""
    done: bool = False
    error: BaseException | None = None


@dataclass(eq=False)
class _Batch:
    entries: list[_Entry] = field(default_factory=list)
    since: float = 0.0


class PublishBatcher:
    """One per lane and run (a lane's publisher has the SDK budget its workers were started with)."""

    def __init__(
        self,
        publisher: NotificationPublisher,
        *,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publisher = publisher
        self._linger = linger_seconds
        self._clock = clock
        self._changed = threading.Condition()
        self._open = _Batch()
        self._busy = 0
        """Workers started and not waiting here: each may still add a notification."""
        self.calls = 0

    def started(self) -> None:
        """A worker that may publish was started (called before it runs, so it counts at once)."""
        with self._changed:
            self._busy += 1

    def finished(self) -> None:
        """The worker is done: if the others all wait here, their batch need not wait for it."""
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()

    def publish(self, notification: Notification) -> None:
        """Return once the notification was published; raise PublishError when it was not."""
        entry = _Entry(notification)
        with self._changed:
            self._busy -= 1
            if not self._open.entries:
                self._open.since = self._clock()
            self._open.entries.append(entry)
            self._changed.notify_all()
        try:
            self._await(entry)
        finally:
            with self._changed:
                self._busy += 1
        if entry.error is not None:
            raise entry.error

    def _await(self, entry: _Entry) -> None:
        """Wait for the call that carries `entry`; send the open batch when it is this worker's turn."""
        while True:
            with self._changed:
                if entry.done:
                    return
                batch = self._due()
                if batch is None:
                    self._changed.wait(self._wait_seconds(entry))
                    continue
            self._send(batch)

    def _due(self) -> list[_Entry] | None:
        """The open batch, taken for sending, when it should leave now; None otherwise."""
        entries = self._open.entries
        if not entries:
            return None
        full = len(entries) >= PUBLISH_BATCH_MAX
        lingered = self._clock() - self._open.since >= self._linger
        if not (full or self._busy == 0 or lingered):
            return None
        taken, self._open = entries[:PUBLISH_BATCH_MAX], _Batch(entries[PUBLISH_BATCH_MAX:], self._clock())
        for waiting in taken:
            waiting.taken = True
        return taken

    def _wait_seconds(self, entry: _Entry) -> float | None:
        """Until the open batch's linger is over; a taken entry waits for its call's answer."""
        if entry.taken:
            return None
        return max(0.0, self._open.since + self._linger - self._clock())

    def _send(self, batch: list[_Entry]) -> None:
        """One publish_batch call; each entry learns its own result (a crash reaches every waiter)."""
        errors: list[BaseException | None]
        try:
            results = self._publisher.publish_batch([entry.notification for entry in batch])
            errors = list(results)
            if len(errors) != len(batch):
                errors = [PublishError(f"{len(errors)} results for {len(batch)} notifications")] * len(batch)
        except BaseException as error:  # handed to every worker it carried
            errors = [error] * len(batch)
        with self._changed:
            self.calls += 1
            for entry, result in zip(batch, errors, strict=True):
                entry.error, entry.done = result, True
            self._changed.notify_all()
