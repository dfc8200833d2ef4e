"""The DynamoDB item format of a tracked deployment, in both directions. Pure: no client here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import ValidationError

from ggwatch.domain.models import (
    DeploymentKind,
    ErrorDetail,
    Metrics,
    Observation,
    PendingTransition,
    TrackedDeployment,
)
from ggwatch.exceptions import CorruptItemError

DEPLOYMENT_PREFIX = "DEPLOYMENT#"
POLLER_PREFIX = "POLLER#"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def deployment_key(kind: DeploymentKind, deployment_id: str) -> str:
    return f"{DEPLOYMENT_PREFIX}{kind.value}#{deployment_id}"


def to_attribute_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB's typed attribute values."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def observation_attributes(observation: Observation) -> dict[str, Any]:
    """What an observation sets on the item (None values are removed from the item instead)."""
    return {
        "status": observation.status,
        "metrics": {
            "recordsProcessed": observation.metrics.records_processed,
            "invalidInputRecords": observation.metrics.invalid_input_records,
            "retryAttempts": observation.metrics.retry_attempts,
        },
        "errorMessage": observation.error_message,
        "errorDetails": [{"code": d.code, "message": d.message} for d in observation.error_details],
        "createdAt": observation.created_at,
        "tags": dict(observation.tags),
    }


def pending_attribute(pending: PendingTransition) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "transitionId": pending.transition_id,
        "message": pending.message,
        "claimedAt": pending.claimed_at.isoformat(),
        "released": pending.released,
    }
    if pending.observation is not None:
        observed = observation_attributes(pending.observation)
        observed["deploymentArn"] = pending.observation.deployment_arn
        attribute["observation"] = {name: value for name, value in observed.items() if value is not None}
    return attribute


def tracked_deployment(item: Mapping[str, Any]) -> TrackedDeployment:
    """Read an item back; a garbled item raises CorruptItemError saying which attribute is wrong."""
    values = from_item(item)
    try:
        kind = DeploymentKind(values["deploymentKind"])
        pending = values.get("pending")
        return TrackedDeployment(
            kind=kind,
            deployment_id=values["deploymentId"],
            version=int(values["version"]),
            active="activeKind" in values,
            tracked_at=datetime.fromisoformat(values["trackedAt"]),
            tracked_by=values.get("trackedBy", "manual"),
            status=values.get("status"),
            **_facts(values),
            last_changed_at=_optional_time(values.get("lastChangedAt")),
            last_transition_id=values.get("lastTransitionId"),
            pending=PendingTransition(
                transition_id=pending["transitionId"],
                message=pending["message"],
                observation=Observation(
                    kind=kind,
                    deployment_id=values["deploymentId"],
                    status=pending["observation"]["status"],
                    **_facts(pending["observation"]),
                )
                if "observation" in pending
                else None,
                claimed_at=datetime.fromisoformat(pending["claimedAt"]),
                released=bool(pending.get("released", False)),
            )
            if pending
            else None,
        )
    except KeyError as error:
        raise CorruptItemError(f"item {values.get('pk')!r} lacks attribute {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        problem = f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
        raise CorruptItemError(f"item {values.get('pk')!r} is garbled: {problem}") from None
    except (ValueError, TypeError, AttributeError) as error:
        problem = str(error) or type(error).__name__
        raise CorruptItemError(f"item {values.get('pk')!r} is garbled: {problem}") from None


def _facts(values: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes that the stored state and a claim's observation share (see observation_attributes)."""
    metrics = values.get("metrics") or {}
    return {
        "metrics": Metrics(
            records_processed=int(metrics.get("recordsProcessed", 0)),
            invalid_input_records=int(metrics.get("invalidInputRecords", 0)),
            retry_attempts=int(metrics.get("retryAttempts", 0)),
        ),
        "error_message": values.get("errorMessage"),
        "error_details": tuple(
            ErrorDetail(code=d.get("code"), message=d.get("message"))
            for d in values.get("errorDetails") or []
        ),
        "created_at": values.get("createdAt"),
        "deployment_arn": values.get("deploymentArn"),
        "tags": values.get("tags") or {},
    }


def _optional_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
