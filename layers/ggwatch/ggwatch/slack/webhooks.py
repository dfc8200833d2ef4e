"""Which Slack webhooks receive which notifications, read from the secret's value (pure).

The value is either one webhook URL, or a JSON list of `{"url", "name", "statuses"}` objects. A
webhook URL is a bearer credential: it is held as a SecretStr, so it never shows in a repr, a log line
or an error message, and the errors below name a webhook by its position and name only.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from ggwatch.exceptions import ConfigurationError

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Where plain http:// is allowed: the local Slack stand-in, never a real endpoint."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Names end up in delivery-record keys, log lines and metrics, so they stay short and plain."""


class Webhook(BaseModel):
    """One destination; `statuses` None means every status."""

    model_config = ConfigDict(frozen=True)

    name: str
    url: SecretStr
    statuses: frozenset[str] | None = None

    def accepts(self, status: str) -> bool:
        """Whether this webhook wants a notification in `status` (compared case-insensitively)."""
        return self.statuses is None or status.casefold() in self.statuses


def parse_webhooks(secret_value: str) -> tuple[Webhook, ...]:
    """The configured webhooks, or ConfigurationError saying what is wrong (never echoing the value)."""
    value = secret_value.strip()
    if not value:
        raise ConfigurationError("the Slack webhooks secret is empty")
    if value[0] not in '[{"':
        return (_webhook(1, {"url": value}),)
    try:
        entries = json.loads(value)
    except json.JSONDecodeError as error:
        # The decoder's message quotes no input, only the position.
        raise ConfigurationError(
            f"the Slack webhooks secret is not valid JSON: {error.msg} at {error.pos}"
        ) from None
    if isinstance(entries, dict):
        raise ConfigurationError(
            "the Slack webhooks secret must be a JSON list of webhooks: wrap the object in [ ]"
        )
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(
            "the Slack webhooks secret must be a URL or a non-empty JSON list of webhooks"
        )
    webhooks = tuple(_webhook(position, entry) for position, entry in enumerate(entries, start=1))
    _check_unique_names(webhooks)
    return webhooks


def _webhook(position: int, entry: Any) -> Webhook:
    where = f"webhook {position}"
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: must be an object with a url")
    if set(entry) - {"url", "name", "statuses"}:
        # Not listed: a misplaced URL could be one of them.
        raise ConfigurationError(f"{where}: has keys other than url, name and statuses")
    name = entry.get("name", f"webhook-{position}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"{where}: name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    where = f"{where} ({name})"
    _check_url(where, entry.get("url"))
    return Webhook(name=name, url=SecretStr(entry["url"]), statuses=_statuses(where, entry.get("statuses")))


def _check_url(where: str, url: Any) -> None:
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"{where}: url is missing or not a string")
    if any(char.isspace() for char in url):
        raise ConfigurationError(f"{where}: url contains whitespace")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ConfigurationError(f"{where}: url is not a valid URL") from None
    if not (parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS)):
        raise ConfigurationError(
            f"{where}: url must be an https:// URL (http:// only for 127.0.0.1 or localhost)"
        )
    if not host:
        raise ConfigurationError(f"{where}: url has no host")


def _statuses(where: str, statuses: Any) -> frozenset[str] | None:
    if statuses is None:
        return None
    if not isinstance(statuses, list) or not all(isinstance(s, str) and s.strip() for s in statuses):
        raise ConfigurationError(f"{where}: statuses must be a list of status names")
    if not statuses:
        raise ConfigurationError(
            f"{where}: statuses is empty, so it would receive nothing; omit it for every status"
        )
    return frozenset(status.strip().casefold() for status in statuses)


def _check_unique_names(webhooks: tuple[Webhook, ...]) -> None:
    """Names key the delivery records, so two webhooks with one name would suppress each other."""
    names = [webhook.name for webhook in webhooks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(f"webhook names must be unique; repeated: {duplicates}")
