"""Never miss, never spam, for Greengrass V2 too: the real handlers, a V2 fleet, one fault at a time.

Each test ends with the suite's own invariant (`world.check()`): every transition a fleet life owes
(a new status, more failed devices, a rollout that settled) reached the automation subscriber and the
`ops` Slack channel exactly once, and the stored state never claims more than was published.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ggwatch.adapters.greengrass_v2 import REASON_NOT_READ
from ggwatch_local.greengrass_v2 import (
    DeviceFailure,
    Execution,
    FleetLife,
    FleetStep,
    Target,
    faults,
    lives,
)
from tests.faults.clock import LAMBDA_TIMEOUT_MS, RunTime
from tests.faults.faults import Action, Call, Phase, Stage, aws_error, crash
from tests.faults.world import World

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def walk_to_the_end(world: World, *deployment_ids: str) -> None:
    """Each life one step on after every quiet run, until all are at their last step."""
    world.run_until_quiet()
    while unfinished := [d for d in deployment_ids if not world.finished(d)]:
        for deployment_id in unfinished:
            world.advance(deployment_id)
        world.run_until_quiet()


def test_throttled_describe_job_delays_only_that_deployment_and_a_later_run_notifies_it(
    make_world: Callable[..., World],
) -> None:
    # Given a rollout in which devices fail, and a single-device deployment, both notified so far
    world = make_world(sdk_attempts=2)
    rollout = world.add_fleet(lives.rollout_with_failures(devices=10))
    single = world.add_fleet(lives.single_device())
    world.run_until_quiet()
    world.advance(rollout)
    world.advance(single)
    # And IoT throttling every attempt to read the rollout's job in the next run
    world.fleet.inject(faults.throttling("iot"), operation="DescribeJob", deployment_id=rollout, times=2)

    # When the poller runs
    world.tick()
    summary = world.poll()

    # Then only the rollout waits (stored as it was, nothing claimed); the other was read and stored
    assert summary is not None
    assert (summary["polled"], summary["failed"]) == (2, 1)
    assert world.observed(single, world.item(single))
    stored = world.item(rollout)
    assert (stored["status"], stored["metrics"]["failed"], "pending" in stored) == ("ACTIVE", 0, False)
    # When later runs find IoT answering, through both lives to their ends
    walk_to_the_end(world, rollout, single)

    # Then every transition (each rise in failures included) reached every channel once
    figures = world.check()
    assert figures.transitions == 4 + 2
    world.assert_honest(world.items(world.lives))


@pytest.mark.parametrize(
    ("stage", "phase", "action", "sns_took_it"),
    [
        ("claim", "after", crash, False),
        ("publish", "before", crash, False),
        ("publish", "after", crash, True),
        ("publish", "before", aws_error("InternalError"), False),
        ("commit", "before", crash, True),
    ],
    ids=[
        "crash-after-claim",
        "crash-before-publish",
        "crash-after-publish",
        "sns-error",
        "crash-before-commit",
    ],
)
def test_a_v2_errors_transition_interrupted_between_claim_and_commit_is_notified_once(
    world: World, stage: Stage, phase: Phase, action: Action, sns_took_it: bool
) -> None:
    # Given a rollout notified as rolling out, whose first device has now failed
    rollout = world.add_fleet(lives.rollout_with_failures(devices=10))
    world.run_until_quiet()
    world.advance(rollout)
    # And the next run interrupted at that step of the "errors" transition
    world.calls.inject(stage, action, phase=phase, deployment_id=rollout)

    # When the poller runs
    world.tick()
    world.poll()
    world.drain()

    # Then the interruption happened, and the stored state claims no more than was published
    assert len(world.calls.fired) == 1
    world.assert_honest(world.items(world.lives))
    # When later runs come, past the claim's lease, and the rollout goes on to its end
    walk_to_the_end(world, rollout)

    # Then each transition reached every channel once; a copy SNS had taken keeps its transitionId
    figures = world.check(copies_allowed={rollout} if sns_took_it else ())
    assert figures.transitions == 4
    assert figures.duplicates_dropped == (1 if sns_took_it else 0)
    # And each failed device was named by one transition only
    by_transition = {p.transition_id: p.body["errorDetails"] for p in world.published}
    named = [detail["thingName"] for details in by_transition.values() for detail in details]
    assert sorted(named) == ["plant-a-002", "plant-a-004", "plant-a-008"]


def failed_at_once(group: str, devices: int) -> FleetLife:
    """A thing group whose every device failed, each with its own reason."""
    failed = tuple(
        Execution(f"{group}-{i:02d}", "FAILED", DeviceFailure(f"{group}-{i:02d} broke", (), ("X",)))
        for i in range(devices)
    )
    return FleetLife(group, Target("thinggroup", group), (FleetStep("ACTIVE", "IN_PROGRESS", failed),))


def test_rollouts_whose_device_reasons_outlast_a_run_are_read_over_runs_that_each_end_in_time(
    make_world: Callable[..., World],
) -> None:
    # Given two rollouts of 15 failed devices each, and device reasons that take 4 s each to read (a
    # busy ListEffectiveDeployments): 60 s for one rollout, in runs of the template's 50 s. RunTime adds
    # up the time, as calls made one after the other do: so one deployment at a time
    world = make_world(poll_concurrency=1)
    rollouts = [world.add_fleet(failed_at_once(group, 15)) for group in ("line-1", "line-2")]
    run: list[RunTime] = []

    def slow(call: Call) -> None:
        run[0].spend(4_000)

    world.calls.inject("reason", slow, times=None)

    # When the poller runs every minute
    for _ in range(3):
        run[:] = [RunTime(LAMBDA_TIMEOUT_MS)]
        world.tick()
        world.poll(run[0].context)
    world.drain()

    # Then no run outlived its timeout, and each rollout was notified once, naming all 15 devices:
    # the run's first deployment with the reasons it had time for, the other one run later
    assert world.crashes == 0
    first = [p.body for p in world.published]
    assert sorted(body["deploymentId"] for body in first) == sorted(rollouts)
    for body in first:
        assert len(body["errorDetails"]) == 15
        assert sum(detail["message"] != REASON_NOT_READ for detail in body["errorDetails"]) >= 1
    world.assert_honest(world.items(world.lives))
