"""Which adapters a poller run can still afford: the deadline arithmetic, kept apart from polling.

A lane is one set of adapters with the longest one of their calls can take. A run goes through the most
patient lane whose slowest calls still leave time to write the cursor through the most hurried lane
and keep the end-of-run reserve; when not even the most hurried lane fits, the run stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ggwatch.domain.models import DeploymentKind
from ggwatch.ports import DeploymentRepository, DeploymentSource, NotificationPublisher


@dataclass(frozen=True)
class Lane:
    """The adapters a run reaches the outside world through, and the longest one of their calls can
    take (derived from their clients' timeouts and attempts)."""

    repository: DeploymentRepository
    sources: Sequence[DeploymentSource]
    publisher: NotificationPublisher
    worst_call_ms: int = 0

    def source(self, kind: DeploymentKind) -> DeploymentSource:
        return next(source for source in self.sources if source.kind == kind)


@dataclass(frozen=True)
class Lanes:
    """Lanes from the most patient (full SDK retries) to the most hurried (one short attempt)."""

    lanes: Sequence[Lane]
    end_of_run_reserve_ms: int

    @property
    def kinds(self) -> list[DeploymentKind]:
        return [source.kind for source in self.lanes[0].sources]

    @property
    def minimum_run_ms(self) -> int:
        """The time a run needs to poll one deployment at all: read the active index and the cursor,
        ask about one deployment, then write the cursor, every call through the most hurried lane."""
        return 4 * self.lanes[-1].worst_call_ms + self.end_of_run_reserve_ms

    def for_calls(self, calls: int, remaining_ms: int) -> Lane | None:
        """The most patient lane in which `calls` calls at their slowest still leave time for the
        cursor write through the most hurried lane; None when not even the most hurried one does."""
        closing = self.lanes[-1].worst_call_ms + self.end_of_run_reserve_ms
        fitting = (lane for lane in self.lanes if remaining_ms >= calls * lane.worst_call_ms + closing)
        return next(fitting, None)

    def for_closing(self, remaining_ms: int) -> Lane:
        """The lane for a run's last write: the most patient one that fits, else the most hurried."""
        reserve = self.end_of_run_reserve_ms
        fitting = (lane for lane in self.lanes if remaining_ms >= lane.worst_call_ms + reserve)
        return next(fitting, self.lanes[-1])
