"""Which transitions each webhook already got, so SNS redeliveries and Lambda retries post once.

One item per (transition, webhook): `pk = DELIVERY#<transitionId>#<webhookName>`. `begin` claims it
with a conditional put: as `sending` with a short lease, so that a crashed invocation's claim expires
before Lambda's first retry (at least a minute later); `mark_delivered` makes it permanent until the
TTL (`expiresAt`) removes it; `release` deletes a claim whose post failed, so the retry can post.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import boto3

from ggwatch.adapters.aws_errors import dynamodb_errors
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.exceptions import ConflictError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DELIVERY_PREFIX = "DELIVERY#"
SENDING = "sending"
DELIVERED = "delivered"
DEFAULT_LEASE_SECONDS = 60
"""Longer than one webhook post may take (RetryPolicy.max_total_seconds), shorter than the minute
Lambda waits before retrying an asynchronous invocation that failed or timed out."""


_CLAIMED = "the delivery record is already claimed or delivered"


def delivery_key(transition_id: str, webhook_name: str) -> str:
    return f"{DELIVERY_PREFIX}{transition_id}#{webhook_name}"


class DynamoDeliveryLedger:
    """De-duplication records in the deployments table."""

    def __init__(
        self,
        table_name: str,
        *,
        record_days: int,
        lease_seconds: int = DEFAULT_LEASE_SECONDS,
        client: DynamoDBClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._record_seconds = record_days * 86_400
        self._lease_seconds = lease_seconds
        self._client = client or boto3.client("dynamodb", config=API_CONFIG)
        self._clock = clock

    def begin(self, transition_id: str, webhook_name: str) -> bool:
        """Claim the right to post; False when it was delivered, or another invocation holds the claim."""
        now = int(self._clock())
        try:
            with dynamodb_errors(_CLAIMED):
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        "pk": {"S": delivery_key(transition_id, webhook_name)},
                        "state": {"S": SENDING},
                        "transitionId": {"S": transition_id},
                        "webhook": {"S": webhook_name},
                        "leaseUntil": {"N": str(now + self._lease_seconds)},
                        "expiresAt": {"N": str(now + self._record_seconds)},
                    },
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR expiresAt < :now OR (#state = :sending AND leaseUntil < :now)"
                    ),
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={":now": {"N": str(now)}, ":sending": {"S": SENDING}},
                )
        except ConflictError:
            return False
        return True

    def mark_delivered(self, transition_id: str, webhook_name: str) -> None:
        now = int(self._clock())
        with dynamodb_errors(_CLAIMED):
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": delivery_key(transition_id, webhook_name)}},
                UpdateExpression="SET #state = :delivered, deliveredAt = :now, expiresAt = :expires REMOVE leaseUntil",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":delivered": {"S": DELIVERED},
                    ":now": {"N": str(now)},
                    ":expires": {"N": str(now + self._record_seconds)},
                },
            )

    def release(self, transition_id: str, webhook_name: str) -> None:
        """Drop a claim after a failed post; a delivered record is never removed."""
        try:
            with dynamodb_errors(_CLAIMED):
                self._client.delete_item(
                    TableName=self._table,
                    Key={"pk": {"S": delivery_key(transition_id, webhook_name)}},
                    ConditionExpression="#state = :sending",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={":sending": {"S": SENDING}},
                )
        except ConflictError:
            return
