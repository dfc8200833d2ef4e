"""The tracker's inputs: a CloudTrail record of StartBulkDeployment, or a direct track/untrack request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ggwatch.domain.models import DeploymentKind
from ggwatch.exceptions import InvalidEventError

DeploymentId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


class TrackRequest(BaseModel):
    """Start or stop tracking one deployment."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    deployment_id: DeploymentId = Field(alias="bulkDeploymentId")
    action: Literal["track", "untrack"] = "track"
    kind: DeploymentKind = Field(default=DeploymentKind.GREENGRASS_V1_BULK, alias="deploymentKind")
    deployment_arn: str | None = Field(default=None, exclude=True)
    source: Literal["cloudtrail", "manual", "discover"] = Field(default="manual", exclude=True)


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
        return TrackRequest.model_validate(event)
    except ValidationError as error:
        raise InvalidEventError(_describe(error)) from None


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
        return TrackRequest(
            deployment_id=deployment_id,
            deployment_arn=arn if isinstance(arn, str) else None,
            source="cloudtrail",
        )
    except ValidationError as error:
        raise InvalidEventError(_describe(error, prefix="detail.responseElements.")) from None


def _describe(error: ValidationError, prefix: str = "") -> str:
    return "; ".join(
        f"{prefix}{'.'.join(str(part) for part in e['loc']) or 'event'}: {e['msg']}" for e in error.errors()
    )
