"""A finished Greengrass V1 bulk deployment's group deployments, as the notification's `results`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ggwatch.adapters.source_errors import source_errors
from ggwatch.domain import results
from ggwatch.domain.models import Results
from ggwatch.exceptions import SourceUnavailableError
from ggwatch.observability import count

if TYPE_CHECKING:
    from mypy_boto3_greengrass import GreengrassClient

OPERATION = "ListBulkDeploymentDetailedReports"


def read_results(client: GreengrassClient, deployment_id: str) -> Results:
    """Every page of ListBulkDeploymentDetailedReports, counted and bounded.

    Throttling is retried on the next run (SourceThrottledError, as for the status itself: the
    transition is claimed then, with its results). Any other failure must not hold back the terminal
    transition, which may never come back otherwise (a role without the grant fails forever): it is
    notified with `results.error` saying why the results are missing.
    """
    try:
        with source_errors("Greengrass", OPERATION):
            return results.from_group_reports(_reports(client, deployment_id))
    except SourceUnavailableError as error:  # not SourceThrottledError, which propagates
        count("ResultsUnavailable")
        return results.unavailable(f"{OPERATION} failed: {error}")


def _reports(client: GreengrassClient, deployment_id: str) -> Iterator[Mapping[str, Any]]:
    paginator = client.get_paginator("list_bulk_deployment_detailed_reports")
    for page in paginator.paginate(BulkDeploymentId=deployment_id):
        for report in page.get("Deployments") or []:
            if isinstance(report, Mapping):
                yield report
