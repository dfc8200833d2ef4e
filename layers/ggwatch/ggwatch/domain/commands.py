"""The tracker's inputs: a CloudTrail record of StartBulkDeployment, or a direct track/untrack request."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ggwatch.domain.models import DeploymentKind
from ggwatch.exceptions import InvalidEventError
from ggwatch.validation import describe

DeploymentId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]

MAX_ARN_LENGTH = 2048
"""The longest ARN any AWS API accepts."""

_ARN_FORMATS = {
    DeploymentKind.GREENGRASS_V1_BULK: r"arn:aws[a-z-]*:greengrass:[a-z0-9-]+:\d{{12}}:/greengrass/bulk/deployments/{id}",
}
"""Each kind's deployment ARN, ending in the deployment's own ID."""


class TrackRequest(BaseModel):
    """Start or stop tracking one deployment: what the tracker does, however the request arrived.

    Built by ggwatch's own code (the CloudTrail reader, the direct-request reader, the CLI), never
    validated straight from an event: `source` and `deployment_arn` are facts ggwatch vouches for.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deployment_id: DeploymentId
    action: Literal["track", "untrack"] = "track"
    kind: DeploymentKind = DeploymentKind.GREENGRASS_V1_BULK
    deployment_arn: Annotated[str, Field(max_length=MAX_ARN_LENGTH)] | None = None
    source: Literal["cloudtrail", "manual"] = "manual"

    @model_validator(mode="after")
    def _arn_names_this_deployment(self) -> Self:
        arn_format = _ARN_FORMATS[self.kind].format(id=re.escape(self.deployment_id))
        if self.deployment_arn is not None and not re.fullmatch(arn_format, self.deployment_arn):
            raise ValueError(
                f"deployment_arn is not the ARN of {self.kind.value} deployment {self.deployment_id}"
            )
        return self


class DirectRequest(BaseModel):
    """What a direct invocation may ask: which deployment, track or untrack, and its kind. Only these
    documented camelCase names are accepted (no `populate_by_name`), so an invocation cannot set a
    field ggwatch sets itself, such as the request's source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bulk_deployment_id: DeploymentId = Field(alias="bulkDeploymentId")
    action: Literal["track", "untrack"] = "track"
    deployment_kind: DeploymentKind = Field(default=DeploymentKind.GREENGRASS_V1_BULK, alias="deploymentKind")

    def request(self) -> TrackRequest:
        return TrackRequest(
            deployment_id=self.bulk_deployment_id, action=self.action, kind=self.deployment_kind
        )


class IgnoredEvent(BaseModel):
    """A well-formed event that asks for nothing (for example a StartBulkDeployment call that failed)."""

    model_config = ConfigDict(frozen=True)

    reason: str


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
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEventError("CloudTrail event has no 'detail' object")
    if event.get("source") != "aws.greengrass" or detail.get("eventName") != "StartBulkDeployment":
        raise InvalidEventError(
            f"expected a StartBulkDeployment call from aws.greengrass, got "
            f"{detail.get('eventName')!r} from {event.get('source')!r}"
        )
    if detail.get("errorCode"):
        return IgnoredEvent(reason=f"StartBulkDeployment failed with {detail['errorCode']}: nothing to track")
    response = detail.get("responseElements")
    if not isinstance(response, dict):
        raise InvalidEventError("CloudTrail event has no 'detail.responseElements' object")
    deployment_id = response.get("bulkDeploymentId") or response.get("BulkDeploymentId")
    arn = response.get("bulkDeploymentArn") or response.get("BulkDeploymentArn")
    if not deployment_id:
        raise InvalidEventError(
            "detail.responseElements has neither 'bulkDeploymentId' nor 'BulkDeploymentId'"
        )
    try:
        return TrackRequest(deployment_id=deployment_id, deployment_arn=arn, source="cloudtrail")
    except ValidationError as error:
        raise InvalidEventError(
            describe(error, prefix="detail.responseElements.", whole="bulkDeploymentArn")
        ) from None
