"""Which tracked deployments one poller run polls: those of one region, read from that region's own
partition of the active index, with that region's own cursor.

An idle poll is CPU-bound (SDK calls, parsing): one Lambda's vCPU takes about as long per deployment
whatever the concurrency. With PollRegions set, the scheduled run therefore polls the stack's own
region and starts a run of its own for each other region (an invocation with its own vCPU, clients and
limits), so k regions take about the time of one, and no run reads another region's deployments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollScope:
    region: str | None = None
    """The region whose deployments the run polls; None: the stack's own."""
