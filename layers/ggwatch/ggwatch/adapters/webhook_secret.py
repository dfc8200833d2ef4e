"""The Slack webhooks, read from Secrets Manager through powertools' cache.

The secret is fetched at most once per `max_age` seconds per execution environment, so a warm Lambda
does not call Secrets Manager per message, and a rotated URL is picked up within `max_age`.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from ggwatch.exceptions import ConfigurationError, DeliveryError
from ggwatch.slack.webhooks import WebhookList, parse_webhooks


class SecretsManagerWebhooks:
    """A WebhookSource backed by one secret whose value parse_webhooks understands."""

    def __init__(self, secret_arn: str, *, max_age_seconds: int) -> None:
        self._secret_arn = secret_arn
        self._max_age = max_age_seconds

    def webhooks(self) -> WebhookList:
        try:
            value = parameters.get_secret(self._secret_arn, max_age=self._max_age)
        except GetParameterError as error:
            # Nothing can be posted without it; the message carries the AWS error, never the value.
            raise DeliveryError(f"cannot read the Slack webhooks secret: {error}") from error
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if not isinstance(value, str):
            raise ConfigurationError("the Slack webhooks secret has no string value")
        return parse_webhooks(value)
