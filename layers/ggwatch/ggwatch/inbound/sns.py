"""Notifications out of an SNS event, record by record: one bad record never costs the others.

Powertools' SnsModel validates the whole event at once, and its SnsRecordModel requires every field of
the envelope (UnsubscribeUrl, EventSubscriptionArn, signature fields) although only `Sns.Message` is
read here: a record missing one would be dropped with its notification. So the envelope model below
asks for exactly what is read, and each record is parsed on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, ValidationError

from ggwatch.domain.notification import SCHEMA_VERSION, Notification
from ggwatch.exceptions import UnknownSchemaError
from ggwatch.observability import logger, metrics
from ggwatch.validation import describe


class _SnsMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Message: str


class _SnsRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Sns: _SnsMessage


def notifications(event: Any) -> Iterator[Notification | UnknownSchemaError | None]:
    """Each record's notification; None (logged, counted) when no retry could ever parse it; an
    UnknownSchemaError (logged, counted) when its schemaVersion is not SCHEMA_VERSION."""
    records = event.get("Records") if isinstance(event, dict) else None
    for index, record in enumerate(records if isinstance(records, list) else [event]):
        try:
            message = _SnsRecord.model_validate(record).Sns.Message
        except ValidationError:
            _malformed(index, "not an SNS record with a Message")
            yield None
            continue
        notification, problem = _parsed(message)
        if notification is not None and _declares_known_schema(notification):
            yield notification  # the common case: the body is parsed once
            continue
        version = _schema_version(message)  # a body that did not pass: say which way it failed
        if problem is None or (version is not _NO_OBJECT and version != SCHEMA_VERSION):
            yield _unknown_schema(index, version)
            continue
        _malformed(index, describe(problem, whole="body", say="type"))
        yield None


def _parsed(message: str) -> tuple[Notification | None, ValidationError | None]:
    try:
        return Notification.model_validate_json(message), None
    except ValidationError as error:
        return None, error


def _declares_known_schema(notification: Notification) -> bool:
    """A body without schemaVersion validates with the default; it must still say it explicitly."""
    return "schema_version" in notification.model_fields_set and notification.schema_version == SCHEMA_VERSION


def _schema_version(message: str) -> object:
    """The body's schemaVersion (`_MISSING` when it has none); `_NO_OBJECT` when the body is no JSON
    object, which validation then reports as malformed."""
    try:
        body = json.loads(message)
    except ValueError:
        return _NO_OBJECT
    return body.get("schemaVersion", _MISSING) if isinstance(body, dict) else _NO_OBJECT


_MISSING = "(missing)"
_NO_OBJECT = object()


def _unknown_schema(index: int, version: object) -> UnknownSchemaError:
    shown = version if isinstance(version, str) and len(version) <= 20 else type(version).__name__
    logger.error(
        "notification of an unknown schema version rejected",
        extra={"record": index, "schema_version": shown, "known": SCHEMA_VERSION},
    )
    metrics.add_metric(name="UnknownSchemaVersions", unit=MetricUnit.Count, value=1)
    return UnknownSchemaError(
        f"record {index}: schemaVersion {shown!r} is not the one this notifier knows ({SCHEMA_VERSION!r})"
    )


def _malformed(index: int, problem: str) -> None:
    logger.error("malformed notification skipped", extra={"record": index, "problem": problem[:500]})
    metrics.add_metric(name="MalformedNotifications", unit=MetricUnit.Count, value=1)
