"""The DynamoDB item format of a tracked deployment, in both directions. Pure: no client here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from ggwatch.domain.models import (
    OBSERVED_FACTS,
    DeploymentKind,
    Observation,
    Pace,
    PendingTransition,
    TrackedDeployment,
)
from ggwatch.domain.sizes import utf8_size
from ggwatch.exceptions import CorruptItemError
from ggwatch.validation import describe

DEPLOYMENT_PREFIX = "DEPLOYMENT#"
POLLER_PREFIX = "POLLER#"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def active_partition(kind: DeploymentKind, region: str | None) -> str:
    """An active deployment's partition of the active index (its activeKind): one per kind and region,
    so a run reads exactly the deployments of the region it polls. The stack's own region (None) keeps
    the kind alone, as every deployment had before regions had partitions of their own."""
    return kind.value if region is None else f"{kind.value}#{region}"


def deployment_key(kind: DeploymentKind, deployment_id: str) -> str:
    return f"{DEPLOYMENT_PREFIX}{kind.value}#{deployment_id}"


def cursor_key(kind: DeploymentKind, region: str | None) -> str:
    """A run's cursor: the scheduled run's keeps the key it always had; a region run's has its region."""
    return f"{POLLER_PREFIX}cursor#{kind.value}" + (f"#{region}" if region else "")


def to_attribute_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB's typed attribute values."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


_OBSERVED_FIELDS = ("status", *OBSERVED_FACTS)
"""What an observation sets on the item; each is stored under its camelCase name."""

_STORED_FIELDS = (*_OBSERVED_FIELDS, "deployment_arn", "last_transition_id")

_CAMEL = {name: to_camel(name) for name in _STORED_FIELDS}
"""Each stored field's item attribute name, worked out once: every item the poller reads needs them."""


def observation_attributes(observation: Observation) -> dict[str, Any]:
    """What an observation sets on the item (None values are removed from the item instead)."""
    values = observation.model_dump(include=set(_OBSERVED_FIELDS))
    values["error_details"] = [
        # camelCase like the notification; a V1 error names no device, and its item stays as it was
        d.model_dump(by_alias=True, exclude={"thing_name"} if d.thing_name is None else None)
        for d in observation.error_details
    ]
    values["pace"] = pace_attribute(observation.pace)
    return {_CAMEL[name]: values[name] for name in _OBSERVED_FIELDS}


def pace_attribute(pace: Pace | None) -> dict[str, Any] | None:
    """The stuck and progress bookkeeping as a map: ISO times, camelCase names, nulls left out."""
    return None if pace is None else pace.model_dump(mode="json", by_alias=True, exclude_none=True)


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
    where = f"item {values.get('pk')!r}"
    missing = [
        name for name in ("deploymentKind", "deploymentId", "version", "trackedAt") if name not in values
    ]
    if missing:
        raise CorruptItemError(f"{where} lacks attribute {missing[0]!r}")
    stored = _present(values, _STORED_FIELDS)
    pending = values.get("pending")
    try:
        return TrackedDeployment.model_validate(
            {
                **stored,
                "kind": values["deploymentKind"],
                "deployment_id": values["deploymentId"],
                "version": values["version"],
                "active": "activeKind" in values,
                "tracked_at": values["trackedAt"],
                "tracked_by": values.get("trackedBy", "manual"),
                "region": values.get("region") or None,
                "discovered_status": values.get("discoveredStatus") or None,
                "last_changed_at": values.get("lastChangedAt") or None,
                "pending": _pending(pending, values) if pending else None,
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "missing" and first["loc"][:1] == ("pending",):
            raise CorruptItemError(f"{where} lacks attribute {'.'.join(map(str, first['loc']))}") from None
        raise CorruptItemError(f"{where} is garbled: {describe(error, first_only=True)}") from None


def _pending(value: Any, values: Mapping[str, Any]) -> Any:
    """The stored claim, as PendingTransition's fields (anything else is left for validation to reject).

    A claim stored before claims kept their observation reads with none (the poller drops it)."""
    if not isinstance(value, Mapping):
        return value
    names = {
        "transitionId": "transition_id",
        "message": "message",
        "claimedAt": "claimed_at",
        "released": "released",
    }
    pending = {field: value[name] for name, field in names.items() if name in value}
    observed = value.get("observation")
    pending["observation"] = (
        {
            **_present(observed, (*_OBSERVED_FIELDS, "deployment_arn")),
            "kind": values.get("deploymentKind"),
            "deployment_id": values.get("deploymentId"),
        }
        if isinstance(observed, Mapping)
        else observed
    )
    return pending


def _present(values: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields stored under their camelCase names, leaving out those absent or null."""
    return {name: values[_CAMEL[name]] for name in fields if values.get(_CAMEL[name]) is not None}


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it against its 400 KB limit, from typed attribute values.

    Names and strings count their UTF-8 bytes; a list or map 3 bytes plus 1 per element; a number is
    counted by its digits, which never undercounts DynamoDB's one byte per two significant digits.
    """
    return sum(utf8_size(name) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return utf8_size(inner)
    if kind == "N":
        return len(inner) + 1
    if kind == "B":
        return len(inner)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: element}) for element in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + utf8_size(name) + _value_size(element) for name, element in inner.items())
    return 1  # BOOL, NULL
