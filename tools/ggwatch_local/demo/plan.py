"""What the operator will do and when: which lives to start, at what pace, and which to stop.

Every time here is at speed 1 and divided by `--speed`, so a faster demo tells the same story.
"""

from __future__ import annotations

from dataclasses import dataclass

from ggwatch_local.greengrass import Life, lives
from ggwatch_local.greengrass_v2 import FleetLife
from ggwatch_local.greengrass_v2 import lives as fleet_lives

from .options import DemoOptions

UNKNOWN_LIFE = "unknown-id"
"""The life column of the deployment tracked by hand that Greengrass has never heard of."""
V2_LIVES = ("rollout_with_failures", "single_device", "canceled")
"""The Greengrass V2 deployments started beside the bulk ones: a thing group of 50 where 3 devices
fail (continuous, so it never ends), one device that completes, and a rollout canceled part way."""

STEP_SECONDS = 3.0
POLL_SECONDS = 1.0
START_GAP_SECONDS = 0.5
STOP_AFTER_STEPS = 1.5
"""Times at speed 1: how long each step of a life lasts, the schedule, the gap between two starts,
and when the operator stops a deployment that is to be stopped (mid-Running)."""


@dataclass(frozen=True)
class Planned:
    """One deployment the operator will start: its life, when to start it, and whether to stop it."""

    life_name: str
    life: Life
    start_at: float
    stop_after: float | None


def plan(options: DemoOptions) -> list[Planned]:
    """The named lives in turn, so every kind of ending shows up from four deployments on."""
    step = STEP_SECONDS / options.speed
    names = list(lives.NAMED_LIVES)
    planned = []
    for index in range(options.deployments):
        name = names[index % len(names)]
        life = lives.NAMED_LIVES[name](step_seconds=step)
        stop_after = STOP_AFTER_STEPS * step if "Stopping" in {s.status for s in life} else None
        planned.append(Planned(name, life, index * START_GAP_SECONDS / options.speed, stop_after))
    return planned


@dataclass(frozen=True)
class PlannedV2:
    """One Greengrass V2 deployment the operator will create: its life and when to create it.

    Its life is held at each step and moved on by the demo every step, once a poll has seen the step
    (`run`), so the notifications it causes are the same at any speed on any machine.
    """

    life_name: str
    life: FleetLife
    start_at: float


def plan_v2(options: DemoOptions) -> list[PlannedV2]:
    """The V2 lives, started after the bulk deployments, half a gap apart."""
    first = options.deployments * START_GAP_SECONDS / options.speed
    return [
        PlannedV2(
            name, fleet_lives.NAMED_LIVES[name](), first + (index + 0.5) * START_GAP_SECONDS / options.speed
        )
        for index, name in enumerate(V2_LIVES)
    ]
