"""The DynamoDB adapter on moto: conditional writes, re-tracking, the cursor, garbled items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind, Observation, PendingTransition
from ggwatch.exceptions import ConflictError
from tests.conftest import REGION

KIND = DeploymentKind.GREENGRASS_V1_BULK
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def repository(deployments_table: str) -> DynamoDeploymentRepository:
    return DynamoDeploymentRepository(deployments_table)


def observation(status: str) -> Observation:
    return Observation(kind=KIND, deployment_id="bd-1", status=status)


def test_track_is_idempotent_and_keeps_the_arn(repository: DynamoDeploymentRepository) -> None:
    assert repository.track(KIND, "bd-1", tracked_by="cloudtrail", now=NOW, deployment_arn="arn:1")
    assert not repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    assert (stored.version, stored.tracked_by, stored.deployment_arn, stored.active) == (
        1,
        "cloudtrail",
        "arn:1",
        True,
    )


def test_untracked_deployment_can_be_tracked_again_but_a_finished_one_is_not_revived(
    repository: DynamoDeploymentRepository,
) -> None:
    repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    assert repository.untrack(KIND, "bd-1", now=NOW, expires_at=1)
    assert [i.key for i in repository.active(KIND)] == []
    assert repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and stored.active
    repository.commit(stored, observation("Completed"), now=NOW, expires_at=99)
    assert not repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)


def test_claim_and_commit_conflict_when_the_item_moved_on(repository: DynamoDeploymentRepository) -> None:
    repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    pending = PendingTransition(transition_id="t1", message="{}", claimed_at=NOW)
    claimed = repository.claim(stored, pending)
    with pytest.raises(ConflictError):
        repository.claim(stored, pending)
    with pytest.raises(ConflictError):
        repository.commit(stored, observation("Running"), now=NOW, expires_at=None)
    committed = repository.commit(
        claimed, observation("Running"), now=NOW, expires_at=None, transition_id="t1"
    )
    assert repository.get(KIND, "bd-1") == committed
    assert committed.pending is None and committed.last_transition_id == "t1"


def test_terminal_commit_leaves_the_active_index_and_sets_the_ttl(
    repository: DynamoDeploymentRepository, deployments_table: str
) -> None:
    repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    repository.commit(stored, observation("Failed"), now=NOW, expires_at=1_900_000_000)
    assert list(repository.active(KIND)) == []
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=deployments_table, Key={"pk": {"S": "DEPLOYMENT#greengrass-v1-bulk#bd-1"}}
    )["Item"]
    assert item["expiresAt"] == {"N": "1900000000"}
    assert "activeKind" not in item


def test_cursor_is_stored_and_cleared(repository: DynamoDeploymentRepository) -> None:
    assert repository.cursor(KIND) is None
    repository.set_cursor(KIND, "DEPLOYMENT#x")
    assert repository.cursor(KIND) == "DEPLOYMENT#x"
    repository.set_cursor(KIND, None)
    assert repository.cursor(KIND) is None


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({}, "lacks attribute"),
        ({"deploymentKind": {"S": "greengrass-v9"}}, "garbled"),
        ({"version": {"S": "x"}}, "garbled"),
        ({"trackedAt": {"S": "yesterday"}}, "garbled"),
        ({"metrics": {"S": "lots"}}, "garbled"),
        ({"pending": {"M": {"transitionId": {"S": "t"}}}}, "lacks attribute"),
    ],
)
def test_garbled_items_are_reported_not_raised(
    repository: DynamoDeploymentRepository,
    deployments_table: str,
    attributes: dict[str, object],
    problem: str,
) -> None:
    item: dict[str, Any] = {
        "pk": {"S": "DEPLOYMENT#greengrass-v1-bulk#bad"},
        "activeKind": {"S": KIND.value},
        "deploymentKind": {"S": KIND.value},
        "deploymentId": {"S": "bad"},
        "version": {"N": "1"},
        "trackedAt": {"S": NOW.isoformat()},
    }
    if attributes:
        item.update(attributes)
    else:
        del item["deploymentId"]
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=deployments_table, Item=item)
    [entry] = list(repository.active(KIND))
    assert entry.deployment is None
    assert entry.problem is not None and problem in entry.problem
