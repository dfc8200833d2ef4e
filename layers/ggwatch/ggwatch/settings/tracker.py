"""The tracker's settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ggwatch.domain.regions import RegionList
from ggwatch.settings import HandlerSettings, NonEmpty


class TrackerSettings(HandlerSettings):
    TABLE_NAME: NonEmpty
    RETENTION_DAYS: Annotated[int, Field(ge=1, le=3650)] = 30
    """Days an untracked deployment's item is kept before DynamoDB's TTL deletes it."""
    POLL_REGIONS: RegionList = ()
    """The regions polled besides the stack's own (the PollRegions parameter, comma-separated); a
    deployment in any other region is refused."""
