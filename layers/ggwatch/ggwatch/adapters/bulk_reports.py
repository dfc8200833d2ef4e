"""A finished Greengrass V1 bulk deployment's group deployments, as the notification's `results`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ggwatch.adapters.call_gate import allowed
from ggwatch.adapters.source_errors import source_errors
from ggwatch.domain import results
from ggwatch.domain.models import Results
from ggwatch.exceptions import SourceUnavailableError
from ggwatch.observability import count

if TYPE_CHECKING:
    from mypy_boto3_greengrass import GreengrassClient

    from ggwatch.ports import Deadline

OPERATION = "ListBulkDeploymentDetailedReports"


def read_results(client: GreengrassClient, deployment_id: str, deadline: Deadline | None = None) -> Results:
    """Every page of ListBulkDeploymentDetailedReports, counted and bounded; each page only while
    `deadline` allows (else DeadlineReachedError, or, for a partial answer, results saying why none).

    Throttling is retried on the next run (SourceThrottledError, as for the status itself: the
    transition is claimed then, with its results). Any other failure must not hold back the terminal
    transition, which may never come back otherwise (a role without the grant fails forever): it is
    notified with `results.error` saying why the results are missing.
    """
    try:
        with source_errors("Greengrass", OPERATION):
            return results.from_group_reports(_reports(client, deployment_id, deadline))
    except SourceUnavailableError as error:  # not SourceThrottledError, which propagates
        count("ResultsUnavailable")
        return results.unavailable(f"{OPERATION} failed: {error}")
    except _OutOfTime:
        count("ResultsUnavailable")
        return results.unavailable(f"{OPERATION} not read: the poll ran out of time")


class _OutOfTime(Exception):
    """A partial answer's deadline stopped the pages: some reports are unread, so none are counted."""


def _reports(
    client: GreengrassClient, deployment_id: str, deadline: Deadline | None
) -> Iterator[Mapping[str, Any]]:
    token: str | None = None
    while True:
        if not allowed(deadline, OPERATION):
            raise _OutOfTime
        page = client.list_bulk_deployment_detailed_reports(
            BulkDeploymentId=deployment_id, **({"NextToken": token} if token else {})
        )
        for report in page.get("Deployments") or []:
            if isinstance(report, Mapping):
                yield report
        next_token = page.get("NextToken")
        if not isinstance(next_token, str) or not next_token:
            return
        token = next_token
