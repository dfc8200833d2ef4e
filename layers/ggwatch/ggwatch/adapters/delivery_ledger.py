"""Which transitions each webhook already got, so SNS redeliveries and Lambda retries post once.

One item per (transition, webhook): `pk = DELIVERY#<transitionId>#<webhookName>`. `begin` claims it
with a conditional put, as `sending` with a lease no longer than one webhook's worst case (the caller
says how long), so that a crashed invocation's claim has expired before Lambda's first retry, a minute
later; `mark_delivered` makes it permanent until the TTL (`expiresAt`) removes it; `release` deletes a
claim whose post failed, so the retry can post. A lost claim says why (the item is returned with the
failed condition), so a live claim of another invocation is never mistaken for a delivery.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from ggwatch.adapters.aws_errors import dynamodb_errors
from ggwatch.adapters.sdk_config import CallBudget
from ggwatch.exceptions import ConflictError
from ggwatch.ports import Claim

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DELIVERY_PREFIX = "DELIVERY#"
SENDING = "sending"
DELIVERED = "delivered"

LEDGER_BUDGET = CallBudget(attempts=2, connect_timeout_seconds=1, read_timeout_seconds=1)
"""Short and few: a delivery record is a single-item write that DynamoDB answers in milliseconds,
and each second a call may take is a second the notifier must keep in reserve before every webhook."""
LEDGER_CONFIG = LEDGER_BUDGET.config()
WORST_CASE_CALL_SECONDS: float = LEDGER_BUDGET.worst_case_ms / 1000
"""The longest one ledger call can take (every attempt times out, with the longest backoff between)."""


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
        client: DynamoDBClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._record_seconds = record_days * 86_400
        self._client = client or boto3.client("dynamodb", config=LEDGER_CONFIG)
        self._clock = clock

    @property
    def worst_case_call_seconds(self) -> float:
        return WORST_CASE_CALL_SECONDS

    def begin(self, transition_id: str, webhook_name: str, *, lease_seconds: float) -> Claim:
        """Claim the right to post for `lease_seconds`; or say it was delivered, or is being sent by
        another invocation whose claim is still live."""
        clock = self._clock()
        now = int(clock)
        try:
            with dynamodb_errors(_CLAIMED):
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        "pk": {"S": delivery_key(transition_id, webhook_name)},
                        "state": {"S": SENDING},
                        "transitionId": {"S": transition_id},
                        "webhook": {"S": webhook_name},
                        "leaseUntil": {"N": str(math.ceil(clock + lease_seconds))},
                        "expiresAt": {"N": str(now + self._record_seconds)},
                    },
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR expiresAt < :now OR (#state = :sending AND leaseUntil < :now)"
                    ),
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={":now": {"N": str(now)}, ":sending": {"S": SENDING}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ConflictError as conflict:
            return _holder(conflict.__cause__)
        return "claimed"

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


def _holder(cause: BaseException | None) -> Claim:
    """Why the claim was lost, from the item DynamoDB returned with the failed condition. Without
    it (deleted in between), it is treated as in flight: the invocation fails and is retried."""
    if not isinstance(cause, ClientError):
        return "sending"
    item: Mapping[str, Any] = cause.response.get("Item") or {}  # type: ignore[assignment]
    return "delivered" if item.get("state") == {"S": DELIVERED} else "sending"
