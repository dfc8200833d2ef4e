"""Greengrass V2 deployments as a deployment source: the adapter's snapshot in ggwatch's own words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import ValidationError

from ggwatch.adapters.greengrass_v2 import (
    MAX_FAILED_DEVICES,
    GreengrassV2Deployments,
    V2DeploymentSnapshot,
)
from ggwatch.domain.arns import v2_deployment_arn
from ggwatch.domain.fleet_rules import failure_summary
from ggwatch.domain.models import DeploymentKind, ErrorDetail, Metrics, Observation
from ggwatch.domain.transitions import iso
from ggwatch.exceptions import SourceUnavailableError
from ggwatch.ports import Deadline, DeploymentSummary
from ggwatch.validation import describe


class GreengrassV2Source:
    """Asks GetDeployment and the IoT job behind it (through GreengrassV2Deployments)."""

    def __init__(self, deployments: GreengrassV2Deployments | None = None) -> None:
        self._deployments = deployments or GreengrassV2Deployments()

    @property
    def kind(self) -> DeploymentKind:
        return DeploymentKind.GREENGRASS_V2

    @property
    def region(self) -> str | None:
        return self._deployments.region

    def get_status(self, deployment_id: str, deadline: Deadline | None = None) -> Observation:
        return observation_from_snapshot(self._deployments.snapshot(deployment_id, deadline))

    def list_deployments(self) -> Iterator[DeploymentSummary]:
        """The latest revision for every target, as ListDeployments orders them."""
        for entry in self._deployments.list_deployments():
            yield DeploymentSummary(
                kind=self.kind,
                deployment_id=entry.deployment_id,
                deployment_arn=v2_deployment_arn(entry.target_arn, entry.deployment_id),
                created_at=iso_timestamp(entry.created_at),
            )


def observation_from_snapshot(snapshot: V2DeploymentSnapshot) -> Observation:
    """The observation of a snapshot: device counts as metrics (zeros before the job exists), the
    newest failed devices as error details and a summary of them as the error message."""
    kind = DeploymentKind.GREENGRASS_V2
    metrics = Metrics(snapshot.counts.as_metrics()) if snapshot.counts else Metrics.zero(kind)
    failed = tuple(
        ErrorDetail(code=d.code, message=d.message, thing_name=d.thing_name)
        for d in snapshot.failed_devices[:MAX_FAILED_DEVICES]
    )
    try:
        return Observation(
            kind=kind,
            deployment_id=snapshot.deployment_id,
            status=snapshot.deployment_status,
            metrics=metrics,
            error_message=failure_summary(metrics, failed),
            error_details=failed,
            created_at=iso_timestamp(snapshot.created_at),
            deployment_arn=snapshot.deployment_arn,
            tags=dict(snapshot.tags),
            deployment_name=snapshot.deployment_name,
            target_arn=snapshot.target_arn,
            revision_id=snapshot.revision_id,
            job_id=snapshot.iot_job_id,
        )
    except ValidationError as error:
        raise SourceUnavailableError(
            f"GetDeployment for {snapshot.deployment_id} returned a garbled answer: {describe(error)}"
        ) from None


def iso_timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, as Greengrass V1 writes CreatedAt (2026-11-28T12:00:00.000Z)."""
    return None if moment is None else iso(moment, timespec="milliseconds")
