"""The Slack notifier's settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ggwatch.settings import HandlerSettings, NonEmpty


class SlackNotifierSettings(HandlerSettings):
    SLACK_WEBHOOKS_SECRET_ARN: NonEmpty
    TABLE_NAME: NonEmpty
    SECRET_CACHE_SECONDS: Annotated[int, Field(ge=0)] = 300
    DELIVERY_RECORD_DAYS: Annotated[int, Field(ge=1)] = 7
    """How long a record of a delivered message is kept to drop duplicates."""
