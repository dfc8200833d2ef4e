"""The Tracker says what a request changed as a model; the handler alone shapes the Lambda response."""

from __future__ import annotations

from datetime import UTC, datetime

from ggwatch.domain.commands import IgnoredEvent, TrackRequest, TrackResult
from ggwatch.domain.regions import RegionPolicy
from ggwatch.services.tracker import Tracker
from ggwatch_local.lambda_runtime import load_handler
from tests.fakes import InMemoryRepository

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOME = RegionPolicy.of("us-east-1", ("eu-west-1",))
"""A stack in us-east-1 that also polls eu-west-1."""


def test_apply_returns_what_changed_and_repeating_changes_nothing() -> None:
    # Given a tracker over an empty repository
    repository = InMemoryRepository()
    tracker = Tracker(repository, HOME, clock=lambda: NOW)
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
    assert Tracker(repository, HOME).apply(ignored) == ignored
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


def test_a_deployment_in_the_home_region_is_stored_without_a_region_and_another_with_its_own() -> None:
    # Given a stack in us-east-1 that polls eu-west-1 too
    repository = InMemoryRepository()
    tracker = Tracker(repository, HOME, clock=lambda: NOW)
    # When deployments are tracked naming no region, the home region, and eu-west-1
    for deployment_id, region in (("bd-1", None), ("bd-2", "us-east-1"), ("bd-3", "eu-west-1")):
        assert tracker.apply(TrackRequest(deployment_id=deployment_id, region=region)).changed
    # Then the home region is stored one way only (None), the other by name
    stored = {d.deployment_id: d.region for d in repository.items.values()}
    assert stored == {"bd-1": None, "bd-2": None, "bd-3": "eu-west-1"}


def test_a_deployment_in_a_region_the_stack_does_not_poll_is_refused_counted_and_not_stored() -> None:
    from ggwatch.observability import metrics

    repository = InMemoryRepository()
    tracker = Tracker(repository, HOME, clock=lambda: NOW)

    result = tracker.apply(TrackRequest(deployment_id="bd-1", region="ap-south-1"))

    assert not result.changed
    assert result.refused is not None
    assert "ap-south-1 is not polled" in result.refused and "us-east-1, eu-west-1" in result.refused
    assert "PollRegions" in result.refused
    assert repository.writes == 0 and repository.items == {}
    assert metrics.metric_set["TrackRefused"]["Value"] == [1.0]
    # untracking names no region: it is never refused
    assert (
        tracker.apply(TrackRequest(deployment_id="bd-1", action="untrack", region="ap-south-1")).refused
        is None
    )


def test_the_handler_answers_a_refusal_with_its_reason() -> None:
    response = load_handler("tracker").response
    refused = TrackResult(
        deployment_id="bd-1", action="track", changed=False, refused="region x is not polled"
    )
    assert response(refused) == {
        "deploymentId": "bd-1",
        "action": "track",
        "changed": False,
        "refused": "region x is not polled",
    }
