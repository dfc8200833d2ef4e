"""Greengrass V1 bulk deployments as a deployment source."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import ValidationError

from ggwatch.adapters.bulk_reports import read_results
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.adapters.source_errors import source_errors
from ggwatch.domain.models import (
    INVALID_INPUT_RECORDS,
    RECORDS_PROCESSED,
    RETRY_ATTEMPTS,
    DeploymentKind,
    ErrorDetail,
    Metrics,
    Observation,
    is_terminal,
)
from ggwatch.exceptions import SourceUnavailableError
from ggwatch.ports import Deadline, DeploymentSummary
from ggwatch.validation import describe

if TYPE_CHECKING:
    from mypy_boto3_greengrass import GreengrassClient


class GreengrassV1BulkSource:
    """Asks GetBulkDeploymentStatus and ListBulkDeployments (and, once a deployment finished,
    ListBulkDeploymentDetailedReports), and speaks ggwatch's errors."""

    def __init__(self, client: GreengrassClient | None = None, *, results: bool = True) -> None:
        """`results=False`: a terminal status without its group reports (the CLI's look-ups, which
        notify nothing, need neither the calls nor the grant)."""
        self._client = client or boto3.client("greengrass", config=API_CONFIG)
        self._results = results

    @property
    def kind(self) -> DeploymentKind:
        return DeploymentKind.GREENGRASS_V1_BULK

    @property
    def region(self) -> str | None:
        return self._client.meta.region_name

    def get_status(self, deployment_id: str, deadline: Deadline | None = None) -> Observation:
        # Greengrass V1 answers an unknown ID with BadRequestException.
        with source_errors("Greengrass", "GetBulkDeploymentStatus", not_found={"BadRequestException"}):
            answer = self._client.get_bulk_deployment_status(BulkDeploymentId=deployment_id)
        observation = observation_from_answer(deployment_id, answer)
        if not self._results or not is_terminal(observation.status):
            return observation
        # Finished: its group deployments say what it did (read once: a terminal one is not polled again).
        return observation.model_copy(update={"results": read_results(self._client, deployment_id, deadline)})

    def list_deployments(self) -> Iterator[DeploymentSummary]:
        with source_errors("Greengrass", "ListBulkDeployments"):
            for page in self._client.get_paginator("list_bulk_deployments").paginate():
                for entry in page.get("BulkDeployments", []):
                    if "BulkDeploymentId" in entry:
                        yield DeploymentSummary(
                            kind=self.kind,
                            deployment_id=entry["BulkDeploymentId"],
                            deployment_arn=entry.get("BulkDeploymentArn"),
                            created_at=entry.get("CreatedAt"),
                        )


_COUNTERS = {
    "RecordsProcessed": RECORDS_PROCESSED,
    "InvalidInputRecords": INVALID_INPUT_RECORDS,
    "RetryAttempts": RETRY_ATTEMPTS,
}
"""BulkDeploymentMetrics' keys, and the names the notification's `metrics` gives them."""


def observation_from_answer(deployment_id: str, answer: Mapping[str, Any]) -> Observation:
    """Translate a GetBulkDeploymentStatus answer; an answer without a status is a source failure."""
    status = answer.get("BulkDeploymentStatus")
    if not isinstance(status, str) or not status:
        raise SourceUnavailableError(f"GetBulkDeploymentStatus for {deployment_id} returned no status")
    metrics = answer.get("BulkDeploymentMetrics") or {}
    try:
        return Observation(
            kind=DeploymentKind.GREENGRASS_V1_BULK,
            deployment_id=deployment_id,
            status=status,
            metrics=Metrics({name: int(metrics.get(key) or 0) for key, name in _COUNTERS.items()}),
            error_message=answer.get("ErrorMessage") or None,
            error_details=tuple(
                ErrorDetail(code=d.get("DetailedErrorCode"), message=d.get("DetailedErrorMessage"))
                for d in answer.get("ErrorDetails") or []
            ),
            created_at=answer.get("CreatedAt"),
            tags=dict(answer.get("tags") or {}),
        )
    except ValidationError as error:
        raise SourceUnavailableError(
            f"GetBulkDeploymentStatus for {deployment_id} returned a garbled answer: {describe(error)}"
        ) from None
