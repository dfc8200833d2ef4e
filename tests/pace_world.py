"""A polling pass over one V1 and one V2 source with in-memory ports and a controlled clock, for the
stuck and progress tests."""

from __future__ import annotations

from ggwatch.domain.models import DeploymentKind
from ggwatch.domain.pace import PacePolicy
from ggwatch.services.lanes import Lane
from ggwatch.services.poller import Poller, PollerPolicy
from tests.clock import START, Clock
from tests.fakes import InMemoryRepository, RecordingPublisher, ScriptedSource

V1 = DeploymentKind.GREENGRASS_V1_BULK
V2 = DeploymentKind.GREENGRASS_V2
MINUTE = 60


class PaceWorld:
    def __init__(self, pace: PacePolicy) -> None:
        self.repository = InMemoryRepository()
        self.v1 = ScriptedSource()
        self.v2 = ScriptedSource(kind=V2)
        self.publisher = RecordingPublisher()
        self.clock = Clock()
        self.poller = Poller(
            [Lane(self.repository, [self.v1, self.v2], self.publisher)],
            PollerPolicy(pace=pace),
            clock=self.clock,
        )

    def track(self, kind: DeploymentKind, deployment_id: str = "d-1") -> None:
        self.repository.track(kind, deployment_id, tracked_by="manual", now=START)

    def poll_every(self, minutes: float, times: int) -> None:
        for _ in range(times):
            self.clock.advance(minutes * MINUTE)
            self.poller.run()

    def events(self) -> list[str]:
        return [n.event_type for n in self.publisher.published]
