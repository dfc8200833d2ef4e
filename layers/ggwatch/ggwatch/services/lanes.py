"""Which adapters a poller run can still afford: the deadline arithmetic, kept apart from polling.

A lane is one set of adapters with the longest one of their calls can take. A run goes through the most
patient lane whose slowest calls still leave time to write the cursor through the most hurried lane
and keep the end-of-run reserve; when not even the most hurried lane fits, the run stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ggwatch.domain.models import DeploymentKind
from ggwatch.exceptions import SourceUnavailableError
from ggwatch.ports import DeploymentRepository, DeploymentSource, NotificationPublisher


class SourcesByRegion:
    """Every kind's source in each region a tracked deployment lives in, built on first use and kept.

    One region's clients serve all its deployments, from every worker thread (boto3 clients are
    thread-safe); the lock only keeps two workers from building the same region's clients twice.
    """

    def __init__(
        self,
        kinds: Sequence[DeploymentKind],
        build: Callable[[str | None], Sequence[DeploymentSource]],
        home_region: str | None = None,
    ) -> None:
        self.kinds = list(kinds)
        self._build = build
        self._home_region = home_region
        self._built: dict[str | None, Sequence[DeploymentSource]] = {}
        self._lock = threading.Lock()

    def source(self, kind: DeploymentKind, region: str | None) -> DeploymentSource:
        """`region` None (or the home region's name) is the home region."""
        where = None if region == self._home_region else region
        with self._lock:
            sources = self._built.get(where)
            if sources is None:
                sources = self._built[where] = self._build(where)
        return next(source for source in sources if source.kind == kind)


@dataclass(frozen=True)
class Lane:
    """The adapters a run reaches the outside world through, and the longest one of their calls can
    take (derived from their clients' timeouts and attempts).

    `sources` is SourcesByRegion, or a fixed list of one region's sources (a test, one home region).
    """

    repository: DeploymentRepository
    sources: Sequence[DeploymentSource] | SourcesByRegion
    publisher: NotificationPublisher
    worst_call_ms: int = 0

    @property
    def kinds(self) -> list[DeploymentKind]:
        if isinstance(self.sources, SourcesByRegion):
            return self.sources.kinds
        return [source.kind for source in self.sources]

    def source(self, kind: DeploymentKind, region: str | None = None) -> DeploymentSource:
        """The source of `kind` in `region` (None: the home region). A fixed list serves only its own
        region: a deployment elsewhere fails to poll (and is retried) rather than being asked about in
        the wrong region, which would answer that it does not exist."""
        if isinstance(self.sources, SourcesByRegion):
            return self.sources.source(kind, region)
        source = next(source for source in self.sources if source.kind == kind)
        if region is not None and source.region is not None and region != source.region:
            raise SourceUnavailableError(f"no {kind.value} source for region {region}")
        return source


@dataclass(frozen=True)
class Lanes:
    """Lanes from the most patient (full SDK retries) to the most hurried (one short attempt)."""

    lanes: Sequence[Lane]
    end_of_run_reserve_ms: int

    @property
    def kinds(self) -> list[DeploymentKind]:
        return self.lanes[0].kinds

    @property
    def minimum_run_ms(self) -> int:
        """The time a run needs to poll one deployment at all: read the active index and the cursor,
        ask about one deployment, then write the cursor, every call through the most hurried lane."""
        return 4 * self.lanes[-1].worst_call_ms + self.end_of_run_reserve_ms

    def for_calls(self, calls: int, remaining_ms: int) -> Lane | None:
        """The most patient lane in which `calls` calls at their slowest still leave time for the
        cursor write through the most hurried lane; None when not even the most hurried one does."""
        return next((lane for lane in self.lanes if self.fits(lane, calls, remaining_ms)), None)

    def fits(self, lane: Lane, calls: int, remaining_ms: int) -> bool:
        """Whether `calls` calls through `lane` at their slowest still leave time for the cursor write
        through the most hurried lane and the end-of-run reserve."""
        closing = self.lanes[-1].worst_call_ms + self.end_of_run_reserve_ms
        return remaining_ms >= calls * lane.worst_call_ms + closing

    def for_closing(self, remaining_ms: int) -> Lane:
        """The lane for a run's last write: the most patient one that fits, else the most hurried."""
        reserve = self.end_of_run_reserve_ms
        fitting = (lane for lane in self.lanes if remaining_ms >= lane.worst_call_ms + reserve)
        return next(fitting, self.lanes[-1])
