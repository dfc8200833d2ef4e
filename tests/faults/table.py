"""The deployments table as the tests read and write it: plain Python items by deployment id.

Tests judge what the poller stored (and plant items it never wrote), so they need the items without
DynamoDB's type wrapping, read consistently, and many at a time for the soak's hundreds of deployments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

KIND = "greengrass-v1-bulk"
_deserializer = TypeDeserializer()


class Table:
    def __init__(self, aws: boto3.session.Session, name: str) -> None:
        self.name = name
        self._dynamodb = aws.client("dynamodb")
        self.kinds: dict[str, str] = {}
        """Deployments of another kind than KIND (Greengrass V2 ones), by id."""

    def item(self, deployment_id: str) -> dict[str, Any]:
        answer = self._dynamodb.get_item(
            TableName=self.name, Key={"pk": {"S": self._key(deployment_id)}}, ConsistentRead=True
        )
        return _plain(answer.get("Item", {}))

    def items(self, deployment_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored items by deployment id ({} for none), read in batches."""
        ids = list(deployment_ids)
        found: dict[str, dict[str, Any]] = {d: {} for d in ids}
        for start in range(0, len(ids), 100):
            keys: list[Any] = [{"pk": {"S": self._key(d)}} for d in ids[start : start + 100]]
            request: Any = {self.name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                answer = self._dynamodb.batch_get_item(RequestItems=request)
                for raw in answer["Responses"].get(self.name, []):
                    item = _plain(raw)
                    found[str(item["deploymentId"])] = item
                request = answer.get("UnprocessedKeys") or None
        return found

    def put(self, item: Mapping[str, Any]) -> None:
        self._dynamodb.put_item(TableName=self.name, Item=dict(item))

    def _key(self, deployment_id: str) -> str:
        return f"DEPLOYMENT#{self.kinds.get(deployment_id, KIND)}#{deployment_id}"


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
