"""Soak: hundreds of deployments through random lives under random faults, then the same invariant.

A quarter of them are Greengrass V2 deployments (rising failures, cancel, replacement by a newer
revision), whose GetDeployment and IoT job calls get throttling and 5xx faults of their own.

Seeded, so a failure replays: the RNG picks each life, each run's faults (Greengrass throttling
bursts, 5xx, malformed answers, timeouts and dropped connections; SNS and DynamoDB errors and crashes
before and after every step of claim, publish and commit; deadlines; overlapping runs) and Slack's
429s and 500s. A life moves on one step only after the poller stored the current one, so the expected
transitions are exact. At the end every transition must have reached every channel exactly once,
except where a webhook Slack always refuses wanted it: each of those fails all of Lambda's attempts
and must be in the DLQ (DLQ + delivered = all).
"""

from __future__ import annotations

import os
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from ggwatch_local.greengrass import TRUNCATED_BODY, WRONGLY_TYPED_BODY, ErrorDetail, Fault, Step
from ggwatch_local.greengrass_v2 import FleetLife, Operation, lives
from ggwatch_local.greengrass_v2 import faults as fleet_faults
from ggwatch_local.slack_receiver import Reply, rate_limited, server_error
from tests.faults.channels import ALERTS_PATH, OPS_PATH
from tests.faults.clock import deadline_after
from tests.faults.faults import Action, Phase, Stage, aws_error, crash
from tests.faults.world import World

pytestmark = [pytest.mark.soak, pytest.mark.filterwarnings("ignore:No application metrics to publish")]

SEED = int(os.environ.get("GGWATCH_SOAK_SEED", "20261128"))
"""Fixed, so a failure replays; set GGWATCH_SOAK_SEED to explore other worlds."""
DEPLOYMENTS = int(os.environ.get("GGWATCH_SOAK_DEPLOYMENTS", "200"))
WINDOW = 12
"""Deployments alive at once; a finished one makes room for the next."""
MAX_RUNS = 250
"""A safety net: the seeded soak finishes in far fewer runs."""

GREENGRASS_FAULTS: list[tuple[Callable[[], Fault], tuple[int, ...], int]] = [
    (Fault.throttle, (1, 2), 4),
    (Fault.server_error, (1, 2), 3),
    (lambda: Fault.server_error(http_status=503), (2,), 1),
    (lambda: Fault.malformed_body(WRONGLY_TYPED_BODY), (1,), 2),
    (lambda: Fault.malformed_body(TRUNCATED_BODY), (1,), 1),
    (Fault.drop_connection, (1, 2), 2),
    (lambda: Fault.delay(1.0), (1,), 1),
]
"""A fault, how many consecutive answers it spoils (2 outlasts the soak's 2 SDK attempts), its weight.
A delay costs a whole read timeout, so it is the rarest."""

FLEET_LIVES: list[Callable[[], FleetLife]] = [
    lambda: lives.rollout_with_failures(devices=12),
    lambda: lives.canceled(devices=6),
    lambda: lives.continuous_replaced(devices=4, joining=1),
    lives.single_device,
]
"""Greengrass V2 lives, small fleets so the soak stays quick: failures rising, cancel, replacement."""
FLEET_SHARE = 0.25
"""How many of the soak's deployments are Greengrass V2 ones."""
FLEET_FAULTS: list[tuple[Fault, Operation]] = [
    (fleet_faults.throttling("greengrassv2"), "GetDeployment"),
    (fleet_faults.server_error("greengrassv2"), "GetDeployment"),
    (fleet_faults.throttling("iot"), "DescribeJob"),
    (fleet_faults.server_error("iot"), "ListJobExecutionsForJob"),
]

STEPS: list[tuple[Stage, Phase]] = [
    ("claim", "before"),
    ("claim", "after"),
    ("publish", "before"),
    ("publish", "after"),
    ("release", "before"),
    ("commit", "before"),
    ("commit", "after"),
    ("cursor", "before"),
]
CALL_FAULTS: list[tuple[Stage, Phase, Action]] = [
    (stage, phase, action) for stage, phase in STEPS for action in (crash, aws_error())
]
SNS_TOOK_IT = {("publish", "after"), ("commit", "before")}
"""Where a fault leaves a message SNS accepted but the state not committed: a later run re-publishes
it, so the automation subscriber may see a copy (same transitionId) for that deployment."""


@dataclass
class Soak:
    world: World
    rng: random.Random
    waiting: list[str] = field(default_factory=lambda: [f"bd-{i:04d}" for i in range(DEPLOYMENTS)])
    active: list[str] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    due: set[str] = field(default_factory=set)
    """Deployments with a step the poller has not stored yet: where pipeline faults can strike."""
    copies_allowed: set[str] = field(default_factory=set)
    scripted: dict[str, int] = field(default_factory=lambda: {OPS_PATH: 0, ALERTS_PATH: 0})

    def run(self) -> None:
        world = self.world
        while self.waiting or self.active:
            assert world.runs < MAX_RUNS, f"not finished after {world.runs} runs: {len(self.active)} active"
            self.top_up()
            self.inject_faults()
            self.one_run()
            self.copies_allowed |= {
                deployment_id
                for fired in world.calls.fired
                if (fired.stage, fired.phase) in SNS_TOOK_IT
                for deployment_id in (fired.deployment_id, *fired.batch)
                if deployment_id
            }
            world.greengrass.clear_faults()
            world.fleet.clear_faults()
            world.calls.clear()
            world.drain()
            world.deliver_slack()
            fresh = world.items(self.due)  # the others are stored as shown and cannot change
            world.assert_honest(fresh)
            self.items.update(fresh)
            self.move_lives_on()
            world.tick()
        world.deliver_slack()

    def top_up(self) -> None:
        while self.waiting and len(self.active) < WINDOW:
            deployment_id = self.waiting.pop(0)
            chance = self.rng.random()
            if chance < 0.05:
                self.world.add_unknown(deployment_id)
            elif chance < 0.05 + FLEET_SHARE:
                deployment_id = self.world.add_fleet(
                    own_target(self.rng.choice(FLEET_LIVES)(), deployment_id)
                )
            else:
                self.world.add(deployment_id, *random_life(self.rng))
            self.active.append(deployment_id)
            self.due.add(deployment_id)

    def inject_faults(self) -> None:
        rng, world = self.rng, self.world
        for deployment_id in self.active:
            if deployment_id in world.fleet_ids and rng.random() < 0.08:
                fault, operation = rng.choice(FLEET_FAULTS)
                world.fleet.inject(
                    fault, operation=operation, deployment_id=deployment_id, times=rng.choice((1, 2))
                )
            elif rng.random() < 0.08:
                make, spoils, _ = rng.choices(GREENGRASS_FAULTS, weights=[f[2] for f in GREENGRASS_FAULTS])[0]
                world.greengrass.inject(
                    make(),
                    operation="GetBulkDeploymentStatus",
                    deployment_id=deployment_id,
                    times=rng.choice(spoils),
                )
        if rng.random() < 0.1:  # a throttling burst hits whichever calls come next
            world.greengrass.inject(
                Fault.throttle(), operation="GetBulkDeploymentStatus", times=rng.randint(2, 6)
            )
        if self.due and rng.random() < 0.5:
            stage, phase, action = rng.choice(CALL_FAULTS)
            target = None if stage == "cursor" else rng.choice(sorted(self.due))
            world.calls.inject(stage, action, phase=phase, deployment_id=target)
        for path in (OPS_PATH, ALERTS_PATH):
            if rng.random() < 0.3 and self.unserved_slack_faults(path) == 0:
                replies = [rng.choice([rate_limited(1), server_error()]) for _ in range(rng.randint(1, 4))]
                self.script(path, replies)

    def one_run(self) -> None:
        choice = self.rng.random()
        if choice < 0.15:
            self.world.poll_overlapping(rendezvous="query")
        elif choice < 0.3:
            self.world.poll(deadline_after(self.rng.randint(0, len(self.active))).context)
        else:
            self.world.poll()

    def move_lives_on(self) -> None:
        for deployment_id in list(self.active):
            item = self.items[deployment_id]
            if deployment_id in self.due:
                if not self.world.observed(deployment_id, item):
                    continue
                self.due.discard(deployment_id)
            if self.world.finished(deployment_id):
                self.active.remove(deployment_id)
                del self.items[deployment_id]
            elif self.rng.random() < 0.8:
                self.world.advance(deployment_id, item)
                self.due.add(deployment_id)

    def script(self, path: str, replies: list[Reply]) -> None:
        self.world.receiver.script(*replies, path=path)
        self.scripted[path] += len(replies)

    def unserved_slack_faults(self, path: str) -> int:
        """At most 4 faults wait per webhook, so an event never fails all of Lambda's 3 attempts."""
        served = sum(1 for r in self.world.receiver.requests if r.path == path and not r.reply.accepted)
        return self.scripted[path] - served


def own_target(life: FleetLife, suffix: str) -> FleetLife:
    """The life aimed at a target of its own: a second deployment to the same thing group would
    replace the first, as Greengrass does, and end its life early."""
    return replace(life, target=replace(life.target, name=f"{life.target.name}-{suffix}"))


def random_life(rng: random.Random) -> tuple[Step, ...]:
    """[Initializing] → [Running, 1-2 batches] → Completed | Failed | Stopping → Stopped | errors while
    Running → Failed. Tracking may begin late, so a life can start at any point.

    Consecutive steps always differ in status, metrics or errors, so a stored step is recognisable."""
    records = 0

    def running(**errors: Any) -> Step:
        nonlocal records
        records += rng.randint(1, 5)
        return Step("Running", records_processed=records, **errors)

    start = [Step("Initializing")] if rng.random() < 0.4 else []
    middle = [running() for _ in range(rng.choices([0, 1, 2], weights=[4, 5, 1])[0])]
    ending = rng.choices(["completes", "fails", "stopped", "retrying"], weights=[5, 3, 1, 1])[0]
    if ending == "completes":
        end = [Step("Completed", records_processed=records + rng.randint(1, 3))]
    elif ending == "fails":
        end = [failed(rng, records)]
    elif ending == "stopped":
        end = [Step("Stopping", records_processed=records), Step("Stopped", records_processed=records)]
    else:  # errors appear while still Running (an "errors" notification), then it fails
        end = [
            running(error_message="Retrying 2 groups.", error_details=details(rng)),
            failed(rng, records + 1),
        ]
    return (*start, *middle, *end)


def failed(rng: random.Random, records: int) -> Step:
    return Step(
        "Failed",
        records_processed=records,
        invalid_input_records=rng.randint(0, 3),
        error_message=f"Bulk deployment failed: {text(rng, 60)}",
        error_details=details(rng),
    )


def details(rng: random.Random) -> tuple[ErrorDetail, ...]:
    codes = ["GroupNotFound", "AccessDenied", "InvalidInputFile", "ThrottlingException"]
    return tuple(ErrorDetail(rng.choice(codes), text(rng, 200)) for _ in range(rng.randint(0, 3)))


def text(rng: random.Random, longest: int) -> str:
    alphabet = string.ascii_letters + string.digits + " <>&*_~`|:é✓—"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, longest)))


def test_random_lives_and_faults_never_lose_or_duplicate_a_notification(
    make_world: Callable[..., World],
) -> None:
    # Given a world with two SDK attempts and short timeouts, so that faults cost little, and a third
    # webhook, gone for good, that wants Stopping notifications
    world = make_world(sdk_attempts=2, read_timeout=0.2, broken_statuses=frozenset({"Stopping"}))
    soak = Soak(world, random.Random(SEED))

    # When hundreds of deployments live their random lives through runs with random faults
    soak.run()

    # Then every transition reached every channel exactly once (copies only where SNS had taken it),
    # and every Stopping one is in the DLQ once
    assert world.settled()
    figures = world.check(copies_allowed=soak.copies_allowed)
    print(figures.line())
    assert figures.transitions >= 2 * DEPLOYMENTS
    assert (figures.lost, figures.duplicated) == (0, 0)
    assert figures.dead_lettered > 0
    # And the soak did exercise what it is for, Greengrass V2 fleets among the deployments
    assert figures.faults >= DEPLOYMENTS // 4
    assert len(world.fleet_ids) >= DEPLOYMENTS // 8
