"""On moto's DynamoDB, which enforces the item size limit: error texts heavy in bytes still get through.

Capped in characters, 4-byte emoji made the claim (previous state plus new message) outgrow 400 KB, so
the second transition of such a deployment failed on every poll, forever.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind, ErrorDetail, ResultFailure, Results
from ggwatch.services.lanes import Lane
from ggwatch.services.poller import Poller
from tests.fakes import RecordingPublisher, ScriptedSource

KIND = DeploymentKind.GREENGRASS_V1_BULK
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HEAVY_ERRORS = {
    "error_message": "😀" * 10_000,
    "error_details": tuple(ErrorDetail(code="E", message="😀" * 1_500) for _ in range(60)),
}


_HUGE = "😀" * 250_000
HEAVY_RESULTS = Results(
    counts={"Failure": 40},
    failures=tuple(
        ResultFailure(group_arn=_HUGE, message=_HUGE, error_details=(ErrorDetail(message=_HUGE),) * 9)
        for _ in range(40)
    ),
)
"""A finished deployment's 40 failed groups, each text megabytes of 4-byte characters."""


@pytest.mark.parametrize("results", [None, HEAVY_RESULTS], ids=["errors", "errors-and-results"])
def test_two_transitions_with_emoji_heavy_errors_are_both_claimed_stored_and_published(
    deployments_table: str, results: Results | None
) -> None:
    # Given a tracked deployment whose errors are 4-byte characters, near every cap
    repository = DynamoDeploymentRepository(deployments_table)
    repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    source, publisher = ScriptedSource(), RecordingPublisher()
    poller = Poller([Lane(repository, [source], publisher)], clock=lambda: NOW)
    source.set("bd-1", "Running", **HEAVY_ERRORS)
    first = poller.run()
    # When it changes status with the same errors (the claim then holds the stored errors and the message)
    source.set("bd-1", "Failed", **HEAVY_ERRORS, results=results)
    second = poller.run()
    # Then both transitions were published and stored, none failed
    assert [o.result for o in (*first.outcomes, *second.outcomes)] == ["notified", "notified"]
    assert [n.status for n in publisher.published] == ["Running", "Failed"]
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and stored.status == "Failed" and stored.pending is None
    assert publisher.published[1].error_details == stored.error_details
    # And heavy results were cut to their bound, saying so
    published = publisher.published[1].results
    assert results is None or (published is not None and published.truncated and published.failures)
