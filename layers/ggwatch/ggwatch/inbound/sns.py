"""Notifications out of an SNS event, record by record: one bad record never costs the others.

Powertools' SnsModel validates the whole event at once, and its SnsRecordModel requires every field of
the envelope (UnsubscribeUrl, EventSubscriptionArn, signature fields) although only `Sns.Message` is
read here: a record missing one would be dropped with its notification. So the envelope model below
asks for exactly what is read, and each record is parsed on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, ValidationError

from ggwatch.domain.notification import Notification
from ggwatch.observability import logger, metrics
from ggwatch.validation import describe


class _SnsMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Message: str


class _SnsRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Sns: _SnsMessage


def notifications(event: Any) -> Iterator[Notification | None]:
    """Each record's notification, or None (logged, counted) when no retry could ever parse it."""
    records = event.get("Records") if isinstance(event, dict) else None
    for index, record in enumerate(records if isinstance(records, list) else [event]):
        try:
            message = _SnsRecord.model_validate(record).Sns.Message
        except ValidationError:
            _malformed(index, "not an SNS record with a Message")
            yield None
            continue
        try:
            yield Notification.model_validate_json(message)
        except ValidationError as error:
            _malformed(index, describe(error, whole="body", say="type"))
            yield None


def _malformed(index: int, problem: str) -> None:
    logger.error("malformed notification skipped", extra={"record": index, "problem": problem[:500]})
    metrics.add_metric(name="MalformedNotifications", unit=MetricUnit.Count, value=1)
