"""Opt-in progress notifications: one DeploymentProgress when a rollout crosses a step. Pure: no I/O.

Only a kind whose source counts the whole (Greengrass V2: the devices its job reached) has a share to
cross; a V1 bulk deployment reports records processed but not how many its input file holds. A poll
that jumps several steps names the highest reached, once. A finished deployment, and the last step
(100 %, which the "settled" or final status change already says), get none.
"""

from __future__ import annotations

from dataclasses import dataclass

from ggwatch.domain.models import Observation, TrackedDeployment, is_terminal
from ggwatch.domain.pace import current, progress, total


@dataclass(frozen=True)
class Step:
    percent: int
    finished: int
    total: int


def reached(stored: TrackedDeployment, observation: Observation, *, step: int | None) -> Step | None:
    """The step the observation reached, when it is above the last one notified."""
    whole = total(observation.kind, observation.metrics)
    if not step or not whole or stored.status is None or is_terminal(observation.status):
        return None
    finished = progress(observation.kind, observation.metrics)
    percent = finished * 100 // whole // step * step
    if percent >= 100 or percent <= current(stored).progress_step:
        return None
    return Step(percent, finished, whole)
