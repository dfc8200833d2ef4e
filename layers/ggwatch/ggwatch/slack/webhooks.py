"""Which Slack webhooks receive which notifications, read from the secret's value (pure).

The value is either one webhook URL, or a JSON list of `{"url", "name", "statuses"}` objects. A
webhook URL is a bearer credential: it is held as a SecretStr, so it never shows in a repr, a log line
or an error message, and the problems below name a webhook by its position and name only.

One bad entry must not silence the others: an entry that fails validation is returned as `rejected`
(for the caller to report) and the valid ones are used. Only a value that is not a list of entries at
all raises ConfigurationError.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from ggwatch.exceptions import ConfigurationError

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Where plain http:// is allowed: the local Slack stand-in, never a real endpoint."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Names end up in delivery-record keys, log lines and metrics, so they stay short and plain."""
_URL_CHARS = re.compile(r"^[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+$")
"""The characters RFC 3986 allows in a URL; anything else (a pasted zero-width space, a quote) is a
copy-paste accident that the HTTP client would fail on for every message."""
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MAX_HOST = 253


class Webhook(BaseModel):
    """One destination; `statuses` None means every status."""

    model_config = ConfigDict(frozen=True)

    name: str
    url: SecretStr
    statuses: frozenset[str] | None = None

    def accepts(self, status: str) -> bool:
        """Whether this webhook wants a notification in `status` (compared case-insensitively)."""
        return self.statuses is None or status.casefold() in self.statuses


@dataclass(frozen=True)
class RejectedWebhook:
    """An entry that cannot be used; `problem` says why without quoting the URL."""

    position: int
    name: str | None
    problem: str

    def __str__(self) -> str:
        named = f" ({self.name})" if self.name else ""
        return f"webhook {self.position}{named}: {self.problem}"


@dataclass(frozen=True)
class WebhookList:
    """The usable webhooks, in the secret's order, and the entries that were skipped."""

    webhooks: tuple[Webhook, ...]
    rejected: tuple[RejectedWebhook, ...] = ()


class _Rejected(Exception):
    """One entry's problem, raised while reading it and collected by parse_webhooks."""


def parse_webhooks(secret_value: str) -> WebhookList:
    """The configured webhooks; ConfigurationError only when the value is not a list of entries."""
    value = secret_value.strip()
    if not value:
        raise ConfigurationError("the Slack webhooks secret is empty")
    if value[0] not in '[{"':
        return _read_entries([{"url": value}])
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
    return _read_entries(entries)


def _read_entries(entries: list[Any]) -> WebhookList:
    webhooks: list[Webhook] = []
    rejected: list[RejectedWebhook] = []
    for position, entry in enumerate(entries, start=1):
        name = _name_of(position, entry)
        try:
            webhook = _webhook(position, entry)
            if webhook.name in {w.name for w in webhooks}:
                # Names key the delivery records: two webhooks with one name would suppress each other.
                raise _Rejected(f"name '{webhook.name}' is used by an earlier webhook; names must be unique")
        except _Rejected as problem:
            rejected.append(RejectedWebhook(position, name, str(problem)))
            continue
        webhooks.append(webhook)
    return WebhookList(tuple(webhooks), tuple(rejected))


def _name_of(position: int, entry: Any) -> str | None:
    """The entry's name when it is a valid one, for naming the entry in a report."""
    name = entry.get("name", f"webhook-{position}") if isinstance(entry, dict) else None
    return name if isinstance(name, str) and _NAME.match(name) else None


def _webhook(position: int, entry: Any) -> Webhook:
    if not isinstance(entry, dict):
        raise _Rejected("must be an object with a url")
    if set(entry) - {"url", "name", "statuses"}:
        # Not listed: a misplaced URL could be one of them.
        raise _Rejected("has keys other than url, name and statuses")
    name = _name_of(position, entry)
    if name is None:
        raise _Rejected("name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    url = _checked_url(entry.get("url"))
    return Webhook(name=name, url=SecretStr(url), statuses=_statuses(entry.get("statuses")))


def _checked_url(url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise _Rejected("url is missing or not a string")
    if any(char.isspace() for char in url):
        raise _Rejected("url contains whitespace")
    if not url.isascii():
        raise _Rejected("url contains a non-ASCII character (an invisible one pasted with it?)")
    if not _URL_CHARS.match(url):
        raise _Rejected("url contains a character that is not allowed in a URL")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise _Rejected("url is not a valid URL") from None
    if not (parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS)):
        raise _Rejected("url must be an https:// URL (http:// only for 127.0.0.1 or localhost)")
    if not host:
        raise _Rejected("url has no host")
    if parts.username is not None:
        raise _Rejected("url must not contain a user name or password")
    if host not in LOCAL_HOSTS and not _is_host_name(host):
        raise _Rejected("url's host must be a DNS name (letters, digits and hyphens), not an IP address")
    return url


def _is_host_name(host: str) -> bool:
    """A DNS name of at least two labels whose last is not numeric (so not an IP address)."""
    labels = host.split(".")
    return (
        len(host) <= _MAX_HOST
        and len(labels) >= 2
        and all(_HOST_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _statuses(statuses: Any) -> frozenset[str] | None:
    if statuses is None:
        return None
    if not isinstance(statuses, list) or not all(isinstance(s, str) and s.strip() for s in statuses):
        raise _Rejected("statuses must be a list of status names")
    if not statuses:
        raise _Rejected("statuses is empty, so it would receive nothing; omit it for every status")
    return frozenset(status.strip().casefold() for status in statuses)
