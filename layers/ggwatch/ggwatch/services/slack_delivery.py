"""Posting one notification to every Slack webhook that wants it, exactly once per webhook.

Each webhook is tried independently: a broken channel, an invalid entry in the configuration or any
exception while posting never keeps the others from their message. If any webhook was not delivered
(its post failed, another invocation still holds its claim, or there was no time left to start it),
DeliveryError is raised after all were tried, so Lambda retries the event (and finally sends it to
the on-failure destination); the ledger makes the retry skip webhooks that already took the message.

Time: a webhook is started only when the invocation has time left for its worst case (claim, post
with every retry and pacing wait, record), and its claim is leased for exactly that long. So a claim
never outlives the invocation that took it, except when that invocation was killed, and then it has
expired before Lambda's first retry a minute later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit

from ggwatch.domain.notification import Notification
from ggwatch.exceptions import DeliveryError, GgwatchError
from ggwatch.observability import logger, metrics
from ggwatch.ports import DeliveryLedger
from ggwatch.settings import ConfigurationError
from ggwatch.slack.blocks import render
from ggwatch.slack.ports import WebhookPoster, WebhookSource
from ggwatch.slack.webhooks import RejectedWebhook, Webhook

_Outcome = Literal["delivered", "duplicate", "in_flight", "not_reached", "failed"]
_FAILED: frozenset[_Outcome] = frozenset({"in_flight", "not_reached", "failed"})


@dataclass(frozen=True)
class DeliveryReport:
    """Webhook names by outcome, for the handler's summary and for tests."""

    delivered: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    filtered_out: tuple[str, ...] = ()


class SlackDelivery:
    """The Slack notifier's use case."""

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

    @property
    def webhook_worst_case_seconds(self) -> float:
        """The longest one webhook's delivery can take: claim, post, then record or release."""
        return 2 * self._ledger.worst_case_call_seconds + self._poster.worst_case_seconds

    def deliver(self, notification: Notification, remaining_ms: Callable[[], int]) -> DeliveryReport:
        """Post to each webhook whose filter accepts the status while time is left; raise
        DeliveryError if any was not delivered, ConfigurationError if no webhook is usable."""
        listed = self._webhooks.webhooks()
        _report_rejected(listed.rejected)
        if not listed.webhooks:
            raise ConfigurationError(
                "no valid Slack webhook is configured: " + "; ".join(map(str, listed.rejected))
            )
        wanted = [webhook for webhook in listed.webhooks if webhook.accepts(notification.status)]
        payload = self._render(notification) if wanted else {}
        outcomes = [
            (webhook.name, self._deliver_one(notification, webhook, payload, remaining_ms))
            for webhook in wanted
        ]
        failed = [name for name, outcome in outcomes if outcome in _FAILED]
        if failed:
            raise DeliveryError(
                f"{len(failed)} of {len(wanted)} Slack webhook(s) not delivered for transition "
                f"{notification.transition_id}: {', '.join(failed)}"
            )
        return DeliveryReport(
            delivered=tuple(name for name, outcome in outcomes if outcome == "delivered"),
            duplicates=tuple(name for name, outcome in outcomes if outcome == "duplicate"),
            filtered_out=tuple(w.name for w in listed.webhooks if not w.accepts(notification.status)),
        )

    def _deliver_one(
        self,
        notification: Notification,
        webhook: Webhook,
        payload: Mapping[str, Any],
        remaining_ms: Callable[[], int],
    ) -> _Outcome:
        context = _log_context(notification, webhook)
        worst_case = self.webhook_worst_case_seconds
        if remaining_ms() < worst_case * 1000:
            logger.warning(
                "slack webhook not started: too little time left before the deadline",
                extra={**context, "needed_seconds": worst_case},
            )
            metrics.add_metric(name="SlackWebhooksNotReached", unit=MetricUnit.Count, value=1)
            return "not_reached"
        try:
            claim = self._ledger.begin(notification.transition_id, webhook.name, lease_seconds=worst_case)
            if claim == "delivered":
                logger.info("duplicate dropped", extra=context)
                metrics.add_metric(name="SlackDuplicatesDropped", unit=MetricUnit.Count, value=1)
                return "duplicate"
            if claim == "sending":
                logger.warning("slack delivery in progress in another invocation; retry later", extra=context)
                metrics.add_metric(name="SlackDeliveriesInFlight", unit=MetricUnit.Count, value=1)
                return "in_flight"
            self._post(notification, webhook, payload)
        except Exception as error:  # any failure is this one webhook's, never the others'
            logger.error("slack delivery failed", extra={**context, "error": _describe(error)})
            metrics.add_metric(name="SlackDeliveryFailures", unit=MetricUnit.Count, value=1)
            return "failed"
        logger.info("slack message delivered", extra=context)
        metrics.add_metric(name="SlackMessagesDelivered", unit=MetricUnit.Count, value=1)
        return "delivered"

    def _post(self, notification: Notification, webhook: Webhook, payload: Mapping[str, Any]) -> None:
        """Post under a claim: released if the post fails, made permanent if it succeeds."""
        try:
            self._poster.post(webhook, payload)
        except Exception:
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


def _report_rejected(rejected: tuple[RejectedWebhook, ...]) -> None:
    """Every invalid entry, by position and name (never its URL), on every invocation until fixed."""
    for entry in rejected:
        logger.error(
            "invalid slack webhook skipped",
            extra={"webhook_position": entry.position, "webhook": entry.name, "problem": entry.problem},
        )
    if rejected:
        metrics.add_metric(name="SlackWebhooksInvalid", unit=MetricUnit.Count, value=len(rejected))


def _describe(error: Exception) -> str:
    """The package's own errors are written to name no URL; any other error's text might quote one."""
    if isinstance(error, GgwatchError):
        return str(error)
    return f"unexpected {type(error).__name__} while posting"


def _log_context(notification: Notification, webhook: Webhook) -> dict[str, str]:
    return {
        "transition_id": notification.transition_id,
        "deployment_id": notification.deployment_id,
        "status": notification.status,
        "webhook": webhook.name,
    }
