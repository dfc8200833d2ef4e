"""Stuck deployments through the polling pass, under a controlled clock: one DeploymentStuck per
episode, one DeploymentRecovered when it moves again or finishes, never for a finished or settled
deployment, and nothing written while a deployment stands still."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ggwatch.domain.models import DeploymentKind, Metrics, Pace, StuckReason
from ggwatch.domain.pace import PacePolicy
from tests.clock import START
from tests.pace_world import MINUTE, V1, V2, PaceWorld


def policy(**minutes: int) -> PacePolicy:
    """`policy(v1_progress=30)`: thresholds by kind and reason, in minutes."""
    kinds = {"v1": V1, "v2": V2}
    stuck_after: dict[tuple[DeploymentKind, StuckReason], timedelta] = {}
    for name, value in minutes.items():
        kind, reason = name.split("_")
        assert reason in ("status", "progress")
        stuck_after[(kinds[kind], "status" if reason == "status" else "progress")] = timedelta(minutes=value)
    return PacePolicy(stuck_after=stuck_after)


def records(processed: int) -> Metrics:
    return Metrics({"recordsProcessed": processed})


def devices(**counts: int) -> Metrics:
    return Metrics(counts)


def test_a_bulk_deployment_whose_records_stand_still_is_stuck_once_then_recovers_once() -> None:
    world = PaceWorld(policy(v1_progress=30))
    world.track(V1)
    world.v1.set("d-1", "Running", metrics=records(5))
    world.poller.run()
    started = world.clock()

    world.poll_every(10, 2)
    assert world.events() == ["DeploymentStatusChange"], "20 minutes still is not stuck"
    world.poll_every(10, 1)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStuck"]
    world.poll_every(10, 12)
    assert world.events().count("DeploymentStuck") == 1, "one notification per episode"

    stuck = world.publisher.published[1]
    assert stuck.stuck is not None
    assert (stuck.stuck.reason, stuck.stuck.since) == ("progress", started.isoformat().replace("+00:00", "Z"))
    assert (stuck.stuck.duration_seconds, stuck.stuck.threshold_seconds) == (30 * MINUTE, 30 * MINUTE)
    assert (stuck.status, stuck.previous_status, stuck.stuck.progress) == ("Running", "Running", 5)

    world.v1.set("d-1", "Running", metrics=records(6))
    world.poll_every(10, 3)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStuck", "DeploymentRecovered"]
    recovered = world.publisher.published[2]
    assert recovered.stuck is not None
    assert recovered.stuck.since == stuck.stuck.since
    assert recovered.stuck.duration_seconds == (30 + 120 + 10) * MINUTE
    assert recovered.transition_id != stuck.transition_id


def test_a_second_stall_is_a_second_episode() -> None:
    world = PaceWorld(policy(v1_progress=30))
    world.track(V1)
    world.v1.set("d-1", "Running", metrics=records(1))
    world.poll_every(10, 4)
    world.v1.set("d-1", "Running", metrics=records(2))
    world.poll_every(10, 4)
    assert world.events() == [
        "DeploymentStatusChange",
        "DeploymentStuck",
        "DeploymentRecovered",
        "DeploymentStuck",
    ]
    first, second = (n for n in world.publisher.published if n.event_type == "DeploymentStuck")
    assert first.transition_id != second.transition_id


def test_finishing_recovers_before_the_final_status_is_notified() -> None:
    world = PaceWorld(policy(v1_progress=30))
    world.track(V1)
    world.v1.set("d-1", "Running")
    world.poll_every(10, 4)
    world.v1.set("d-1", "Failed", error_message="execution role lacks permissions")
    world.poll_every(10, 2)
    assert [(n.event_type, n.status) for n in world.publisher.published] == [
        ("DeploymentStatusChange", "Running"),
        ("DeploymentStuck", "Running"),
        ("DeploymentRecovered", "Running"),
        ("DeploymentStatusChange", "Failed"),
    ]
    stored = world.repository.get(V1, "d-1")
    assert stored is not None and not stored.active and stored.status == "Failed"


def test_a_deployment_that_finishes_between_two_polls_is_never_stuck() -> None:
    world = PaceWorld(policy(v1_progress=30, v1_status=60))
    world.track(V1)
    world.v1.set("d-1", "Running")
    world.poller.run()
    world.v1.set("d-1", "Completed", metrics=records(9))
    world.poll_every(240, 2)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStatusChange"]


def test_too_long_in_one_status_is_stuck_even_while_records_move_and_recovers_on_the_next_status() -> None:
    world = PaceWorld(policy(v1_status=60))
    world.track(V1)
    for processed in range(1, 10):
        world.v1.set("d-1", "Running", metrics=records(processed))
        world.poll_every(10, 1)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStuck"], "moving records do not recover it"
    assert world.publisher.published[1].stuck is not None
    assert world.publisher.published[1].stuck.reason == "status"
    world.v1.set("d-1", "Stopping", metrics=records(9))
    world.poll_every(10, 1)
    assert world.events()[2:] == ["DeploymentRecovered", "DeploymentStatusChange"]


def test_a_settled_continuous_deployment_is_never_stuck() -> None:
    world = PaceWorld(policy(v2_progress=120, v2_status=1440))
    world.track(V2)
    world.v2.set("d-1", "ACTIVE", metrics=devices(succeeded=9, failed=1))
    world.poll_every(60, 72)
    assert world.events() == ["DeploymentStatusChange"]


def test_a_rollout_waiting_on_an_offline_device_is_stuck_and_a_device_joining_later_starts_a_fresh_clock() -> (
    None
):
    world = PaceWorld(policy(v2_progress=120))
    world.track(V2)
    world.v2.set("d-1", "ACTIVE", metrics=devices(succeeded=9, queued=1))
    world.poll_every(30, 4)
    assert world.events() == ["DeploymentStatusChange"]
    world.poll_every(30, 1)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStuck"]
    world.v2.set("d-1", "ACTIVE", metrics=devices(succeeded=10))
    world.poll_every(30, 10)
    assert world.events()[2:] == ["DeploymentRecovered", "DeploymentStatusChange"]  # then: settled

    world.v2.set("d-1", "ACTIVE", metrics=devices(succeeded=10, queued=1))  # a device joins the group
    world.poll_every(30, 4)
    assert world.events()[4:] == [], "the clock starts when the rollout resumes, not when it last moved"
    world.poll_every(30, 1)
    assert world.events()[4:] == ["DeploymentStuck"]


def test_thresholds_that_are_off_never_find_a_deployment_stuck() -> None:
    world = PaceWorld(PacePolicy())
    world.track(V1)
    world.track(V2, "d-2")
    world.v1.set("d-1", "Initializing")
    world.v2.set("d-2", "ACTIVE", metrics=devices(queued=3))
    world.poll_every(600, 50)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStatusChange"]


def test_a_deployment_that_stands_still_is_written_only_when_its_episode_opens() -> None:
    world = PaceWorld(policy(v1_progress=30))
    world.track(V1)
    world.v1.set("d-1", "Running")
    world.poll_every(10, 1)
    writes = world.repository.writes
    world.poll_every(10, 2)
    assert world.repository.writes == writes
    world.poll_every(10, 1)
    assert world.repository.writes == writes + 2, "the stuck notification's claim and commit"
    world.poll_every(10, 6)
    assert world.repository.writes == writes + 2


def test_a_stuck_notification_whose_publish_failed_is_published_again_with_the_same_id() -> None:
    world = PaceWorld(policy(v1_progress=30))
    world.track(V1)
    world.v1.set("d-1", "Running")
    world.poll_every(10, 3)
    world.publisher.fail_next = 1
    world.poll_every(10, 1)
    assert world.events() == ["DeploymentStatusChange"]
    world.poll_every(10, 3)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStuck"]
    attempts = world.repository.get(V1, "d-1")
    assert attempts is not None and attempts.pace is not None and attempts.pace.stuck_since is not None


def test_the_same_episode_gets_the_same_transition_id_whoever_finds_it() -> None:
    """Two stacks of state that saw the same deployment stop at the same moment name its episode alike,
    however late each run finds it, so consumers drop the copy."""
    ids = []
    for late in (0, 7):
        world = PaceWorld(policy(v1_progress=30))
        world.track(V1)
        world.v1.set("d-1", "Running")
        world.poller.run()
        world.poll_every(30 + late, 1)
        ids.append(world.publisher.published[-1].transition_id)
    assert ids[0] == ids[1]


def test_a_status_change_that_fails_to_publish_after_the_recovery_is_not_lost_and_not_doubled() -> None:
    world = PaceWorld(policy(v1_progress=30))
    world.track(V1)
    world.v1.set("d-1", "Running")
    world.poll_every(10, 4)
    world.v1.set("d-1", "Completed")
    world.publisher.before_publish = lambda n: setattr(
        world.publisher, "fail_next", 1 if n.event_type == "DeploymentStatusChange" else 0
    )
    world.poll_every(10, 1)
    # The stored state is the one the last published notification describes
    stored = world.repository.get(V1, "d-1")
    recovered = world.publisher.published[-1]
    assert stored is not None and stored.last_transition_id == recovered.transition_id
    assert (recovered.event_type, recovered.status, stored.status) == (
        "DeploymentRecovered",
        "Running",
        "Running",
    )
    world.publisher.before_publish = None
    world.poll_every(10, 2)
    assert world.events() == [
        "DeploymentStatusChange",
        "DeploymentStuck",
        "DeploymentRecovered",
        "DeploymentStatusChange",
    ]


def test_an_item_stored_before_the_bookkeeping_is_judged_from_its_last_change() -> None:
    world = PaceWorld(policy(v1_progress=30))
    world.track(V1)
    world.v1.set("d-1", "Running")
    world.poller.run()
    key = world.repository.key(V1, "d-1")
    legacy = world.repository.items[key]
    world.repository.items[key] = legacy.model_copy(update={"pace": None})
    world.poll_every(20, 1)
    assert world.events() == ["DeploymentStatusChange"]
    world.poll_every(10, 1)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStuck"]
    stored = world.repository.get(V1, "d-1")
    assert stored is not None and stored.pace == Pace(
        phase_since=START, moved_at=START, stuck_since=START, stuck_reason="progress"
    )


@pytest.mark.parametrize("kind", [V1, V2])
def test_the_stuck_notification_keeps_the_schema_and_its_filter_attributes(kind: DeploymentKind) -> None:
    world = PaceWorld(policy(v1_progress=30, v2_progress=30))
    world.track(kind)
    source = world.v1 if kind == V1 else world.v2
    source.set("d-1", "Running" if kind == V1 else "ACTIVE", metrics=devices(inProgress=2))
    world.poll_every(40, 2)
    stuck = world.publisher.published[-1]
    assert stuck.event_type == "DeploymentStuck"
    assert stuck.message_attributes()["eventType"] == "DeploymentStuck"
    assert stuck.changes == () and not stuck.terminal
    assert stuck.deployment_kind == kind.value


def test_each_pace_notification_is_counted_for_an_alarm() -> None:
    from ggwatch.observability import metrics

    world = PaceWorld(policy(v1_progress=30))
    world.track(V1)
    world.v1.set("d-1", "Running")
    world.poll_every(10, 4)
    world.v1.set("d-1", "Running", metrics=records(1))
    world.poll_every(10, 1)
    counted = {
        name: metrics.metric_set.get(name, {}).get("Value")
        for name in ("DeploymentStuck", "DeploymentRecovered")
    }
    assert counted == {"DeploymentStuck": [1.0], "DeploymentRecovered": [1.0]}


def test_a_deployment_to_an_empty_thing_group_is_not_stuck_and_its_first_device_starts_a_fresh_clock() -> (
    None
):
    world = PaceWorld(policy(v2_progress=120, v2_status=1440))
    world.track(V2)
    world.v2.set("d-1", "ACTIVE", metrics=devices())
    world.poll_every(60, 48)
    assert world.events() == ["DeploymentStatusChange"], "nothing waits for it"
    world.v2.set("d-1", "ACTIVE", metrics=devices(queued=1))
    world.poll_every(30, 4)
    assert world.events() == ["DeploymentStatusChange"]
    world.poll_every(30, 1)
    assert world.events() == ["DeploymentStatusChange", "DeploymentStuck"]


def test_a_progress_episode_then_a_status_episode_from_the_same_moment_get_different_ids() -> None:
    world = PaceWorld(policy(v1_progress=30, v1_status=120))
    world.track(V1)
    world.v1.set("d-1", "Running", metrics=records(1))
    world.poll_every(30, 2)  # stuck: no progress since the status began
    for processed in (2, 3, 4):  # moving again, then too long Running: since the same moment
        world.v1.set("d-1", "Running", metrics=records(processed))
        world.poll_every(30, 1)
    stuck = [n for n in world.publisher.published if n.event_type == "DeploymentStuck"]
    assert [(n.stuck.reason, n.stuck.since) for n in stuck if n.stuck] == [
        ("progress", "2026-11-28T12:30:00Z"),
        ("status", "2026-11-28T12:30:00Z"),
    ]
    assert stuck[0].transition_id != stuck[1].transition_id
