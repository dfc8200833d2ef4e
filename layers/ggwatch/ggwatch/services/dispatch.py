"""Starting a stream of work in order, a bounded number at a time per region, until told to stop.

The poller reads the active index as a stream in key order and hands each deployment to this
dispatcher. Each region has its own bound on work in flight (its own clients and API limits), and
regions run in parallel: a deployment whose region is full waits in a short queue while those of other
regions behind it start, up to `lookahead` waiting in all, so one slow region cannot idle the others
and memory stays bounded by what is in flight and waiting.

Whether a deployment may start is asked only at the moment it would start (`start` answers None when
the run has no time left for it); from then on nothing more starts, everything started finishes, and
the answer names the first deployment of the stream not started, where the next run begins.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class Dispatched[T, R]:
    """What a dispatch did: each started item's result in the order they started, and the first item
    of the stream not started (None when every one was)."""

    results: list[R] = field(default_factory=list)
    not_started: T | None = None


@dataclass(order=True)
class _Waiting[T]:
    position: int
    item: T = field(compare=False)


class Dispatcher[T, R]:
    """Runs `work` on worker threads, at most `per_group` at once in each group (a region)."""

    def __init__(self, per_group: int, lookahead: int | None = None) -> None:
        if per_group < 1:
            raise ValueError("per_group must be at least 1")
        self._per_group = per_group
        self._lookahead = per_group * 4 if lookahead is None else lookahead

    def run(
        self,
        items: Iterable[T],
        group: Callable[[T], Hashable],
        start: Callable[[T], Callable[[], R] | None],
    ) -> Dispatched[T, R]:
        """Start `items` in stream order as slots allow; `start(item)` is called on this thread just
        before an item would start and answers the work to run, or None to stop starting.

        An exception that is not an Exception (the runtime ending the run) stops the dispatch: nothing
        more starts, what is in flight finishes, and it is raised here."""
        state = _State[T, R](self._per_group, group)
        try:
            self._dispatch(state, enumerate(items), start)
        finally:
            state.drain()
        state.raise_fatal()
        return Dispatched([result for _, result in sorted(state.results)], state.first_not_started())

    def _dispatch(
        self,
        state: _State[T, R],
        stream: Iterator[tuple[int, T]],
        start: Callable[[T], Callable[[], R] | None],
    ) -> None:
        exhausted = False
        while not state.stopped:
            ready = state.next_ready()
            if ready is not None:
                state.begin(ready, start)
                continue
            if not exhausted and state.waiting_count < self._lookahead:
                read = next(stream, None)
                if read is None:
                    exhausted = True
                else:
                    state.enqueue(*read)
                continue
            if state.in_flight == 0:
                return  # nothing running, nothing startable: the stream is done
            state.collect_one()


class _State[T, R]:
    """The dispatcher's bookkeeping, touched only by the dispatching thread."""

    def __init__(self, per_group: int, group: Callable[[T], Hashable]) -> None:
        self._per_group = per_group
        self._group = group
        self._waiting: dict[Hashable, deque[_Waiting[T]]] = {}
        self._running: dict[Hashable, int] = {}
        self._done: queue.SimpleQueue[tuple[Hashable, int, Future[R]]] = queue.SimpleQueue()
        self._pools: dict[Hashable, ThreadPoolExecutor] = {}
        self.results: list[tuple[int, R]] = []
        self.in_flight = 0
        self.waiting_count = 0
        self.stopped = False
        self._fatal: BaseException | None = None

    def enqueue(self, position: int, item: T) -> None:
        self._waiting.setdefault(self._group(item), deque()).append(_Waiting(position, item))
        self.waiting_count += 1

    def next_ready(self) -> tuple[Hashable, _Waiting[T]] | None:
        """The earliest waiting item whose group has a free slot."""
        ready = [
            (waiting[0], name)
            for name, waiting in self._waiting.items()
            if waiting and self._running.get(name, 0) < self._per_group
        ]
        if not ready:
            return None
        first, name = min(ready)
        return name, first

    def begin(
        self,
        ready: tuple[Hashable, _Waiting[T]],
        start: Callable[[T], Callable[[], R] | None],
    ) -> None:
        name, waiting = ready
        work = start(waiting.item)
        if work is None:
            self.stopped = True
            return
        self._waiting[name].popleft()
        self.waiting_count -= 1
        self._running[name] = self._running.get(name, 0) + 1
        self.in_flight += 1
        pool = self._pools.get(name)
        if pool is None:
            pool = self._pools[name] = ThreadPoolExecutor(self._per_group, f"ggwatch-{name}")
        future = pool.submit(work)
        future.add_done_callback(lambda done: self._done.put((name, waiting.position, done)))

    def collect_one(self) -> None:
        """Wait for one started item to finish and free its slot."""
        name, position, future = self._done.get()
        self._running[name] -= 1
        self.in_flight -= 1
        error = future.exception()
        if error is None:
            self.results.append((position, future.result()))
        elif isinstance(error, Exception):
            raise error  # the work must turn failures into results; a bug here is the caller's
        else:
            self._fatal = self._fatal or error
            self.stopped = True

    def drain(self) -> None:
        """Let every started item finish (each was started only if it could), then end the threads."""
        while self.in_flight:
            try:
                self.collect_one()
            except Exception as error:  # kept, raised once all have finished
                self._fatal = self._fatal or error
        for pool in self._pools.values():
            pool.shutdown()

    def raise_fatal(self) -> None:
        if self._fatal is not None:
            raise self._fatal

    def first_not_started(self) -> T | None:
        """Of the items read but not started, the first in the stream; the unread ones come later."""
        candidates = [w for waiting in self._waiting.values() for w in waiting]
        return min(candidates).item if candidates else None
