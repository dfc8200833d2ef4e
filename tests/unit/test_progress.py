"""Opt-in progress notifications through the polling pass: off by default, one a poll naming the step
reached, none at the end or for a kind that does not count its whole."""

from __future__ import annotations

from datetime import timedelta

from ggwatch.domain.models import DeploymentKind, Metrics, StuckReason
from ggwatch.domain.pace import PacePolicy, progress, total
from tests.pace_world import V1, V2, PaceWorld


class World(PaceWorld):
    def __init__(self, pace: PacePolicy | None = None) -> None:
        super().__init__(pace or PacePolicy())
        self.track(V2, "d-2")

    def rollout(self, *finished: int, total: int = 20, status: str = "ACTIVE") -> None:
        """Polls once per count of finished devices."""
        for done in finished:
            metrics = Metrics({"succeeded": done, "inProgress": total - done})
            self.v2.set("d-2", status, metrics=metrics)
            self.clock.advance(60)
            self.poller.run()

    def steps(self) -> list[int]:
        return [n.progress.percent for n in self.publisher.published if n.progress is not None]

    def progress_events(self) -> int:
        return sum(n.event_type == "DeploymentProgress" for n in self.publisher.published)


def test_progress_is_off_by_default() -> None:
    world = World()
    world.rollout(0, 5, 10, 15, 19)
    assert world.progress_events() == 0


def test_each_step_crossed_is_notified_once() -> None:
    world = World(PacePolicy(progress_step=25))
    world.rollout(0, 2, 5, 6, 9, 10, 10, 14, 16, 19)
    assert world.steps() == [25, 50, 75]
    assert world.progress_events() == 3
    last = world.publisher.published[-1]
    assert last.progress is not None and (last.progress.finished, last.progress.total) == (16, 20)
    assert last.status == "ACTIVE" and last.changes == ()


def test_a_poll_that_jumps_several_steps_sends_one_naming_the_step_reached() -> None:
    world = World(PacePolicy(progress_step=10))
    world.rollout(0, 1, 15)
    assert world.steps() == [70]
    world.rollout(15, 17)
    assert world.steps() == [70, 80]


def test_the_end_of_a_rollout_is_said_by_its_status_change_not_by_a_progress_step() -> None:
    world = World(PacePolicy(progress_step=25))
    world.rollout(0, 4, 20)
    world.rollout(20, total=20, status="COMPLETED")
    assert world.steps() == []
    assert [n.changes for n in world.publisher.published] == [("status",), ("settled",), ("status",)]


def test_a_bulk_deployment_reports_no_total_so_gets_no_progress_steps() -> None:
    world = World(PacePolicy(progress_step=10))
    world.track(V1)
    for processed in (0, 10, 50, 500):
        world.v1.set("d-1", "Running", metrics=Metrics({"recordsProcessed": processed}))
        world.clock.advance(60)
        world.poller.run()
    assert world.progress_events() == 0


def test_a_recovery_takes_the_poll_and_the_step_it_crossed_follows_on_the_next() -> None:
    stuck_after: dict[tuple[DeploymentKind, StuckReason], timedelta] = {
        (V2, "progress"): timedelta(minutes=10)
    }
    world = World(PacePolicy(stuck_after=stuck_after, progress_step=25))
    world.rollout(0, 2, *[2] * 10)
    world.rollout(12)
    assert [n.event_type for n in world.publisher.published] == [
        "DeploymentStatusChange",
        "DeploymentStuck",
        "DeploymentRecovered",
    ]
    world.rollout(12)
    assert world.publisher.published[-1].event_type == "DeploymentProgress"
    assert world.steps() == [50]


def test_a_progress_step_is_stored_so_a_later_run_does_not_repeat_it() -> None:
    world = World(PacePolicy(progress_step=50))
    world.rollout(0, 11)
    stored = world.repository.get(V2, "d-2")
    assert stored is not None and stored.pace is not None and stored.pace.progress_step == 50
    writes = world.repository.writes
    world.rollout(11, 11)
    assert world.repository.writes == writes and world.steps() == [50]


def test_devices_finished_count_every_outcome_and_only_finished_ones() -> None:
    counts = {"succeeded": 3, "failed": 2, "rejected": 1, "timedOut": 1, "canceled": 1, "removed": 1}
    unfinished = {"queued": 4, "inProgress": 5}
    assert progress(V2, Metrics(counts | unfinished)) == 9
    assert total(V2, Metrics(counts | unfinished)) == 18
    assert total(V1, Metrics({"recordsProcessed": 7})) is None


def test_a_rollout_that_ends_half_way_gets_its_final_status_and_no_step() -> None:
    world = World(PacePolicy(progress_step=25))
    world.rollout(0, 4)
    world.rollout(12, status="CANCELED")
    assert world.steps() == []
    assert world.publisher.published[-1].status == "CANCELED"
