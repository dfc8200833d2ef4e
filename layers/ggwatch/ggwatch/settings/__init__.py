"""Each handler's configuration, validated once at cold start; errors name the setting at fault.

One module per handler (settings/poller.py, tracker.py, slack_notifier.py): a handler imports, and
pydantic builds, its own settings model only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ggwatch.exceptions import ConfigurationError
from ggwatch.validation import describe

__all__ = ["ConfigurationError", "HandlerSettings", "NonEmpty"]
"""ConfigurationError lives in ggwatch.exceptions; it is re-exported here for code that imports it
from the settings it is about."""

NonEmpty = Annotated[str, Field(min_length=1)]


class HandlerSettings(BaseModel):
    """A handler's settings, read from its environment."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read and validate the settings; raise ConfigurationError naming every bad variable."""
        try:
            return cls.model_validate(dict(os.environ if environ is None else environ))
        except ValidationError as error:
            raise ConfigurationError(f"invalid {cls.__name__} configuration: {describe(error)}") from None
