"""What one notification becomes on EventBridge, and how a batch is split into PutEvents calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ggwatch.adapters.eventbridge import (
    MAX_BYTES_PER_CALL,
    SOURCE,
    EventBridgePublisher,
    Home,
    calls,
    detail_type,
    event_entry,
)
from ggwatch.domain.commands import TrackRequest
from ggwatch.domain.models import DeploymentKind, ErrorDetail
from ggwatch.domain.notification import STATUS_CHANGE, TRACKING_FAILED_EVENT
from ggwatch.domain.sizes import EVENTBRIDGE_ENTRY_MAX_BYTES, utf8_size
from ggwatch.exceptions import PublishError
from tests.factories import notification

HOME = Home(partition="aws", region="eu-west-1", account="123456789012")


@pytest.mark.parametrize(
    ("event_type", "words"),
    [
        (STATUS_CHANGE, "Deployment Status Change"),
        (TRACKING_FAILED_EVENT, "Deployment Tracking Failed"),
        ("DeploymentStuck", "Deployment Stuck"),
        ("DeploymentRecovered", "Deployment Recovered"),
        ("DeploymentProgress", "Deployment Progress"),
    ],
)
def test_each_event_type_has_its_detail_type(event_type: str, words: str) -> None:
    entry = event_entry(notification(event_type=event_type), bus_name="default", home=HOME).request
    assert (entry["Source"], entry["DetailType"]) == (SOURCE, words)
    assert detail_type(event_type) == words


def test_the_detail_is_the_notification_with_its_arn_and_the_time_is_when_it_was_observed() -> None:
    # Given a V1 notification whose source gave no ARN, in another region than the stack's
    given = notification(deployment_id="bd-7", region="us-west-2", tags={"team": "edge"})

    # When it becomes an event
    entry = event_entry(given, bus_name="ops", home=HOME).request

    # Then the resource is the bulk deployment's ARN in its own region and the stack's account
    arn = "arn:aws:greengrass:us-west-2:123456789012:/greengrass/bulk/deployments/bd-7"
    assert entry["Resources"] == [arn]
    assert entry["EventBusName"] == "ops"
    assert entry["Time"] == datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    # And the detail is the notification, with that ARN filled in
    detail = json.loads(entry["Detail"])
    assert detail == {**json.loads(given.to_json()), "deploymentArn": arn}
    # And the ARN is one the tracker itself accepts as this deployment's
    TrackRequest(deployment_id="bd-7", kind=DeploymentKind.GREENGRASS_V1_BULK, deployment_arn=arn)


def test_a_v2_deployment_in_the_home_region_gets_a_v2_arn() -> None:
    given = notification(deployment_kind="greengrass-v2", deployment_id="d-1", region=None)
    arn = "arn:aws:greengrass:eu-west-1:123456789012:deployments:d-1"
    assert event_entry(given, bus_name="default", home=HOME).request["Resources"] == [arn]
    TrackRequest(deployment_id="d-1", kind=DeploymentKind.GREENGRASS_V2, deployment_arn=arn)


def test_an_arn_the_source_gave_is_kept() -> None:
    arn = "arn:aws-cn:greengrass:cn-north-1:999999999999:deployments:d-1"
    given = notification(deployment_kind="greengrass-v2", deployment_id="d-1", deployment_arn=arn)
    assert event_entry(given, bus_name="default", home=HOME).request["Resources"] == [arn]


def test_a_kind_without_a_known_arn_format_or_an_odd_time_still_makes_an_event() -> None:
    given = notification(deployment_kind="some-future-kind", observed_at="yesterday")
    entry = event_entry(given, bus_name="default", home=HOME).request
    assert entry["Resources"] == []
    assert "Time" not in entry
    assert json.loads(entry["Detail"]) == json.loads(given.to_json())


def test_the_home_is_read_from_the_topic_arn_and_a_garbled_one_is_refused() -> None:
    assert Home.of("arn:aws-us-gov:sns:us-gov-west-1:123456789012:topic") == Home(
        "aws-us-gov", "us-gov-west-1", "123456789012"
    )
    with pytest.raises(ValueError, match="not an ARN"):
        Home.of("ggwatch-topic")


def entry_size(request: Any) -> int:
    """The entry's size as EventBridge's documentation counts it, from the request itself."""
    return (
        (14 if "Time" in request else 0)
        + utf8_size(request["Source"])
        + utf8_size(request["DetailType"])
        + utf8_size(request["Detail"])
        + sum(utf8_size(resource) for resource in request["Resources"])
    )


def test_a_huge_notification_is_cut_to_fit_one_entry_and_says_so() -> None:
    # Given a failure whose message and details alone are far over 256 KB, in 4-byte characters
    huge = notification(
        status="Failed",
        error_message="💥" * 100_000,
        error_details=tuple(ErrorDetail(code="E", message="x" * 5_000) for _ in range(100)),
    )

    # When it becomes an event
    entry = event_entry(huge, bus_name="default", home=HOME)

    # Then the entry fits, counted the way EventBridge counts it, and the detail says it was cut
    assert entry.size == entry_size(entry.request) <= EVENTBRIDGE_ENTRY_MAX_BYTES
    assert json.loads(entry.request["Detail"])["truncated"] is True


def test_a_batch_is_split_at_ten_entries_and_at_the_request_size() -> None:
    small = [event_entry(notification(deployment_id=f"bd-{i}"), bus_name="b", home=HOME) for i in range(12)]
    assert calls(small) == [list(range(10)), [10, 11]]
    # Three entries of ~100 KB: two fit one call, the third needs another
    big = [
        event_entry(
            notification(deployment_id=f"bd-{i}", error_message="x" * 100_000), bus_name="b", home=HOME
        )
        for i in range(3)
    ]
    groups = calls(big)
    assert groups == [[0, 1], [2]]
    assert all(sum(big[i].size for i in group) <= MAX_BYTES_PER_CALL for group in groups)


class _Client:
    """A PutEvents client that refuses the entries at `refused` (by position in the call)."""

    def __init__(self, refused: set[int] | None = None) -> None:
        self.refused = refused or set()
        self.calls: list[list[Any]] = []

    def put_events(self, Entries: list[Any]) -> dict[str, Any]:
        self.calls.append(Entries)
        results = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            if i in self.refused
            else {"EventId": f"e{i}"}
            for i in range(len(Entries))
        ]
        return {"FailedEntryCount": len(self.refused), "Entries": results}


def test_an_entry_eventbridge_refused_fails_alone() -> None:
    client = _Client(refused={1})
    publisher = EventBridgePublisher("default", HOME, client=client)  # type: ignore[arg-type]
    results = publisher.publish_batch([notification(deployment_id=f"bd-{i}") for i in range(3)])
    assert [r is None for r in results] == [True, False, True]
    assert isinstance(results[1], PublishError)
    assert "InternalFailure" in str(results[1])
    assert len(client.calls) == 1


def test_a_refused_single_event_raises_and_a_taken_one_answers_its_id() -> None:
    assert EventBridgePublisher("default", HOME, client=_Client()).publish(notification()) == "e0"  # type: ignore[arg-type]
    with pytest.raises(PublishError, match="InternalFailure"):
        EventBridgePublisher("default", HOME, client=_Client(refused={0})).publish(notification())  # type: ignore[arg-type]
