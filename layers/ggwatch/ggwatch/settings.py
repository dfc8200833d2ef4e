"""Each handler's configuration, validated once at cold start; errors name the setting at fault."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
    END_OF_RUN_RESERVE_MS: Annotated[int, Field(ge=0, le=60_000)] = 1_000
    """Time a run keeps free after its last possible call (the cursor write), for the handler's own
    closing work. The time each call may take is derived from the SDK settings, not configured."""
    CLAIM_LEASE_SECONDS: Annotated[int, Field(ge=1)] = 120
    """How long a claimed-but-unconfirmed transition belongs to the run that claimed it."""
    DEVICE_EVENT_DEBOUNCE_SECONDS: Annotated[int, Field(ge=1, le=300)] = 10
    """Greengrass V2 device events for one deployment within this many seconds lead to one check."""
    SETTLED_POLL_MINUTES: Annotated[int, Field(ge=0, le=1440)] = 0
    """A settled continuous Greengrass V2 deployment is polled this often rather than every run (a
    device event checks it at once); 0 polls it every run."""
    POLL_CONCURRENCY: Annotated[int, Field(ge=1, le=128)] = 16
    """Deployments polled at once in each region (regions are polled in parallel). Provisional: the
    default is to be chosen from `make bench`'s measurements."""

    @model_validator(mode="before")
    @classmethod
    def _no_retired_settings(cls, environ: Any) -> Any:
        """A fixed SAFETY_MARGIN_MS is now derived from the SDK settings; a stale one must not pass
        unnoticed as if it still applied."""
        if isinstance(environ, Mapping) and "SAFETY_MARGIN_MS" in environ:
            raise ValueError("SAFETY_MARGIN_MS is retired: the margin is derived; see END_OF_RUN_RESERVE_MS")
        return environ


class SlackNotifierSettings(_Settings):
    SLACK_WEBHOOKS_SECRET_ARN: NonEmpty
    TABLE_NAME: NonEmpty
    SECRET_CACHE_SECONDS: Annotated[int, Field(ge=0)] = 300
    DELIVERY_RECORD_DAYS: Annotated[int, Field(ge=1)] = 7
    """How long a record of a delivered message is kept to drop duplicates."""
