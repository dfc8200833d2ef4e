"""The polling pass against in-memory ports: ordering of claim, publish and commit, isolation, deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ggwatch.domain.models import TRACKING_FAILED, DeploymentKind, ErrorDetail, Metrics
from ggwatch.exceptions import (
    DeploymentNotFoundError,
    RepositoryError,
    SourceThrottledError,
    SourceUnavailableError,
)
from ggwatch.services.lanes import Lane
from ggwatch.services.poller import Poller, PollerPolicy
from ggwatch_cli.dry_run import ReadOnlyRepository, UnsentPublisher
from tests.clock import START, Clock
from tests.fakes import InMemoryRepository, RecordingPublisher, ScriptedSource

KIND = DeploymentKind.GREENGRASS_V1_BULK


World = tuple[InMemoryRepository, ScriptedSource, RecordingPublisher, Clock]


@pytest.fixture
def world() -> World:
    return InMemoryRepository(), ScriptedSource(), RecordingPublisher(), Clock()


def make_poller(world: World, **policy: Any) -> Poller:
    return Poller([lane(world)], PollerPolicy(**policy), clock=world[3])


def lane(world: World, source: ScriptedSource | None = None, worst_call_ms: int = 0) -> Lane:
    repository, scripted, publisher, _ = world
    return Lane(repository, [source or scripted], publisher, worst_call_ms)


def track(repository: InMemoryRepository, *ids: str) -> None:
    for deployment_id in ids:
        repository.track(KIND, deployment_id, tracked_by="manual", now=START)


def transitions(publisher: RecordingPublisher) -> list[tuple[str, str | None, str]]:
    return [(n.deployment_id, n.previous_status, n.status) for n in publisher.published]


def test_whole_life_is_notified_once_per_transition(world: World) -> None:
    repository, source, publisher, _ = world
    track(repository, "bd-1")
    poller = make_poller(world)
    for status in ["Initializing", "Initializing", "Running", "Running", "Completed"]:
        source.set("bd-1", status)
        poller.run()
    assert transitions(publisher) == [
        ("bd-1", None, "Initializing"),
        ("bd-1", "Initializing", "Running"),
        ("bd-1", "Running", "Completed"),
    ]
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and not stored.active and stored.pending is None


def test_terminal_deployment_is_no_longer_polled(world: World) -> None:
    repository, source, _, _ = world
    track(repository, "bd-1")
    source.set("bd-1", "Completed")
    poller = make_poller(world)
    poller.run()
    poller.run()
    assert source.calls == ["bd-1"]


def test_nothing_is_written_when_nothing_changed(world: World) -> None:
    repository, source, _, _ = world
    track(repository, "bd-1")
    source.set("bd-1", "Running", metrics=Metrics({"recordsProcessed": 1}))
    poller = make_poller(world)
    poller.run()
    writes = repository.writes
    poller.run()
    assert repository.writes == writes


def test_metrics_only_change_is_stored_without_notification(world: World) -> None:
    repository, source, publisher, _ = world
    track(repository, "bd-1")
    poller = make_poller(world)
    source.set("bd-1", "Running")
    poller.run()
    source.set("bd-1", "Running", metrics=Metrics({"recordsProcessed": 7}))
    report = poller.run()
    assert len(publisher.published) == 1
    assert report.count("stored") == 1
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and stored.metrics["recordsProcessed"] == 7


def test_error_details_change_under_same_status_is_notified(world: World) -> None:
    repository, source, publisher, _ = world
    track(repository, "bd-1")
    poller = make_poller(world)
    source.set("bd-1", "Running")
    poller.run()
    source.set("bd-1", "Running", error_details=(ErrorDetail(code="E", message="group failed"),))
    poller.run()
    assert [n.changes for n in publisher.published] == [("status",), ("errors",)]


def test_a_failed_publish_releases_the_claim_and_the_next_run_publishes_it_at_once(world: World) -> None:
    repository, source, publisher, clock = world
    track(repository, "bd-1")
    poller = make_poller(world, claim_lease=timedelta(seconds=120))
    source.set("bd-1", "Running")
    publisher.fail_next = 1
    report = poller.run()
    assert report.count("failed") == 1 and publisher.published == []
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and stored.pending is not None and stored.status is None
    assert stored.pending.released
    # The next run, a minute later and well inside the lease, publishes the claim once, same ID
    clock.now += timedelta(seconds=60)
    poller.run()
    assert transitions(publisher) == [("bd-1", None, "Running")]
    assert publisher.published[0].transition_id == stored.pending.transition_id
    poller.run()
    assert len(publisher.published) == 1


class Killed(BaseException):
    """The runtime ending a run mid-call: no `except Exception` sees it."""


@pytest.mark.parametrize("release_fails", [False, True], ids=["killed-run", "release-failed"])
def test_a_claim_nobody_released_waits_for_its_lease(
    world: World, release_fails: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository, source, publisher, clock = world
    track(repository, "bd-1")
    poller = make_poller(world, claim_lease=timedelta(seconds=120))
    source.set("bd-1", "Running")
    # Given a run killed while publishing, or one whose publish and then release both failed
    if release_fails:

        def refuse(stored: object) -> None:
            raise RepositoryError("DynamoDB answered InternalServerError")

        publisher.fail_next = 1
        monkeypatch.setattr(repository, "release", refuse)
        poller.run()
        monkeypatch.undo()
    else:

        def kill(notification: object) -> None:
            raise Killed

        publisher.before_publish = kill
        with pytest.raises(Killed):
            poller.run()
        publisher.before_publish = None
    # Then runs inside the lease leave the claim alone, and the first one after it publishes it once
    clock.now += timedelta(seconds=119)
    assert make_poller(world, claim_lease=timedelta(seconds=120)).run().count("skipped") == 1
    assert publisher.published == []
    clock.now += timedelta(seconds=1)
    make_poller(world, claim_lease=timedelta(seconds=120)).run()
    assert transitions(publisher) == [("bd-1", None, "Running")]


def test_republished_claim_is_stored_before_the_next_status_is_compared(world: World) -> None:
    repository, source, publisher, clock = world
    track(repository, "bd-1")
    poller = make_poller(world, claim_lease=timedelta(seconds=60))
    source.set("bd-1", "Initializing")
    publisher.fail_next = 1
    poller.run()
    clock.now += timedelta(minutes=2)
    source.set("bd-1", "Running")
    poller.run()
    assert transitions(publisher) == [("bd-1", None, "Initializing"), ("bd-1", "Initializing", "Running")]


def test_unknown_id_is_notified_once_and_no_longer_polled(world: World) -> None:
    repository, source, publisher, _ = world
    track(repository, "bd-1", "bd-2")
    source.set("bd-1", DeploymentNotFoundError("BulkDeployment bd-1 does not exist"))
    source.set("bd-2", "Running")
    poller = make_poller(world)
    poller.run()
    poller.run()
    failed = [n for n in publisher.published if n.deployment_id == "bd-1"]
    assert [(n.status, n.event_type, n.error_message) for n in failed] == [
        (TRACKING_FAILED, "DeploymentTrackingFailed", "BulkDeployment bd-1 does not exist")
    ]
    assert source.calls.count("bd-1") == 1
    assert transitions(publisher)[-1] == ("bd-2", None, "Running")


@pytest.mark.parametrize(
    "error", [SourceThrottledError("slow down"), SourceUnavailableError("500"), RuntimeError("bug")]
)
def test_one_failing_deployment_never_stops_the_others(world: World, error: Exception) -> None:
    repository, source, publisher, _ = world
    track(repository, "bd-1", "bd-2", "bd-3")
    source.set("bd-1", "Running")
    source.set("bd-2", error)
    source.set("bd-3", "Running")
    report = make_poller(world).run()
    assert sorted(n.deployment_id for n in publisher.published) == ["bd-1", "bd-3"]
    assert report.count("failed") == 1
    [failed] = [o for o in report.outcomes if o.result == "failed"]
    assert failed.detail is not None and str(error) in failed.detail
    stored = repository.get(KIND, "bd-2")
    assert stored is not None and stored.active and stored.status is None


def test_garbled_item_is_reported_and_others_still_polled(world: World) -> None:
    repository, source, publisher, _ = world
    track(repository, "bd-1")
    repository.corrupt["DEPLOYMENT#greengrass-v1-bulk#bad"] = "lacks attribute 'version'"
    source.set("bd-1", "Running")
    report = make_poller(world).run()
    assert report.count("corrupt") == 1
    assert transitions(publisher) == [("bd-1", None, "Running")]


def test_deadline_stops_new_work_and_the_next_run_starts_with_those_not_reached(world: World) -> None:
    repository, source, publisher, clock = world
    track(repository, "a", "b", "c", "d")
    for deployment_id in "abcd":
        source.set(deployment_id, "Running")
    # Given one lane whose calls take at most 3 s, and 1 s kept for the end: a deployment needs 7 s left
    poller = Poller([lane(world, worst_call_ms=3_000)], PollerPolicy(end_of_run_reserve_ms=1_000), clock)
    budget = iter([50_000, 50_000, 7_000, 6_999, 6_999])  # reading, a, b, too little for c, the cursor
    report = poller.run(lambda: next(budget))
    assert report.stopped_at_deadline
    assert source.calls == ["a", "b"]
    assert repository.cursor(KIND) == "DEPLOYMENT#greengrass-v1-bulk#c"
    source.calls.clear()
    make_poller(world).run()
    assert source.calls == ["c", "d", "a", "b"]
    assert repository.cursor(KIND) is None
    assert sorted(n.deployment_id for n in publisher.published) == ["a", "b", "c", "d"]


def hurried_world(world: World) -> tuple[Poller, ScriptedSource, ScriptedSource]:
    """A full lane (calls of up to 21 s) and a hurried one (3 s), over the same deployments."""
    patient, hurried = ScriptedSource(), ScriptedSource()
    hurried.answers = patient.answers
    lanes = [lane(world, patient, worst_call_ms=21_000), lane(world, hurried, worst_call_ms=3_000)]
    return Poller(lanes, PollerPolicy(end_of_run_reserve_ms=1_000), clock=world[3]), patient, hurried


def test_a_run_with_seconds_left_polls_what_fits_through_the_hurried_lane(world: World) -> None:
    repository, _, publisher, _ = world
    poller, patient, hurried = hurried_world(world)
    track(repository, "a", "b", "c", "d")
    for deployment_id in "abcd":
        patient.set(deployment_id, "Running")
    # Given a run with 28 s left, then less at every deployment: the full lane needs 25 s left for a
    # deployment (21 s call, 3 s cursor write, 1 s reserve); the hurried lane 7 s (the last is the
    # time left for the cursor, once the deployments started have finished)
    budget = iter([28_000, 26_000, 12_000, 7_000, 6_999, 6_999])
    report = poller.run(lambda: next(budget))
    # Then the first deployment went through the full lane, the next two through the hurried one,
    # and the run stopped before the last with the cursor on it
    assert (patient.calls, hurried.calls) == (["a"], ["b", "c"])
    assert report.stopped_at_deadline and len(publisher.published) == 3
    assert repository.cursor(KIND) == "DEPLOYMENT#greengrass-v1-bulk#d"
    # And the next run, with time, starts with the one not reached
    patient.calls.clear()
    poller.run()
    assert patient.calls == ["d", "a", "b", "c"]
    assert [n.deployment_id for n in publisher.published] == ["a", "b", "c", "d"]


def test_a_run_without_time_for_even_the_hurried_lane_reads_nothing(world: World) -> None:
    repository = world[0]
    poller, patient, hurried = hurried_world(world)
    track(repository, "a")
    patient.set("a", "Running")
    report = poller.run(lambda: 9_999)  # reading needs two calls and the cursor write: 10 s
    assert report.stopped_at_deadline and report.outcomes == []
    assert patient.calls == hurried.calls == [] and repository.writes == 1
    assert poller.minimum_run_ms == 13_000


def test_overlapping_run_that_loses_the_claim_publishes_nothing(world: World) -> None:
    repository, source, publisher, _ = world
    track(repository, "bd-1")
    source.set("bd-1", "Running")
    poller = make_poller(world)
    stale = repository.get(KIND, "bd-1")
    poller.run()
    assert stale is not None
    # A second run that read the item before the first one claimed it: its claim must conflict.
    from ggwatch.ports import ActiveItem

    outcome = poller._poll_item(ActiveItem(key="k", deployment=stale), lane(world))
    assert outcome.result == "skipped"
    assert len(publisher.published) == 1


def test_dry_run_reports_transitions_but_publishes_and_stores_nothing(world: World) -> None:
    repository, source, publisher, clock = world
    track(repository, "bd-1", "bd-2")
    source.set("bd-1", "Running")
    source.set("bd-2", "Running")
    # Given bd-1's claim was left by a run whose publish failed and its lease is over; bd-2 was notified
    publisher.fail_next = 1
    make_poller(world, claim_lease=timedelta(seconds=60)).run()
    clock.now += timedelta(minutes=2)
    source.set("bd-1", "Completed")
    source.set("bd-2", "Completed")
    items, writes, published = dict(repository.items), repository.writes, list(publisher.published)
    # When the CLI's dry run polls through a read-only repository and a publisher that sends nothing
    read_only, unsent = ReadOnlyRepository(repository), UnsentPublisher()
    policy = PollerPolicy(claim_lease=timedelta(seconds=60))
    report = Poller([Lane(read_only, [source], unsent)], policy, clock=clock).run()
    # Then it reports what a real pass would publish: the claim again, then each next transition
    assert [(n.deployment_id, n.previous_status, n.status) for n in report.notifications] == [
        ("bd-1", None, "Running"),
        ("bd-1", "Running", "Completed"),
        ("bd-2", "Running", "Completed"),
    ]
    claim = items[repository.key(KIND, "bd-1")].pending
    assert claim is not None and report.notifications[0].transition_id == claim.transition_id
    assert unsent.unsent == report.notifications
    # And it neither published nor stored anything
    assert (repository.items, repository.writes, publisher.published) == (items, writes, published)
    assert read_only.writes == [
        "claim bd-1",
        "commit bd-1",
        "claim bd-1",
        "commit bd-1",
        "claim bd-2",
        "commit bd-2",
    ]


def test_an_expired_claim_is_taken_over_before_it_is_published_again(world: World) -> None:
    repository, source, publisher, clock = world
    track(repository, "bd-1")
    source.set("bd-1", "Running")
    publisher.fail_next = 1
    poller = make_poller(world, claim_lease=timedelta(seconds=60))
    poller.run()
    clock.now += timedelta(minutes=2)
    expired = repository.get(KIND, "bd-1")
    assert expired is not None and expired.pending is not None
    # Another run takes the expired claim over and publishes it ...
    poller.run()
    # ... so a run still holding the version it read before cannot publish it a second time.
    from ggwatch.ports import ActiveItem

    outcome = poller._poll_item(ActiveItem(key="k", deployment=expired), lane(world))
    assert outcome.result == "skipped"
    assert [n.transition_id for n in publisher.published] == [expired.pending.transition_id]


def test_transition_ids_are_the_same_in_every_version_of_ggwatch(world: World) -> None:
    # Given a deployment that goes Running, then Failed with errors (a fixed input)
    repository, source, publisher, _ = world
    track(repository, "bd-1")
    poller = make_poller(world)
    source.set("bd-1", "Running")
    poller.run()
    failed = (ErrorDetail(code="GroupNotFound", message="g-1"),)
    source.set("bd-1", "Failed", error_message="2 groups failed", error_details=failed)
    poller.run()
    # Then the IDs are the ones every earlier version published: consumers de-duplicate on them
    # across upgrades, so a change here is a breaking change of the notification schema
    assert [n.transition_id for n in publisher.published] == [
        "1177d0f385f56df982c9c0bfeaf63c24",
        "b95567d160e81e3ad1bdc7ac25c18928",
    ]
