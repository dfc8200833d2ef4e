"""The Slack channel's own interfaces: where its webhooks are configured and how a message is posted.

They live with the channel, not in ggwatch.ports, so the core's ports depend on no one channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ggwatch.slack.webhooks import Webhook, WebhookList


class WebhookSource(Protocol):
    """Where the Slack webhooks are configured (a Secrets Manager secret)."""

    def webhooks(self) -> WebhookList:
        """The usable webhooks and the entries skipped as invalid; raises ConfigurationError when the
        configuration is not a list of webhooks at all."""
        ...


class WebhookPoster(Protocol):
    """Posts a message to one Slack webhook."""

    @property
    def worst_case_seconds(self) -> float:
        """The longest one `post` can take, waits for the webhook's pace and retries included."""
        ...

    def post(self, webhook: Webhook, payload: Mapping[str, Any]) -> None:
        """Post one payload; raises DeliveryError (naming the webhook, never its URL) if not accepted."""
        ...
