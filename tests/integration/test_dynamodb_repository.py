"""What only the DynamoDB adapter has to do: read back items it did not write (garbled, older shapes).
The behaviour it shares with the in-memory fake is in test_repository_contract.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from ggwatch.adapters.dynamodb import ACTIVE_PAGE_SIZE, DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind
from tests.conftest import REGION

KIND = DeploymentKind.GREENGRASS_V1_BULK
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def repository(deployments_table: str) -> DynamoDeploymentRepository:
    return DynamoDeploymentRepository(deployments_table)


def test_a_claim_stored_before_claims_kept_their_facts_reads_back_without_them(
    repository: DynamoDeploymentRepository, deployments_table: str
) -> None:
    # Given an item holding a claim in the older shape (no observation), as an upgrade finds it
    repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=deployments_table,
        Key={"pk": {"S": "DEPLOYMENT#greengrass-v1-bulk#bd-1"}},
        UpdateExpression="SET pending = :pending",
        ExpressionAttributeValues={
            ":pending": {
                "M": {
                    "transitionId": {"S": "t1"},
                    "message": {"S": "{}"},
                    "claimedAt": {"S": NOW.isoformat()},
                }
            }
        },
    )
    # Then it is read, not reported garbled: the poller drops such a claim and observes afresh
    [entry] = list(repository.active(KIND))
    assert entry.deployment is not None and entry.deployment.pending is not None
    assert entry.deployment.pending.observation is None
    assert entry.deployment.pending.released is False


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


def test_active_deployments_are_read_a_page_at_a_time_as_the_caller_goes(
    repository: DynamoDeploymentRepository, deployments_table: str
) -> None:
    # Given more active deployments than one page holds
    client = boto3.client("dynamodb", region_name=REGION)
    for index in range(ACTIVE_PAGE_SIZE * 2 + 10):
        repository.track(KIND, f"bd-{index:04d}", tracked_by="manual", now=NOW)
    queries: list[int | None] = []
    client.meta.events.register(
        "before-parameter-build.dynamodb.Query", lambda params, **_: queries.append(params.get("Limit"))
    )
    reading = DynamoDeploymentRepository(deployments_table, client=client).active(KIND)
    # When the caller has taken the first item, one page was read; the next only when it is needed
    next(reading)
    assert queries == [ACTIVE_PAGE_SIZE]
    rest = list(reading)
    assert len(rest) == ACTIVE_PAGE_SIZE * 2 + 9
    assert queries == [ACTIVE_PAGE_SIZE] * 3
