"""Slack notifier Lambda: posts each notification published on the SNS topic to the Slack webhooks."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from ggwatch.adapters.delivery_ledger import DynamoDeliveryLedger
from ggwatch.adapters.slack_webhook import SlackWebhookClient
from ggwatch.adapters.webhook_secret import SecretsManagerWebhooks
from ggwatch.exceptions import DeliveryError, UnknownSchemaError
from ggwatch.inbound.sns import notifications
from ggwatch.observability import logger, metrics
from ggwatch.services.slack_delivery import SlackDelivery
from ggwatch.settings.slack_notifier import SlackNotifierSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


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
    for notification in notifications(event):
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
