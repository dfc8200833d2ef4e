"""Each handler's configuration, validated once at cold start; errors name the setting at fault."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ggwatch.adapters.sdk_config import WORST_CASE_CALL_SECONDS
from ggwatch.exceptions import ConfigurationError
from ggwatch.validation import describe

__all__ = ["ConfigurationError", "PollerSettings", "SlackNotifierSettings", "TrackerSettings"]
"""ConfigurationError lives in ggwatch.exceptions; it is re-exported here for code that imports it
from the settings it is about."""

NonEmpty = Annotated[str, Field(min_length=1)]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read and validate the settings; raise ConfigurationError naming every bad variable."""
        try:
            return cls.model_validate(dict(os.environ if environ is None else environ))
        except ValidationError as error:
            raise ConfigurationError(f"invalid {cls.__name__} configuration: {describe(error)}") from None


class TrackerSettings(_Settings):
    TABLE_NAME: NonEmpty
    RETENTION_DAYS: Annotated[int, Field(ge=1, le=3650)] = 30
    """Days an untracked deployment's item is kept before DynamoDB's TTL deletes it."""


class PollerSettings(_Settings):
    TABLE_NAME: NonEmpty
    TOPIC_ARN: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")]
    RETENTION_DAYS: Annotated[int, Field(ge=1, le=3650)] = 30
    """Days a finished deployment's item is kept before DynamoDB's TTL deletes it."""
    SAFETY_MARGIN_MS: Annotated[int, Field(gt=WORST_CASE_CALL_SECONDS * 1000)] = 25_000
    """Time left at which the poller stops starting new work. Longer than the slowest possible status
    call, so a deployment it starts always ends in time to record where the run stopped."""
    CLAIM_LEASE_SECONDS: Annotated[int, Field(ge=1)] = 120
    """How long a claimed-but-unconfirmed transition belongs to the run that claimed it."""


class SlackNotifierSettings(_Settings):
    SLACK_WEBHOOKS_SECRET_ARN: NonEmpty
    TABLE_NAME: NonEmpty
    SECRET_CACHE_SECONDS: Annotated[int, Field(ge=0)] = 300
    DELIVERY_RECORD_DAYS: Annotated[int, Field(ge=1)] = 7
    """How long a record of a delivered message is kept to drop duplicates."""
