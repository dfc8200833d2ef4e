"""Parsing tracker events: CloudTrail records and direct requests, and clear errors for bad ones."""

import json
from pathlib import Path

import pytest

from ggwatch.domain.commands import IgnoredEvent, TrackRequest, parse_tracker_event
from ggwatch.exceptions import InvalidEventError


def cloudtrail(response: object = None, **detail: object) -> dict[str, object]:
    return {
        "source": "aws.greengrass",
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": "greengrass.amazonaws.com",
            "eventName": "StartBulkDeployment",
            "responseElements": response,
            **detail,
        },
    }


@pytest.mark.parametrize("field", ["bulkDeploymentId", "BulkDeploymentId"])
def test_cloudtrail_start_is_tracked_with_either_spelling(field: str) -> None:
    request = parse_tracker_event(cloudtrail({field: "bd-1", "bulkDeploymentArn": "arn:aws:greengrass:x"}))
    assert request == TrackRequest(
        deployment_id="bd-1", deployment_arn="arn:aws:greengrass:x", source="cloudtrail"
    )


def test_failed_start_call_is_ignored() -> None:
    result = parse_tracker_event(cloudtrail(None, errorCode="AccessDenied", errorMessage="no"))
    assert isinstance(result, IgnoredEvent)
    assert "AccessDenied" in result.reason


def test_direct_track_and_untrack() -> None:
    assert parse_tracker_event({"bulkDeploymentId": "bd-1"}) == TrackRequest(deployment_id="bd-1")
    untrack = parse_tracker_event({"bulkDeploymentId": "bd-1", "action": "untrack"})
    assert isinstance(untrack, TrackRequest) and untrack.action == "untrack"


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({}, "bulkDeploymentId"),
        ({"bulkDeploymentId": ""}, "bulkDeploymentId"),
        ({"bulkDeploymentId": "bd-1", "action": "delete"}, "action"),
        ({"bulkDeploymentId": "bd 1; drop"}, "bulkDeploymentId"),
        ({"bulkDeploymentId": "bd-1", "extra": 1}, "extra"),
        ([1, 2], "JSON object"),
        ("bd-1", "JSON object"),
        (cloudtrail({}), "bulkDeploymentId"),
        (cloudtrail("not an object"), "responseElements"),
        ({"detail-type": "x", "detail": "y"}, "detail"),
        (cloudtrail({"bulkDeploymentId": "bd-1"}) | {"source": "aws.s3"}, "StartBulkDeployment"),
    ],
)
def test_invalid_events_get_an_error_naming_the_problem(event: object, named: str) -> None:
    with pytest.raises(InvalidEventError, match=named):
        parse_tracker_event(event)


@pytest.mark.parametrize(
    "name", ["tracker_cloudtrail_start.json", "tracker_track.json", "tracker_untrack.json"]
)
def test_sample_events_parse_as_requests(name: str) -> None:
    event = json.loads((Path(__file__).parents[2] / "events" / name).read_text())
    assert isinstance(parse_tracker_event(event), TrackRequest)
