"""Parsing tracker events: CloudTrail records and direct requests, and clear errors for bad ones."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ggwatch.domain.arns import MAX_ARN_LENGTH
from ggwatch.domain.commands import IgnoredEvent, TrackRequest
from ggwatch.domain.models import DeploymentKind
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
    assert request == TrackRequest(
        deployment_id="bd-1", deployment_arn=ARN, source="cloudtrail", region="us-east-1"
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
    request = parse_tracker_event(
        cloudtrail({"bulkDeploymentId": "bd-1", "bulkDeploymentArn": arn}, awsRegion="cn-north-1")
    )
    assert isinstance(request, TrackRequest) and request.deployment_arn == arn


def test_no_request_carries_an_arn_longer_than_any_aws_arn() -> None:
    long_id = "b" * 128
    arn = ARN.replace("bd-1", long_id)
    assert TrackRequest(deployment_id=long_id, deployment_arn=arn).deployment_arn == arn
    with pytest.raises(ValidationError, match="deployment_arn"):
        TrackRequest(deployment_id="bd-1", deployment_arn=ARN + "x" * MAX_ARN_LENGTH)


# -- Greengrass V2: CreateDeployment, and V1's group-deployment call of the same name ----------------
V2_TARGET = "arn:aws:iot:us-east-1:123456789012:thinggroup/line-3"
V2_ARN = "arn:aws:greengrass:us-east-1:123456789012:deployments:d-1"


def create_deployment(request: object = None, response: object = None, **detail: object) -> dict[str, object]:
    event = cloudtrail(response, **detail)
    event_detail = event["detail"]
    assert isinstance(event_detail, dict)
    event_detail |= {"eventName": "CreateDeployment", "requestParameters": request}
    return event


def v2_create(
    target: object = V2_TARGET, deployment_id: object = "d-1", **detail: object
) -> dict[str, object]:
    return create_deployment(
        {"targetArn": target, "deploymentName": "line 3"},
        {
            "deploymentId": deployment_id,
            "iotJobId": "job-1",
            "iotJobArn": "arn:aws:iot:us-east-1:123456789012:job/job-1",
        },
        **detail,
    )


def test_a_v2_create_deployment_is_tracked_as_v2_with_its_deployment_arn() -> None:
    request = parse_tracker_event(v2_create())
    assert request == TrackRequest(
        deployment_id="d-1",
        kind=DeploymentKind.GREENGRASS_V2,
        deployment_arn=V2_ARN,
        source="cloudtrail",
        region="us-east-1",
    )


def test_a_v2_deployment_arn_keeps_its_targets_partition_region_and_account() -> None:
    target = "arn:aws-cn:iot:cn-north-1:210987654321:thing/gateway-7"
    request = parse_tracker_event(v2_create(target, awsRegion="cn-north-1"))
    assert isinstance(request, TrackRequest)
    assert request.deployment_arn == "arn:aws-cn:greengrass:cn-north-1:210987654321:deployments:d-1"


@pytest.mark.parametrize(
    ("request_parameters", "response"),
    [
        (
            {"GroupId": "g-1", "DeploymentType": "NewDeployment", "GroupVersionId": "v-1"},
            {
                "DeploymentId": "gd-1",
                "DeploymentArn": "arn:aws:greengrass:us-east-1:123456789012:/greengrass/groups/g-1/deployments/gd-1",
            },
        ),
        ({"GroupId": "g-1", "DeploymentType": "ResetDeployments"}, {"DeploymentId": "gd-1"}),
        (None, {"DeploymentId": "gd-1", "DeploymentArn": "arn:x"}),
    ],
)
def test_a_v1_group_create_deployment_is_ignored(request_parameters: object, response: object) -> None:
    result = parse_tracker_event(create_deployment(request_parameters, response))
    assert isinstance(result, IgnoredEvent)
    assert "V1 group" in result.reason


@pytest.mark.parametrize(
    "event",
    [
        create_deployment({"targetArn": V2_TARGET}, None, errorCode="ValidationException", errorMessage="no"),
        create_deployment({"GroupId": "g-1"}, None, errorCode="BadRequestException", errorMessage="no"),
    ],
)
def test_a_failed_create_deployment_tracks_nothing(event: dict[str, object]) -> None:
    result = parse_tracker_event(event)
    assert isinstance(result, IgnoredEvent)
    assert "CreateDeployment failed" in result.reason


@pytest.mark.parametrize(
    ("event", "named"),
    [
        (v2_create(deployment_id=None), r"detail\.responseElements\.deploymentId"),
        (v2_create(deployment_id="d 1; drop"), r"detail\.responseElements\.deploymentId"),
        (v2_create(target="line-3"), r"detail\.requestParameters\.targetArn"),
        (v2_create(target=7), r"detail\.requestParameters\.targetArn"),
        (v2_create(target="arn:aws:iot:us-east-1:42:thing/x"), r"detail\.requestParameters\.targetArn"),
        (create_deployment({}, {"deploymentId": "d-1"}), r"detail\.requestParameters\.targetArn"),
        (create_deployment("text", {"deploymentId": "d-1"}), r"detail\.requestParameters"),
        (create_deployment({"targetArn": V2_TARGET}, None), r"detail\.responseElements"),
        (cloudtrail({}) | {"detail": {"eventName": "DeleteDeployment"}}, "CreateDeployment"),
    ],
)
def test_a_malformed_create_deployment_gets_an_error_naming_the_field(event: object, named: str) -> None:
    with pytest.raises(InvalidEventError, match=named):
        parse_tracker_event(event)


# -- direct invocations of either kind --------------------------------------------------------------
@pytest.mark.parametrize("action", ["track", "untrack"])
def test_a_direct_v2_request_names_its_deployment_and_kind(action: str) -> None:
    request = parse_tracker_event({"deploymentId": "d-1", "kind": "greengrass-v2", "action": action})
    assert request == TrackRequest(deployment_id="d-1", kind=DeploymentKind.GREENGRASS_V2, action=action)


def test_a_deployment_id_of_either_kind_may_be_named_with_its_kind() -> None:
    request = parse_tracker_event({"deploymentId": "bd-1", "kind": "greengrass-v1-bulk"})
    assert request == TrackRequest(deployment_id="bd-1")


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"deploymentId": "d-1"}, "needs its kind"),
        ({"deploymentId": "d-1", "kind": "greengrass-v3"}, "kind"),
        ({"bulkDeploymentId": "bd-1", "deploymentId": "d-1", "kind": "greengrass-v2"}, "exactly one"),
        ({"bulkDeploymentId": "bd-1", "kind": "greengrass-v2"}, "use deploymentId with kind"),
        ({"kind": "greengrass-v2"}, "exactly one"),
        ({"deploymentId": "d-1", "kind": "greengrass-v2", "deploymentArn": V2_ARN}, "deploymentArn"),
        ({"deploymentId": "d-1", "kind": "greengrass-v2", "source": "discover"}, "source"),
        ({"deployment_id": "d-1", "kind": "greengrass-v2"}, "deployment_id"),
    ],
)
def test_a_direct_request_must_say_which_deployment_of_which_kind(event: object, named: str) -> None:
    with pytest.raises(InvalidEventError, match=named):
        parse_tracker_event(event)


# -- the deployment's region -------------------------------------------------------------------------
EU_ARN = ARN.replace("us-east-1", "eu-west-1")


def test_a_start_records_the_region_cloudtrail_names_over_the_buss_region() -> None:
    # Given a StartBulkDeployment made in eu-west-1, its event read on a bus in another region
    event = cloudtrail({"bulkDeploymentId": "bd-1", "bulkDeploymentArn": EU_ARN}, awsRegion="eu-west-1")
    request = parse_tracker_event(event)
    assert isinstance(request, TrackRequest) and request.region == "eu-west-1"


def test_a_v2_create_records_the_region_cloudtrail_names() -> None:
    target = V2_TARGET.replace("us-east-1", "ap-southeast-2")
    request = parse_tracker_event(v2_create(target, awsRegion="ap-southeast-2"))
    assert isinstance(request, TrackRequest)
    assert (request.region, request.deployment_arn) == (
        "ap-southeast-2",
        V2_ARN.replace("us-east-1", "ap-southeast-2"),
    )


def test_an_event_without_aws_region_takes_the_events_own_region() -> None:
    event = cloudtrail({"bulkDeploymentId": "bd-1", "bulkDeploymentArn": EU_ARN}) | {"region": "eu-west-1"}
    request = parse_tracker_event(event)
    assert isinstance(request, TrackRequest) and request.region == "eu-west-1"


@pytest.mark.parametrize("region", ["", "Europe", "eu_west_1", "eu-west-1a", "us-east-1; drop"])
def test_a_malformed_aws_region_is_an_invalid_event_naming_it(region: str) -> None:
    with pytest.raises(InvalidEventError, match=r"^detail\.awsRegion: not an AWS region"):
        parse_tracker_event(cloudtrail({"bulkDeploymentId": "bd-1"}, awsRegion=region))


def test_an_arn_of_another_region_than_the_call_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="names region eu-west-1, not us-east-1"):
        parse_tracker_event(cloudtrail({"bulkDeploymentId": "bd-1", "bulkDeploymentArn": EU_ARN}))


def test_a_direct_request_may_name_the_region_and_a_bad_one_is_named() -> None:
    request = parse_tracker_event({"deploymentId": "d-1", "kind": "greengrass-v2", "region": "eu-west-1"})
    assert isinstance(request, TrackRequest) and request.region == "eu-west-1"
    assert parse_tracker_event({"bulkDeploymentId": "bd-1"}) == TrackRequest(
        deployment_id="bd-1", region=None
    )
    with pytest.raises(InvalidEventError, match=r"region: .*not an AWS region"):
        parse_tracker_event({"bulkDeploymentId": "bd-1", "region": "mars-1"})
