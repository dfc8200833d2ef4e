"""The Tracker says what a request changed as a model; the handler alone shapes the Lambda response."""

from __future__ import annotations

from datetime import UTC, datetime

from ggwatch.domain.commands import IgnoredEvent, TrackRequest, TrackResult
from ggwatch.services.tracker import Tracker
from ggwatch_local.lambda_runtime import load_handler
from tests.fakes import InMemoryRepository

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_apply_returns_what_changed_and_repeating_changes_nothing() -> None:
    # Given a tracker over an empty repository
    repository = InMemoryRepository()
    tracker = Tracker(repository, clock=lambda: NOW)
    # When the same deployment is tracked twice, then untracked
    results = [
        tracker.apply(TrackRequest(deployment_id="bd-1")),
        tracker.apply(TrackRequest(deployment_id="bd-1")),
        tracker.apply(TrackRequest(deployment_id="bd-1", action="untrack")),
    ]
    # Then each result says whether it changed anything
    assert results == [
        TrackResult(deployment_id="bd-1", action="track", changed=True),
        TrackResult(deployment_id="bd-1", action="track", changed=False),
        TrackResult(deployment_id="bd-1", action="untrack", changed=True),
    ]
    assert repository.items["DEPLOYMENT#greengrass-v1-bulk#bd-1"].active is False


def test_an_ignored_event_changes_nothing() -> None:
    repository = InMemoryRepository()
    ignored = IgnoredEvent(reason="StartBulkDeployment failed")
    assert Tracker(repository).apply(ignored) == ignored
    assert repository.writes == 0


def test_the_handler_shapes_the_lambda_response_from_the_result() -> None:
    response = load_handler("tracker").response
    assert response(TrackResult(deployment_id="bd-1", action="untrack", changed=False)) == {
        "deploymentId": "bd-1",
        "action": "untrack",
        "changed": False,
    }
    assert response(IgnoredEvent(reason="nothing to track")) == {
        "ignored": True,
        "reason": "nothing to track",
    }
