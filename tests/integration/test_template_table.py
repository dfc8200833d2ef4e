"""The table built from template.yaml behaves as the design needs: a sparse active index, TTL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from ggwatch_local.template import (
    create_table_from_template,
    dynamodb_table_definition,
    load_template,
    ttl_attribute,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "us-east-1"
TABLE = "ggwatch-template-test"


@pytest.fixture
def dynamodb() -> Iterator[DynamoDBClient]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def put(client: DynamoDBClient, pk: str, **attributes: str) -> None:
    item: dict[str, Any] = {"pk": {"S": pk}} | {name: {"S": value} for name, value in attributes.items()}
    client.put_item(TableName=TABLE, Item=item)


def test_the_active_index_returns_only_active_deployments_in_key_order(dynamodb: DynamoDBClient) -> None:
    # Given a table created from the template's definition
    template = load_template()
    dynamodb.create_table(TableName=TABLE, **dynamodb_table_definition(template))
    # and active, finished and non-deployment items
    put(dynamodb, "DEPLOYMENT#b", activeKind="greengrass-v1-bulk", status="Running")
    put(dynamodb, "DEPLOYMENT#a", activeKind="greengrass-v1-bulk", status="Initializing")
    put(dynamodb, "DEPLOYMENT#c", status="Completed")
    put(dynamodb, "POLLER#cursor", position="DEPLOYMENT#a")
    put(dynamodb, "DELIVERY#t1", channel="slack")

    # When the poller queries the active index for one kind
    response = dynamodb.query(
        TableName=TABLE,
        IndexName="active-index",
        KeyConditionExpression="activeKind = :kind AND pk > :after",
        ExpressionAttributeValues={":kind": {"S": "greengrass-v1-bulk"}, ":after": {"S": "DEPLOYMENT#"}},
    )

    # Then only the active deployments come back, whole (projection ALL), ordered by pk
    items = response["Items"]
    assert [item["pk"]["S"] for item in items] == ["DEPLOYMENT#a", "DEPLOYMENT#b"]
    assert items[1]["status"] == {"S": "Running"}


def test_a_deployment_leaves_the_index_when_it_loses_active_kind(dynamodb: DynamoDBClient) -> None:
    # Given an active deployment in a table created from the template
    create_table_from_template(dynamodb, TABLE)
    put(dynamodb, "DEPLOYMENT#a", activeKind="greengrass-v1-bulk", status="Running")

    # When it reaches a terminal status and the poller removes activeKind
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "DEPLOYMENT#a"}},
        UpdateExpression="SET #s = :s REMOVE activeKind",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "Completed"}},
    )

    # Then the index no longer returns it
    response = dynamodb.query(
        TableName=TABLE,
        IndexName="active-index",
        KeyConditionExpression="activeKind = :kind",
        ExpressionAttributeValues={":kind": {"S": "greengrass-v1-bulk"}},
    )
    assert response["Items"] == []


def test_the_table_created_from_the_template_has_ttl_and_on_demand_billing(dynamodb: DynamoDBClient) -> None:
    # When the local stack's helper creates the table
    name = create_table_from_template(dynamodb, TABLE)

    # Then it is on demand and TTL is enabled on the template's attribute
    assert name == TABLE
    description = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == ttl_attribute(load_template()) == "expiresAt"
