"""The tracker's events: a CloudTrail record of StartBulkDeployment (V1) or CreateDeployment (V2) through
EventBridge, or a direct track/untrack request. Each becomes a TrackRequest, an IgnoredEvent (a failed
call, a V1 group deployment), or an InvalidEventError saying what is wrong."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ggwatch.domain.arns import MAX_ARN_LENGTH, DeploymentId, v2_deployment_arn
from ggwatch.domain.commands import IgnoredEvent, TrackRequest
from ggwatch.domain.models import DeploymentKind
from ggwatch.domain.regions import AwsRegion, checked_region
from ggwatch.exceptions import InvalidEventError
from ggwatch.validation import describe


class DirectRequest(BaseModel):
    """What a direct invocation may ask: which deployment, track or untrack, and its kind.

    `{"bulkDeploymentId": ID}` names a Greengrass V1 bulk deployment (as it always has);
    `{"deploymentId": ID, "kind": KIND}` names a deployment of any kind, and must say its kind: an ID
    alone does not say whether it is V1 or V2, and guessing would track an ID no poll can find.
    `"region"` says where the deployment lives (default: the stack's own region).
    Only these documented camelCase names are accepted (no `populate_by_name`), so an invocation
    cannot set a field ggwatch sets itself, such as the request's source or the deployment's ARN.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bulk_deployment_id: DeploymentId | None = Field(default=None, alias="bulkDeploymentId")
    deployment_id: DeploymentId | None = Field(default=None, alias="deploymentId")
    action: Literal["track", "untrack"] = "track"
    kind: DeploymentKind | None = Field(default=None, validation_alias=AliasChoices("kind", "deploymentKind"))
    region: AwsRegion | None = None

    @model_validator(mode="after")
    def _one_deployment_of_a_known_kind(self) -> Self:
        if (self.bulk_deployment_id is None) == (self.deployment_id is None):
            raise ValueError("give exactly one of bulkDeploymentId or deploymentId (with its kind)")
        if self.deployment_id is not None and self.kind is None:
            kinds = ", ".join(kind.value for kind in DeploymentKind)
            raise ValueError(f'deploymentId needs its kind: add "kind" ({kinds})')
        if self.bulk_deployment_id is not None and self.kind not in (None, DeploymentKind.GREENGRASS_V1_BULK):
            raise ValueError(
                "bulkDeploymentId names a greengrass-v1-bulk deployment: use deploymentId with kind"
            )
        return self

    def request(self) -> TrackRequest:
        return TrackRequest(
            deployment_id=self.deployment_id or self.bulk_deployment_id or "",
            action=self.action,
            kind=self.kind or DeploymentKind.GREENGRASS_V1_BULK,
            region=self.region,
        )


class _ApiCall(BaseModel):
    """The `detail` of an "AWS API Call via CloudTrail" event, as far as the tracker reads it."""

    model_config = ConfigDict(extra="ignore")

    event_name: str | None = Field(default=None, alias="eventName")
    aws_region: str | None = Field(default=None, alias="awsRegion")
    """The region the call was made in: where the deployment it started lives."""
    error_code: str | None = Field(default=None, alias="errorCode")
    request_parameters: Any = Field(default=None, alias="requestParameters")
    response_elements: Any = Field(default=None, alias="responseElements")


class _StartedBulkDeployment(BaseModel):
    """StartBulkDeployment's answer as CloudTrail records it (either capitalisation of the members)."""

    model_config = ConfigDict(extra="ignore")

    bulk_deployment_id: DeploymentId = Field(
        validation_alias=AliasChoices("bulkDeploymentId", "BulkDeploymentId")
    )
    bulk_deployment_arn: Annotated[str, Field(max_length=MAX_ARN_LENGTH)] | None = Field(
        default=None, validation_alias=AliasChoices("bulkDeploymentArn", "BulkDeploymentArn")
    )


class _V2DeploymentRequest(BaseModel):
    """Greengrass V2 CreateDeployment's request: its target names the deployment's partition, region
    and account (a deployment lives beside its target)."""

    model_config = ConfigDict(extra="ignore")

    target_arn: Annotated[str, Field(max_length=MAX_ARN_LENGTH, pattern=r"^arn:[a-z-]+:[a-z0-9-]+:")] = Field(
        alias="targetArn"
    )


class _CreatedV2Deployment(BaseModel):
    """Greengrass V2 CreateDeployment's answer, as far as the tracker needs it."""

    model_config = ConfigDict(extra="ignore")

    deployment_id: DeploymentId = Field(alias="deploymentId")


_CALLS = ("StartBulkDeployment", "CreateDeployment")
"""The CloudTrail calls that start a deployment ggwatch tracks (the template's rule matches both)."""
_V1_GROUP_REQUEST = frozenset({"GroupId", "groupId", "DeploymentType", "deploymentType"})
_V1_GROUP_RESPONSE = frozenset({"DeploymentId", "DeploymentArn"})


def parse_tracker_event(event: Any) -> TrackRequest | IgnoredEvent:
    """Read a tracker event; raise InvalidEventError saying exactly what is wrong with it."""
    if not isinstance(event, dict):
        raise InvalidEventError(f"event must be a JSON object, got {type(event).__name__}")
    if "detail-type" in event or "detail" in event:
        return _from_cloudtrail(event)
    try:
        return DirectRequest.model_validate(event).request()
    except ValidationError as error:
        raise InvalidEventError(describe(error, whole="event")) from None


def _from_cloudtrail(event: dict[str, Any]) -> TrackRequest | IgnoredEvent:
    try:
        envelope = EventBridgeModel.model_validate(event)
        call = _ApiCall.model_validate(envelope.detail)
    except ValidationError as error:
        raise InvalidEventError(
            f"not an EventBridge event of a CloudTrail API call: {describe(error)}"
        ) from None
    if envelope.source != "aws.greengrass" or call.event_name not in _CALLS:
        raise InvalidEventError(
            f"expected a StartBulkDeployment or CreateDeployment call from aws.greengrass, "
            f"got {call.event_name!r} from {envelope.source!r}"
        )
    if call.error_code:
        return IgnoredEvent(reason=f"{call.event_name} failed with {call.error_code}: nothing to track")
    # A forwarded event keeps its `region`; CloudTrail's own awsRegion is the call's, so it comes first.
    region = envelope.region if call.aws_region is None else call.aws_region
    if call.event_name == "CreateDeployment":
        return _created_deployment(call, region)
    started = _response(_StartedBulkDeployment, call)
    return _cloudtrail_request(
        started.bulk_deployment_id,
        started.bulk_deployment_arn,
        DeploymentKind.GREENGRASS_V1_BULK,
        region,
        arn_from="detail.responseElements.bulkDeploymentArn",
    )


def _created_deployment(call: _ApiCall, region: str) -> TrackRequest | IgnoredEvent:
    """V2 CreateDeployment, or V1's group-deployment call of the same name, told apart by shape: V2
    sends `targetArn` and answers `iotJobId`; V1 sends GroupId/DeploymentType and answers
    DeploymentId/DeploymentArn. A V1 group deployment is not a fleet rollout ggwatch watches."""
    request = call.request_parameters if isinstance(call.request_parameters, dict) else {}
    answer = call.response_elements if isinstance(call.response_elements, dict) else {}
    if "targetArn" not in request and (
        _V1_GROUP_REQUEST & request.keys() or _V1_GROUP_RESPONSE & answer.keys()
    ):
        return IgnoredEvent(
            reason="CreateDeployment of a Greengrass V1 group: only V1 bulk and V2 deployments are tracked"
        )
    if not isinstance(call.request_parameters, dict):
        raise InvalidEventError("CloudTrail event has no 'detail.requestParameters' object")
    try:
        target = _V2DeploymentRequest.model_validate(request)
    except ValidationError as error:
        raise InvalidEventError(describe(error, prefix="detail.requestParameters.")) from None
    created = _response(_CreatedV2Deployment, call)
    arn = v2_deployment_arn(target.target_arn, created.deployment_id)
    return _cloudtrail_request(
        created.deployment_id,
        arn,
        DeploymentKind.GREENGRASS_V2,
        region,
        arn_from="detail.requestParameters.targetArn",
    )


def _response[Answer: BaseModel](model: type[Answer], call: _ApiCall) -> Answer:
    if not isinstance(call.response_elements, dict):
        raise InvalidEventError("CloudTrail event has no 'detail.responseElements' object")
    try:
        return model.model_validate(call.response_elements)
    except ValidationError as error:
        raise InvalidEventError(describe(error, prefix="detail.responseElements.")) from None


def _cloudtrail_request(
    deployment_id: str, arn: str | None, kind: DeploymentKind, region: str, *, arn_from: str
) -> TrackRequest:
    """The request, its ARN checked against the kind's format and the call's region (`arn_from` names
    where the ARN came from)."""
    try:
        checked_region(region)
    except ValueError as error:
        raise InvalidEventError(f"detail.awsRegion: {error}") from None
    try:
        return TrackRequest(
            deployment_id=deployment_id, deployment_arn=arn, kind=kind, source="cloudtrail", region=region
        )
    except ValidationError as error:
        raise InvalidEventError(describe(error, whole=arn_from)) from None
