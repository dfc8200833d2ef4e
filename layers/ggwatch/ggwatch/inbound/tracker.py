"""The tracker's events: a CloudTrail record of StartBulkDeployment (through EventBridge), or a direct
track/untrack request. Either becomes a TrackRequest, or an InvalidEventError saying what is wrong."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from ggwatch.domain.commands import MAX_ARN_LENGTH, DeploymentId, IgnoredEvent, TrackRequest
from ggwatch.domain.models import DeploymentKind
from ggwatch.exceptions import InvalidEventError
from ggwatch.validation import describe


class DirectRequest(BaseModel):
    """What a direct invocation may ask: which deployment, track or untrack, and its kind. Only these
    documented camelCase names are accepted (no `populate_by_name`), so an invocation cannot set a
    field ggwatch sets itself, such as the request's source or the deployment's ARN."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bulk_deployment_id: DeploymentId = Field(alias="bulkDeploymentId")
    action: Literal["track", "untrack"] = "track"
    deployment_kind: DeploymentKind = Field(default=DeploymentKind.GREENGRASS_V1_BULK, alias="deploymentKind")

    def request(self) -> TrackRequest:
        return TrackRequest(
            deployment_id=self.bulk_deployment_id, action=self.action, kind=self.deployment_kind
        )


class _ApiCall(BaseModel):
    """The `detail` of an "AWS API Call via CloudTrail" event, as far as the tracker reads it."""

    model_config = ConfigDict(extra="ignore")

    event_name: str | None = Field(default=None, alias="eventName")
    error_code: str | None = Field(default=None, alias="errorCode")
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
    if envelope.source != "aws.greengrass" or call.event_name != "StartBulkDeployment":
        raise InvalidEventError(
            f"expected a StartBulkDeployment call from aws.greengrass, got {call.event_name!r} from {envelope.source!r}"
        )
    if call.error_code:
        return IgnoredEvent(reason=f"StartBulkDeployment failed with {call.error_code}: nothing to track")
    if not isinstance(call.response_elements, dict):
        raise InvalidEventError("CloudTrail event has no 'detail.responseElements' object")
    try:
        started = _StartedBulkDeployment.model_validate(call.response_elements)
    except ValidationError as error:
        raise InvalidEventError(describe(error, prefix="detail.responseElements.")) from None
    try:
        return TrackRequest(
            deployment_id=started.bulk_deployment_id,
            deployment_arn=started.bulk_deployment_arn,
            source="cloudtrail",
        )
    except ValidationError as error:
        raise InvalidEventError(describe(error, whole="detail.responseElements.bulkDeploymentArn")) from None
