"""Slack notifier Lambda: posts each notification published on the SNS topic to the Slack webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ggwatch.adapters.delivery_ledger import DynamoDeliveryLedger
from ggwatch.adapters.slack_webhook import SlackWebhookClient
from ggwatch.adapters.webhook_secret import SecretsManagerWebhooks
from ggwatch.domain.notification import SCHEMA_VERSION, Notification
from ggwatch.exceptions import DeliveryError
from ggwatch.observability import logger, metrics
from ggwatch.services.slack_delivery import SlackDelivery
from ggwatch.settings import SlackNotifierSettings


@cache
def slack_delivery() -> SlackDelivery:
    """Built on the first invocation (the cold start) and reused by every later one."""
    settings = SlackNotifierSettings.from_env()
    return SlackDelivery(
        SecretsManagerWebhooks(
            settings.SLACK_WEBHOOKS_SECRET_ARN, max_age_seconds=settings.SECRET_CACHE_SECONDS
        ),
        SlackWebhookClient(),
        DynamoDeliveryLedger(settings.TABLE_NAME, record_days=settings.DELIVERY_RECORD_DAYS),
    )


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, int]:
    service = slack_delivery()
    delivered = malformed = 0
    failures: list[str] = []
    for notification in _notifications(event):
        if notification is None:
            malformed += 1
            continue
        if isinstance(notification, UnknownSchemaError):
            failures.append(str(notification))
            continue
        try:
            service.deliver(notification, context.get_remaining_time_in_millis)
            delivered += 1
        except DeliveryError as error:
            failures.append(str(error))
    if failures:
        # Lambda retries the whole event, then sends it to the DLQ; delivery records keep accepted
        # webhooks from a second post.
        raise DeliveryError("; ".join(failures))
    return {"notifications": delivered, "malformed": malformed}


class UnknownSchemaError(DeliveryError):
    """A notification of a schema version this notifier does not know: never posted, and failed so
    that it ends in the DLQ, where an operator sees it (a forged or a newer producer's message)."""


def _notifications(event: Any) -> Iterator[Notification | UnknownSchemaError | None]:
    """Each record's notification; None (logged, counted) when no retry could ever parse it; an
    UnknownSchemaError (logged, counted) when its schemaVersion is not SCHEMA_VERSION."""
    records = event.get("Records") if isinstance(event, dict) else None
    for index, record in enumerate(records if isinstance(records, list) else [event]):
        sns = record.get("Sns") if isinstance(record, dict) else None
        message = sns.get("Message") if isinstance(sns, dict) else None
        if not isinstance(message, str):
            _malformed(index, "not an SNS record with a Message")
            yield None
            continue
        version = _schema_version(message)
        if version is not _NO_OBJECT and version != SCHEMA_VERSION:
            yield _unknown_schema(index, version)
            continue
        try:
            yield Notification.model_validate_json(message)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['type']}" for e in error.errors()
            )
            _malformed(index, problems)
            yield None


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
