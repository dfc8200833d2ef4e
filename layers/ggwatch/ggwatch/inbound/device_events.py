"""Greengrass V2 device events: "Greengrass V2 Effective Deployment Status Change", one per core device
and deployment, delivered by EventBridge best-effort, possibly duplicated and out of order.

Only the deployment ID is acted on: the event says that something changed, the source says what. So
an event's own status is logged, never trusted, and a stale one cannot move a deployment backwards.

The poller's scheduled passes (most of its invocations) only ask `is_device_event`: the parsing models
are built (`defer_build`) by the first device event rather than at every cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ggwatch.domain.arns import MAX_ARN_LENGTH, DeploymentId
from ggwatch.observability import logger, metrics
from ggwatch.validation import describe

SOURCE = "aws.greengrass"
DETAIL_TYPE = "Greengrass V2 Effective Deployment Status Change"


@dataclass(frozen=True)
class DeviceStatusChange:
    """One core device's report on one deployment."""

    deployment_id: str
    core_device_arn: str | None
    execution_status: str


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    deployment_id: DeploymentId = Field(alias="deploymentId")
    execution_status: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        alias="coreDeviceExecutionStatus"
    )


class _DeviceEvent(BaseModel):
    """The envelope as far as it is read: Powertools' EventBridgeModel would also require fields (id,
    time, account...) that are not read, and drop an event missing one."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    source: Literal["aws.greengrass"]
    detail_type: Literal["Greengrass V2 Effective Deployment Status Change"] = Field(alias="detail-type")
    resources: list[Annotated[str, Field(max_length=MAX_ARN_LENGTH)]] = Field(default_factory=list)
    detail: _Detail


def is_device_event(event: Any) -> bool:
    """Whether an event came from Greengrass rather than from the schedule or a person."""
    return isinstance(event, dict) and event.get("source") == SOURCE


def device_status_change(event: Any) -> DeviceStatusChange | None:
    """The event's report; None (logged, counted) when it is not a well-formed device event."""
    try:
        parsed = _DeviceEvent.model_validate(event)
    except ValidationError as error:
        logger.error(
            "malformed Greengrass device event ignored", problem=describe(error, whole="event")[:500]
        )
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        return None
    return DeviceStatusChange(
        deployment_id=parsed.detail.deployment_id,
        core_device_arn=parsed.resources[0] if parsed.resources else None,
        execution_status=parsed.detail.execution_status,
    )
