"""Tracked deployments in DynamoDB, with a version attribute for optimistic concurrency.

Every write that follows a read is conditional on the version read, so overlapping poller runs cannot
both claim or both store the same transition: the loser gets ConflictError and leaves the item alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3

from ggwatch.adapters.aws_errors import dynamodb_errors
from ggwatch.adapters.dynamodb_items import (
    DEPLOYMENT_PREFIX,
    active_partition,
    cursor_key,
    deployment_key,
    from_item,
    observation_attributes,
    pending_attribute,
    to_attribute_values,
    tracked_deployment,
)
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.domain.models import (
    DeploymentKind,
    Observation,
    PendingTransition,
    TrackedDeployment,
    is_terminal,
)
from ggwatch.exceptions import ConflictError, CorruptItemError
from ggwatch.ports import ActiveItem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateItemInputTypeDef

ACTIVE_INDEX = "active-index"
ACTIVE_PAGE_SIZE = 100
"""Items per Query of the active index: a run holds one page at a time (a few hundred KB at most),
and reading the next costs about one call's latency per hundred deployments polled."""


class DynamoDeploymentRepository:
    """Reads and writes `DEPLOYMENT#` items and the poller's `POLLER#` bookkeeping."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb", config=API_CONFIG)

    def active(
        self,
        kind: DeploymentKind,
        *,
        region: str | None = None,
        from_key: str | None = None,
        after_key: str | None = None,
        before_key: str | None = None,
    ) -> Iterator[ActiveItem]:
        """Query pages of ACTIVE_PAGE_SIZE items, each read only when the caller has gone through the
        one before: what a run holds is a page and what is in flight, however many are active."""
        lower, lower_key = (">", after_key) if after_key is not None else (">=", from_key)
        condition, values = "activeKind = :kind", {":kind": {"S": active_partition(kind, region)}}
        if lower_key is not None and before_key is not None:
            condition += " AND pk BETWEEN :lower AND :before"  # inclusive: the ends are dropped below
        elif lower_key is not None:
            condition += f" AND pk {lower} :lower"
        elif before_key is not None:
            condition += " AND pk < :before"
        values |= {":lower": {"S": lower_key}} if lower_key is not None else {}
        values |= {":before": {"S": before_key}} if before_key is not None else {}
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=ACTIVE_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            PaginationConfig={"PageSize": ACTIVE_PAGE_SIZE},
        )
        with dynamodb_errors():
            for page in pages:
                items = (_active_item(item) for item in page.get("Items", []))
                yield from (item for item in items if item.key not in (after_key, before_key))

    def all(self) -> Iterator[ActiveItem]:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": DEPLOYMENT_PREFIX}},
        )
        with dynamodb_errors():
            for page in pages:
                yield from (_active_item(item) for item in page.get("Items", []))

    def get(self, kind: DeploymentKind, deployment_id: str) -> TrackedDeployment | None:
        with dynamodb_errors():
            answer = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": deployment_key(kind, deployment_id)}},
                ConsistentRead=True,
            )
        item = answer.get("Item")
        return tracked_deployment(item) if item else None

    def track(
        self,
        kind: DeploymentKind,
        deployment_id: str,
        *,
        tracked_by: str,
        now: datetime,
        deployment_arn: str | None = None,
        region: str | None = None,
        discovered_status: str | None = None,
    ) -> bool:
        """Create the item, or re-activate one that was untracked before it finished."""
        values: dict[str, Any] = {
            ":kind": kind.value,
            ":id": deployment_id,
            ":active": active_partition(kind, region),
            ":now": now.isoformat(),
            ":by": tracked_by,
            ":zero": 0,
            ":one": 1,
        }
        arn_clause = ""
        if deployment_arn:
            values[":arn"] = deployment_arn
            arn_clause = ", deploymentArn = if_not_exists(deploymentArn, :arn)"
        if region:
            values[":region"] = region
            arn_clause += ", #region = if_not_exists(#region, :region)"
        if discovered_status:
            values[":discovered"] = discovered_status
            arn_clause += ", discoveredStatus = :discovered"
        written = self._update_if(
            deployment_key(kind, deployment_id),
            "SET deploymentKind = :kind, deploymentId = :id, activeKind = :active,"
            " trackedAt = if_not_exists(trackedAt, :now), trackedBy = if_not_exists(trackedBy, :by),"
            f" version = if_not_exists(version, :zero) + :one{arn_clause}"
            " REMOVE untrackedAt, expiresAt",
            "attribute_not_exists(pk) OR (attribute_exists(untrackedAt) AND attribute_not_exists(activeKind))",
            values,
            {"#region": "region"} if region else None,  # REGION is a DynamoDB reserved word
        )
        return written is not None

    def untrack(self, kind: DeploymentKind, deployment_id: str, *, now: datetime, expires_at: int) -> bool:
        """Stop polling; the item stays readable until its TTL."""
        written = self._update_if(
            deployment_key(kind, deployment_id),
            "SET untrackedAt = :now, expiresAt = :expires, version = version + :one REMOVE activeKind",
            "attribute_exists(activeKind)",
            {":now": now.isoformat(), ":expires": expires_at, ":one": 1},
        )
        return written is not None

    def claim(self, stored: TrackedDeployment, pending: PendingTransition) -> TrackedDeployment:
        return self._update_versioned(
            stored, "SET pending = :pending, version = :next", {":pending": pending_attribute(pending)}
        )

    def release(self, stored: TrackedDeployment) -> TrackedDeployment:
        return self._update_versioned(
            stored,
            "SET pending.released = :released, version = :next",
            {":released": True},
            condition="attribute_exists(pending)",
        )

    def commit(
        self,
        stored: TrackedDeployment,
        observation: Observation,
        *,
        now: datetime,
        expires_at: int | None,
        transition_id: str | None = None,
    ) -> TrackedDeployment:
        attributes = observation_attributes(observation)
        attributes["lastChangedAt"] = now.isoformat()
        if transition_id:
            attributes["lastTransitionId"] = transition_id
        if observation.deployment_arn:
            attributes["deploymentArn"] = observation.deployment_arn
        terminal = is_terminal(observation.status)
        if terminal and expires_at is not None:
            attributes["expiresAt"] = expires_at
        to_set = {name: value for name, value in attributes.items() if value is not None}
        to_remove = [name for name, value in attributes.items() if value is None] + ["pending"]
        if terminal:
            to_remove.append("activeKind")
        names = {f"#{name}": name for name in [*to_set, *to_remove]}
        expression = "SET " + ", ".join(f"#{name} = :{name}" for name in to_set) + ", version = :next"
        expression += " REMOVE " + ", ".join(f"#{name}" for name in to_remove)
        values = {f":{name}": value for name, value in to_set.items()}
        return self._update_versioned(stored, expression, values, names=names)

    def request_check(
        self, kind: DeploymentKind, deployment_id: str, *, now: datetime, window: timedelta
    ) -> TrackedDeployment | None:
        """`checkRequestedAt` (epoch milliseconds) is outside the versioned state: writing it never
        makes a poller run's claim or commit conflict."""
        now_ms = _epoch_ms(now)
        written = self._update_if(
            deployment_key(kind, deployment_id),
            "SET checkRequestedAt = :now",
            "attribute_exists(activeKind)"
            " AND (attribute_not_exists(checkRequestedAt) OR checkRequestedAt <= :due)",
            {":now": now_ms, ":due": now_ms - _epoch_ms_span(window)},
        )
        return tracked_deployment(written) if written is not None else None

    def relocate(self, kind: DeploymentKind, deployment_id: str, region: str) -> bool:
        written = self._update_if(
            deployment_key(kind, deployment_id),
            "SET activeKind = :regional",
            "activeKind = :own",  # still active, still in the stack's own partition
            {":regional": active_partition(kind, region), ":own": active_partition(kind, None)},
        )
        return written is not None

    def cursor(self, kind: DeploymentKind, region: str | None = None) -> str | None:
        with dynamodb_errors():
            answer = self._client.get_item(TableName=self._table, Key={"pk": {"S": cursor_key(kind, region)}})
        after = from_item(answer.get("Item", {})).get("nextKey")
        return after if isinstance(after, str) else None

    def set_cursor(self, kind: DeploymentKind, key: str | None, region: str | None = None) -> None:
        request: UpdateItemInputTypeDef = {
            "TableName": self._table,
            "Key": {"pk": {"S": cursor_key(kind, region)}},
            "UpdateExpression": "REMOVE nextKey",
        }
        if key is not None:
            request["UpdateExpression"] = "SET nextKey = :key"
            request["ExpressionAttributeValues"] = {":key": {"S": key}}
        with dynamodb_errors():
            self._client.update_item(**request)

    def _update_versioned(
        self,
        stored: TrackedDeployment,
        expression: str,
        values: Mapping[str, Any],
        *,
        names: Mapping[str, str] | None = None,
        condition: str | None = None,
    ) -> TrackedDeployment:
        """Write only if nobody else wrote since `stored` was read; the answer is the item as written."""
        all_values = {**values, ":expected": stored.version, ":next": stored.version + 1}
        written = self._update_if(
            deployment_key(stored.kind, stored.deployment_id),
            expression,
            " AND ".join(filter(None, ["version = :expected", condition])),
            all_values,
            names,
        )
        if written is None:
            raise ConflictError(f"{stored.deployment_id} changed since version {stored.version} was read")
        return tracked_deployment(written)

    def _update_if(
        self,
        key: str,
        expression: str,
        condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """One conditional UpdateItem: the item as written, or None when the condition did not hold."""
        request: UpdateItemInputTypeDef = {
            "TableName": self._table,
            "Key": {"pk": {"S": key}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_attribute_values(values),
            "ReturnValues": "ALL_NEW",
        }
        if names:
            request["ExpressionAttributeNames"] = dict(names)
        try:
            with dynamodb_errors():
                answer = self._client.update_item(**request)
        except ConflictError:
            return None
        return dict(answer.get("Attributes", {}))


def _active_item(item: Mapping[str, Any]) -> ActiveItem:
    key = str(item.get("pk", {}).get("S", "?"))
    try:
        return ActiveItem(key=key, deployment=tracked_deployment(item))
    except CorruptItemError as error:
        return ActiveItem(key=key, deployment=None, problem=str(error))


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _epoch_ms_span(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
