"""The polling pass against in-memory ports: ordering of claim, publish and commit, isolation, deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ggwatch.domain.models import TRACKING_FAILED, DeploymentKind, ErrorDetail, Metrics
from ggwatch.exceptions import DeploymentNotFoundError, SourceThrottledError, SourceUnavailableError
from ggwatch.services.poller import Poller, PollerPolicy
from tests.clock import START, Clock
from tests.fakes import InMemoryRepository, RecordingPublisher, ScriptedSource

KIND = DeploymentKind.GREENGRASS_V1_BULK


World = tuple[InMemoryRepository, ScriptedSource, RecordingPublisher, Clock]


@pytest.fixture
def world() -> World:
    return InMemoryRepository(), ScriptedSource(), RecordingPublisher(), Clock()


def make_poller(world: World, **policy: Any) -> Poller:
    repository, source, publisher, clock = world
    return Poller(repository, [source], publisher, PollerPolicy(**policy), clock=clock)


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


def test_publish_failure_keeps_the_claim_and_a_later_run_publishes_it(world: World) -> None:
    repository, source, publisher, clock = world
    track(repository, "bd-1")
    poller = make_poller(world, claim_lease=timedelta(seconds=60))
    source.set("bd-1", "Running")
    publisher.fail_next = 1
    report = poller.run()
    assert report.count("failed") == 1 and publisher.published == []
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and stored.pending is not None and stored.status is None
    # Within the lease another run leaves the claim alone; after it, the claim is published once.
    poller.run()
    assert publisher.published == []
    clock.now += timedelta(seconds=61)
    poller.run()
    assert transitions(publisher) == [("bd-1", None, "Running")]
    assert publisher.published[0].transition_id == stored.pending.transition_id
    poller.run()
    assert len(publisher.published) == 1


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
    repository, source, publisher, _ = world
    track(repository, "a", "b", "c", "d")
    for deployment_id in "abcd":
        source.set(deployment_id, "Running")
    budget = iter([50_000, 50_000, 1_000])  # two deployments fit, then the margin is reached
    report = make_poller(world, safety_margin_ms=8_000).run(lambda: next(budget, 1_000))
    assert report.stopped_at_deadline
    assert source.calls == ["a", "b"]
    assert repository.cursor(KIND) == "DEPLOYMENT#greengrass-v1-bulk#c"
    source.calls.clear()
    make_poller(world).run()
    assert source.calls == ["c", "d", "a", "b"]
    assert repository.cursor(KIND) is None
    assert sorted(n.deployment_id for n in publisher.published) == ["a", "b", "c", "d"]


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

    outcome = poller._poll_item(ActiveItem(key="k", deployment=stale), source)
    assert outcome.result == "skipped"
    assert len(publisher.published) == 1


def test_dry_run_reports_transitions_but_publishes_and_stores_nothing(world: World) -> None:
    repository, source, publisher, _ = world
    track(repository, "bd-1")
    source.set("bd-1", "Running")
    writes = repository.writes
    report = make_poller(world, dry_run=True).run()
    assert [n.status for n in report.notifications] == ["Running"]
    assert publisher.published == []
    assert repository.writes == writes


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

    outcome = poller._poll_item(ActiveItem(key="k", deployment=expired), source)
    assert outcome.result == "skipped"
    assert [n.transition_id for n in publisher.published] == [expired.pending.transition_id]
