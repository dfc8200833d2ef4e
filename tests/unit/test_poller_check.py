"""Checking one deployment on a device event: the same step as a full pass, debounced per deployment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ggwatch.domain.models import DeploymentKind
from ggwatch.exceptions import RepositoryError
from ggwatch.services.lanes import Lane
from ggwatch.services.poller import Poller, PollerPolicy
from tests.clock import START, Clock
from tests.fakes import InMemoryRepository, RecordingPublisher, ScriptedSource

V2 = DeploymentKind.GREENGRASS_V2
V1 = DeploymentKind.GREENGRASS_V1_BULK
DEPLOYMENT = "a1b2c3d4-0000-4000-8000-000000000001"


class World:
    def __init__(self) -> None:
        self.repository = InMemoryRepository()
        self.v1 = ScriptedSource()
        self.v2 = ScriptedSource(kind=V2)
        self.publisher = RecordingPublisher()
        self.clock = Clock()
        self.poller = Poller(
            [Lane(self.repository, [self.v1, self.v2], self.publisher)],
            PollerPolicy(check_debounce=timedelta(seconds=10)),
            clock=self.clock,
        )

    def track(self, deployment_id: str = DEPLOYMENT, kind: DeploymentKind = V2) -> None:
        self.repository.track(kind, deployment_id, tracked_by="manual", now=START)

    def set(self, status: str, succeeded: int = 0, failed: int = 0) -> None:
        counts = {"succeeded": succeeded, "failed": failed}
        self.v2.set(DEPLOYMENT, status, metrics=counts)

    def check(self, deployment_id: str = DEPLOYMENT) -> str:
        return self.poller.check(V2, deployment_id, lambda: 60_000).result

    def published(self) -> list[tuple[str | None, str]]:
        return [(n.previous_status, n.status) for n in self.publisher.published]


@pytest.fixture
def world() -> World:
    return World()


def test_a_check_polls_only_that_deployment_through_claim_publish_commit(world: World) -> None:
    world.track()
    world.track("other")
    world.set("ACTIVE", failed=1)
    assert world.check() == "notified"
    assert world.v2.calls == [DEPLOYMENT]
    assert world.published() == [(None, "ACTIVE")]
    stored = world.repository.get(V2, DEPLOYMENT)
    assert stored is not None and stored.status == "ACTIVE" and stored.pending is None
    assert stored.last_transition_id == world.publisher.published[0].transition_id


def test_a_burst_of_events_within_the_window_leads_to_one_check(world: World) -> None:
    world.track()
    world.set("ACTIVE")
    results = []
    for _ in range(5):
        results.append(world.check())
        world.clock.advance(1)
    assert results == ["notified", "skipped", "skipped", "skipped", "skipped"]
    assert world.v2.calls == [DEPLOYMENT]
    world.clock.advance(6)  # 10 s after the first check
    world.set("COMPLETED", succeeded=3)
    assert world.check() == "notified"
    assert world.published() == [(None, "ACTIVE"), ("ACTIVE", "COMPLETED")]


def test_the_same_event_twice_or_a_late_one_publishes_nothing_new(world: World) -> None:
    world.track()
    world.set("ACTIVE", failed=1)
    world.check()
    world.clock.advance(30)
    assert world.check() == "unchanged"  # a duplicate delivered after the window
    world.set("COMPLETED", succeeded=2, failed=1)
    world.poller.run()  # the schedule saw the deployment finish
    world.clock.advance(30)
    assert world.check() == "skipped"  # an older device event, late: the deployment is finished
    assert world.published() == [(None, "ACTIVE"), ("ACTIVE", "COMPLETED")]


def test_an_untracked_or_finished_deployment_is_a_logged_no_op(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert world.check("unknown") == "skipped"
    world.track()
    world.set("CANCELED")
    world.check()
    world.clock.advance(60)
    assert world.check() == "skipped"
    assert world.v2.calls == [DEPLOYMENT]
    assert world.published() == [(None, "CANCELED")]
    assert "not tracked, finished, or checked within the window" in caplog.text


def test_a_kind_no_source_polls_is_not_checked(world: World) -> None:
    world.track("bd-1", kind=V1)
    poller = Poller([Lane(world.repository, [world.v1], world.publisher)], clock=world.clock)
    outcome = poller.check(V2, DEPLOYMENT, lambda: 60_000)
    assert (outcome.result, outcome.detail) == ("skipped", "no source polls greengrass-v2")
    assert world.repository.check_requested_at == {}


def test_a_repository_error_fails_the_check_without_raising(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RepositoryError("DynamoDB answered ProvisionedThroughputExceededException")

    monkeypatch.setattr(world.repository, "request_check", refuse)
    outcome = world.poller.check(V2, DEPLOYMENT, lambda: 60_000)
    assert outcome.result == "failed" and "ProvisionedThroughput" in (outcome.detail or "")


def settled_world(interval_minutes: int = 15) -> World:
    world = World()
    world.poller = Poller(
        [Lane(world.repository, [world.v1, world.v2], world.publisher)],
        PollerPolicy(
            check_debounce=timedelta(seconds=10), settled_poll_interval=timedelta(minutes=interval_minutes)
        ),
        clock=world.clock,
    )
    return world


def test_a_settled_continuous_deployment_is_polled_every_interval_and_on_device_events() -> None:
    world = settled_world()
    world.track()
    world.set("ACTIVE", succeeded=3)
    world.poller.run()  # first seen: settled from now on
    world.poller.run()  # the first run that finds it settled starts its interval
    world.v2.calls.clear()
    for _ in range(14):
        world.clock.advance(60)
        world.poller.run()
    assert world.v2.calls == [], "settled: not polled for 15 minutes"
    world.v2.set(DEPLOYMENT, "ACTIVE", metrics={"succeeded": 2, "failed": 1}, error_message="1 device failed")
    assert world.check() == "notified", "a device event wakes it at once"
    world.clock.advance(60)
    world.poller.run()
    assert world.v2.calls == [DEPLOYMENT]
    world.clock.advance(15 * 60)
    world.poller.run()
    assert world.v2.calls == [DEPLOYMENT, DEPLOYMENT], "polled again once the interval is over"
    assert world.published() == [(None, "ACTIVE"), ("ACTIVE", "ACTIVE")]


def test_a_rolling_out_deployment_is_polled_every_run() -> None:
    world = settled_world()
    world.track()
    for _ in range(3):
        world.v2.set(DEPLOYMENT, "ACTIVE", metrics={"inProgress": 2, "succeeded": 1})
        world.poller.run()
        world.clock.advance(60)
    assert world.v2.calls == [DEPLOYMENT] * 3


def test_a_check_whose_answer_needs_more_calls_than_the_time_left_is_deferred_and_claims_nothing() -> None:
    repository, source, publisher = InMemoryRepository(), ScriptedSource(kind=V2), RecordingPublisher()
    poller = Poller([Lane(repository, [source], publisher, 3_000)], PollerPolicy(end_of_run_reserve_ms=1_000))
    repository.track(V2, DEPLOYMENT, tracked_by="manual", now=START)
    source.set(DEPLOYMENT, "ACTIVE", metrics={"failed": 30})
    # Given the answer needs 10 calls after its first, 3 s each, and 20 s are left
    left = [20_000]
    source.extra_calls[DEPLOYMENT] = 10
    source.on_call = lambda _: left.__setitem__(0, left[0] - 3_000)

    outcome = poller.check(V2, DEPLOYMENT, lambda: left[0])

    # Then the check stopped while a call and the closing still fitted, and nothing was claimed
    assert outcome.result == "deferred" and left[0] >= 4_000
    stored = repository.get(V2, DEPLOYMENT)
    assert publisher.published == [] and stored is not None and stored.pending is None
