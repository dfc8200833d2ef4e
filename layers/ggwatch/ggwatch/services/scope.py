"""Which tracked deployments one poller run polls, by region.

An idle poll is CPU-bound (SDK calls, parsing): one Lambda's vCPU takes about as long per deployment
whatever the concurrency. With PollRegions set, the scheduled run therefore hands each other region to
a run of its own (an invocation with its own vCPU, clients and limits) and polls the rest itself, so k
regions take about the time of one. Each scope keeps its own cursor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PollScope:
    region: str | None = None
    """A region run's region; None: the scheduled run."""
    handed_off: frozenset[str] = frozenset()
    """The scheduled run's regions that runs of their own poll (those it could not start stay its own)."""

    @classmethod
    def handing_off(cls, regions: Iterable[str]) -> PollScope:
        return cls(handed_off=frozenset(regions))

    def covers(self, region: str | None) -> bool:
        """Whether a deployment in `region` (None: the stack's own, or a garbled item) is this run's."""
        if self.region is not None:
            return region == self.region
        return region not in self.handed_off
