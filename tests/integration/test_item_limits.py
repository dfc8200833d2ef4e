"""On moto's DynamoDB, which enforces the item size limit: error texts heavy in bytes still get through.

Capped in characters, 4-byte emoji made the claim (previous state plus new message) outgrow 400 KB, so
the second transition of such a deployment failed on every poll, forever.
"""

from __future__ import annotations

from datetime import UTC, datetime

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


def test_two_transitions_with_emoji_heavy_errors_are_both_claimed_stored_and_published(
    deployments_table: str,
) -> None:
    # Given a tracked deployment whose errors are 4-byte characters, near every cap
    repository = DynamoDeploymentRepository(deployments_table)
    repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    source, publisher = ScriptedSource(), RecordingPublisher()
    poller = Poller([Lane(repository, [source], publisher)], clock=lambda: NOW)
    source.set("bd-1", "Running", **HEAVY_ERRORS)
    first = poller.run()
    # When it changes status with the same errors (the claim then holds the stored errors and the message)
    source.set("bd-1", "Failed", **HEAVY_ERRORS)
    second = poller.run()
    # Then both transitions were published and stored, none failed
    assert [o.result for o in (*first.outcomes, *second.outcomes)] == ["notified", "notified"]
    assert [n.status for n in publisher.published] == ["Running", "Failed"]
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and stored.status == "Failed" and stored.pending is None
    assert publisher.published[1].error_details == stored.error_details


def test_a_terminal_transition_with_heavy_errors_and_results_is_claimed_stored_and_published(
    deployments_table: str,
) -> None:
    # Given a deployment stored with errors near every cap, that ends with them and with 40 failed
    # groups whose texts are megabytes of 4-byte characters
    repository = DynamoDeploymentRepository(deployments_table)
    repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    source, publisher = ScriptedSource(), RecordingPublisher()
    poller = Poller([Lane(repository, [source], publisher)], clock=lambda: NOW)
    source.set("bd-1", "Running", **HEAVY_ERRORS)
    poller.run()
    huge = "😀" * 250_000
    failures = tuple(
        ResultFailure(
            group_arn=huge, deployment_id=huge, message=huge, error_details=(ErrorDetail(message=huge),) * 9
        )
        for _ in range(40)
    )
    source.set("bd-1", "Failed", **HEAVY_ERRORS, results=Results(counts={"Failure": 40}, failures=failures))
    # When the poller sees it
    outcome = poller.run()
    # Then the claim (previous state, message with the results, observation) fit the item: published and stored
    assert [o.result for o in outcome.outcomes] == ["notified"]
    published = publisher.published[-1].results
    assert published is not None and published.truncated and 0 < len(published.failures) < 40
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and stored.status == "Failed" and stored.pending is None
