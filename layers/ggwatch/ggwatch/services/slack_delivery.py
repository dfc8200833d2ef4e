"""Posting one notification to every Slack webhook that wants it, exactly once per webhook.

Each webhook is tried independently: a broken channel never keeps the others from their message. If
any failed, DeliveryError is raised after all were tried, so Lambda retries the event (and finally
sends it to the on-failure destination); the ledger makes the retry skip webhooks that already took
the message, so only the failed ones are posted to again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit

from ggwatch.domain.notification import Notification
from ggwatch.exceptions import DeliveryError, GgwatchError
from ggwatch.observability import logger, metrics
from ggwatch.ports import DeliveryLedger, WebhookPoster, WebhookSource
from ggwatch.slack.blocks import render
from ggwatch.slack.webhooks import Webhook

_Outcome = Literal["delivered", "duplicate", "failed"]


@dataclass(frozen=True)
class DeliveryReport:
    """Webhook names by outcome, for the handler's summary and for tests."""

    delivered: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    filtered_out: tuple[str, ...] = ()


class SlackDelivery:
    """The Slack notifier's use case; a webhook claimed by a concurrent invocation counts as a duplicate."""

    def __init__(
        self,
        webhooks: WebhookSource,
        poster: WebhookPoster,
        ledger: DeliveryLedger,
        renderer: Callable[[Notification], Mapping[str, Any]] = render,
    ) -> None:
        self._webhooks = webhooks
        self._poster = poster
        self._ledger = ledger
        self._render = renderer

    def deliver(self, notification: Notification) -> DeliveryReport:
        """Post to each webhook whose filter accepts the status; raise DeliveryError if any failed."""
        configured = self._webhooks.webhooks()
        wanted = [webhook for webhook in configured if webhook.accepts(notification.status)]
        payload = self._render(notification) if wanted else {}
        outcomes = [(webhook.name, self._deliver_one(notification, webhook, payload)) for webhook in wanted]
        failed = [name for name, outcome in outcomes if outcome == "failed"]
        if failed:
            raise DeliveryError(
                f"{len(failed)} of {len(wanted)} Slack webhook(s) failed for transition "
                f"{notification.transition_id}: {', '.join(failed)}"
            )
        return DeliveryReport(
            delivered=tuple(name for name, outcome in outcomes if outcome == "delivered"),
            duplicates=tuple(name for name, outcome in outcomes if outcome == "duplicate"),
            filtered_out=tuple(w.name for w in configured if not w.accepts(notification.status)),
        )

    def _deliver_one(
        self, notification: Notification, webhook: Webhook, payload: Mapping[str, Any]
    ) -> _Outcome:
        context = _log_context(notification, webhook)
        try:
            if not self._ledger.begin(notification.transition_id, webhook.name):
                logger.info("duplicate dropped", extra=context)
                metrics.add_metric(name="SlackDuplicatesDropped", unit=MetricUnit.Count, value=1)
                return "duplicate"
            self._post(notification, webhook, payload)
        except GgwatchError as error:
            logger.error("slack delivery failed", extra={**context, "error": str(error)})
            metrics.add_metric(name="SlackDeliveryFailures", unit=MetricUnit.Count, value=1)
            return "failed"
        logger.info("slack message delivered", extra=context)
        metrics.add_metric(name="SlackMessagesDelivered", unit=MetricUnit.Count, value=1)
        return "delivered"

    def _post(self, notification: Notification, webhook: Webhook, payload: Mapping[str, Any]) -> None:
        """Post under a claim: released if the post fails, made permanent if it succeeds."""
        try:
            self._poster.post(webhook, payload)
        except BaseException:
            self._release(notification, webhook)
            raise
        try:
            self._ledger.mark_delivered(notification.transition_id, webhook.name)
        except GgwatchError as error:
            # The message is in Slack: failing now would post it again on the retry.
            logger.warning(
                "slack message delivered but not recorded; a redelivery may post it again",
                extra={**_log_context(notification, webhook), "error": str(error)},
            )

    def _release(self, notification: Notification, webhook: Webhook) -> None:
        try:
            self._ledger.release(notification.transition_id, webhook.name)
        except GgwatchError as error:
            logger.warning(
                "delivery claim not released; it expires with its lease",
                extra={**_log_context(notification, webhook), "error": str(error)},
            )


def _log_context(notification: Notification, webhook: Webhook) -> dict[str, str]:
    return {
        "transition_id": notification.transition_id,
        "deployment_id": notification.deployment_id,
        "status": notification.status,
        "webhook": webhook.name,
    }
