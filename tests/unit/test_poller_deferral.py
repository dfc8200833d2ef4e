"""A deployment whose answer needs more calls than the run has time left for (a Greengrass V2 rollout
with many newly failed devices, each reason a call that may wait for its rate limit's token) is
deferred: the run stops asking before its deadline, claims nothing for it, and the next run polls it
first. Without this, such a deployment held the run past the Lambda timeout, the cursor was never
written, and every later run started at the same place. A run's first deployment is answered with what
fits instead: no later run would give it more time."""

from __future__ import annotations

from ggwatch.domain.models import DeploymentKind
from ggwatch.services.lanes import Lane
from ggwatch.services.poller import Poller, PollerPolicy
from tests.clock import START, Clock
from tests.fakes import InMemoryRepository, RecordingPublisher, ScriptedSource

KIND = DeploymentKind.GREENGRASS_V1_BULK
CALL_MS = 3_000
"""Each call's worst case, and the time each call takes here: a deployment needs 7 s left to start
(one call, the cursor write, 1 s of reserve), and so does each call after its first."""


class RunClock:
    """The run's time left, spent by the source's calls."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def spend(self, _deployment_id: str) -> None:
        self.ms -= CALL_MS

    def __call__(self) -> int:
        return self.ms


def make(*ids: str) -> tuple[Poller, InMemoryRepository, ScriptedSource, RecordingPublisher]:
    repository, source, publisher = InMemoryRepository(), ScriptedSource(), RecordingPublisher()
    for deployment_id in ids:
        repository.track(KIND, deployment_id, tracked_by="manual", now=START)
        source.set(deployment_id, "Running")
    poller = Poller(
        [Lane(repository, [source], publisher, CALL_MS)], PollerPolicy(end_of_run_reserve_ms=1_000), Clock()
    )
    return poller, repository, source, publisher


def key(deployment_id: str) -> str:
    return f"DEPLOYMENT#{KIND.value}#{deployment_id}"


def test_a_deployment_needing_more_calls_than_the_run_has_time_for_is_deferred_and_polled_first_next() -> (
    None
):
    poller, repository, source, publisher = make("a", "b", "c")
    # Given b's answer needs 20 calls after its first, in a run of 50 s where each call takes 3 s
    source.extra_calls["b"] = 20
    clock = RunClock(50_000)
    source.on_call = clock.spend

    # When the run polls
    report = poller.run(clock)

    # Then it stopped asking about b while a call and the cursor write still fitted, and never started c
    assert clock.ms >= CALL_MS + 1_000
    assert [(o.deployment_id, o.result) for o in report.outcomes] == [("a", "notified"), ("b", "deferred")]
    assert report.stopped_at_deadline and source.calls == ["a", "b"]
    # And nothing is claimed or published for b; the next run starts with it
    assert [n.deployment_id for n in publisher.published] == ["a"]
    stored = repository.get(KIND, "b")
    assert stored is not None and stored.status is None and stored.pending is None
    assert repository.cursor(KIND) == key("b")

    # When the next run has the calls b needs (its reasons were kept: fewer calls now)
    source.extra_calls["b"] = 2
    source.calls.clear()
    poller.run(RunClock(50_000))

    # Then b comes first, and every deployment is notified once
    assert source.calls == ["b", "c", "a"]
    assert sorted(n.deployment_id for n in publisher.published) == ["a", "b", "c"]
    assert repository.cursor(KIND) is None


def test_a_run_that_started_every_deployment_still_keeps_the_deferred_one_for_the_next_run() -> None:
    poller, repository, source, publisher = make("a", "b")
    # Given b, the last deployment, needs more calls than the run has left
    source.extra_calls["b"] = 20
    clock = RunClock(50_000)
    source.on_call = clock.spend

    report = poller.run(clock)

    # Then the cycle is not complete: the cursor points at b, not back at the start
    assert report.count("deferred") == 1 and report.stopped_at_deadline
    assert repository.cursor(KIND) == key("b")
    assert [n.deployment_id for n in publisher.published] == ["a"]


def test_the_next_run_starts_with_the_first_deferred_in_this_runs_order_across_the_wrap() -> None:
    poller, repository, source, _ = make("a", "b", "c", "d")
    # Given an earlier run stopped before c: this run polls c, d, then wraps round to a, b
    repository.set_cursor(KIND, key("c"))
    # And d needs more calls than the run has left, after which a is not started
    source.extra_calls["d"] = 20
    clock = RunClock(50_000)
    source.on_call = clock.spend

    report = poller.run(clock)

    # Then the next run starts at d (reached before a in this run's order), although a sorts first
    assert [(o.deployment_id, o.result) for o in report.outcomes] == [("c", "notified"), ("d", "deferred")]
    assert repository.cursor(KIND) == key("d")


def test_a_first_deployment_that_no_run_has_time_for_is_answered_in_part_and_none_starves() -> None:
    poller, repository, source, publisher = make("a", "b")
    # Given a needs more calls than any run has time for, every run
    source.extra_calls["a"] = 100
    runs = [RunClock(50_000), RunClock(50_000)]

    # When the first run polls, a first
    source.on_call = runs[0].spend
    first = poller.run(runs[0])

    # Then a is answered with what fitted (and notified), and b, with no time left, comes next
    assert [(o.deployment_id, o.result) for o in first.outcomes] == [("a", "notified")]
    assert "a" in source.partial and repository.cursor(KIND) == key("b")

    # When the second run polls, b first, then a, which it defers rather than answer in part again
    source.on_call = runs[1].spend
    second = poller.run(runs[1])

    # Then b is notified, a is polled first by the third run, and no run outlived its time
    assert [(o.deployment_id, o.result) for o in second.outcomes] == [("b", "notified"), ("a", "deferred")]
    assert repository.cursor(KIND) == key("a")
    assert sorted(n.deployment_id for n in publisher.published) == ["a", "b"]
    assert all(run.ms >= CALL_MS + 1_000 for run in runs)
