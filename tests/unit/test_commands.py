"""Parsing tracker events: CloudTrail records and direct requests, and clear errors for bad ones."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ggwatch.domain.commands import MAX_ARN_LENGTH, IgnoredEvent, TrackRequest
from ggwatch.exceptions import InvalidEventError
from ggwatch.inbound.tracker import parse_tracker_event

ARN = "arn:aws:greengrass:us-east-1:123456789012:/greengrass/bulk/deployments/bd-1"


def cloudtrail(response: object = None, **detail: object) -> dict[str, object]:
    return {
        "version": "0",
        "id": "3a1c9f4a-6b2d-4f7e-8a0c-5d9b2e7f1a34",
        "source": "aws.greengrass",
        "account": "123456789012",
        "time": "2026-11-28T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
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
    request = parse_tracker_event(cloudtrail({field: "bd-1", "bulkDeploymentArn": ARN}))
    assert request == TrackRequest(deployment_id="bd-1", deployment_arn=ARN, source="cloudtrail")


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


@pytest.mark.parametrize(
    "forged",
    [
        {"bulkDeploymentId": "bd-1", "source": "cloudtrail"},
        {"bulkDeploymentId": "bd-1", "deployment_arn": ARN},
        {"bulkDeploymentId": "bd-1", "deploymentArn": ARN},
        {"deployment_id": "bd-1"},
        {"bulk_deployment_id": "bd-1"},
        {"bulkDeploymentId": "bd-1", "deployment_kind": "greengrass-v1-bulk"},
    ],
)
def test_a_direct_invocation_can_set_only_the_documented_fields(forged: dict[str, str]) -> None:
    # Field names (populate_by_name) and internal fields such as the source are not part of the request
    with pytest.raises(InvalidEventError):
        parse_tracker_event(forged)


def test_a_direct_invocation_is_always_a_manual_request_without_an_arn() -> None:
    request = parse_tracker_event({"bulkDeploymentId": "bd-1", "deploymentKind": "greengrass-v1-bulk"})
    assert isinstance(request, TrackRequest)
    assert (request.source, request.deployment_arn) == ("manual", None)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:greengrass:x",
        ARN.replace("bd-1", "bd-2"),
        ARN + "/extra",
        ARN.replace("123456789012", "1234"),
        "arn:aws:greengrass:us-east-1:123456789012:/greengrass/bulk/deployments/" + "x" * 3000,
        42,
    ],
)
def test_a_cloudtrail_arn_that_is_not_this_deployments_is_rejected(arn: object) -> None:
    with pytest.raises(InvalidEventError, match=r"detail\.responseElements"):
        parse_tracker_event(cloudtrail({"bulkDeploymentId": "bd-1", "bulkDeploymentArn": arn}))


def test_arns_of_other_partitions_are_accepted() -> None:
    arn = ARN.replace("arn:aws:", "arn:aws-cn:").replace("us-east-1", "cn-north-1")
    request = parse_tracker_event(cloudtrail({"bulkDeploymentId": "bd-1", "bulkDeploymentArn": arn}))
    assert isinstance(request, TrackRequest) and request.deployment_arn == arn


def test_no_request_carries_an_arn_longer_than_any_aws_arn() -> None:
    long_id = "b" * 128
    arn = ARN.replace("bd-1", long_id)
    assert TrackRequest(deployment_id=long_id, deployment_arn=arn).deployment_arn == arn
    with pytest.raises(ValidationError, match="deployment_arn"):
        TrackRequest(deployment_id="bd-1", deployment_arn=ARN + "x" * MAX_ARN_LENGTH)
