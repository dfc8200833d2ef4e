"""Posting one payload to one Slack webhook, paced, with bounded and polite retries (stdlib urllib only).

Paced: Slack takes about one message a second per webhook, so posts to one webhook from this process
are spaced `min_interval_seconds` apart, and a 429's Retry-After holds back the next post too. The
notifier runs one invocation at a time (reserved concurrency 1), so this process is the only sender.

Retried: 429 (after Retry-After, capped), 408, 5xx, timeouts and connection failures, with exponential
backoff and full jitter, at most `max_attempts` times and never past `max_total_seconds`. Anything else
(`invalid_payload`, `no_service`, `channel_not_found`, `channel_is_archived`, 403, 404, 410, a redirect)
cannot get better by retrying and fails at once.

The URL is a credential: errors and log lines name the webhook, never its URL, and exceptions from
urllib are not chained because their attributes carry the URL.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from ggwatch.exceptions import DeliveryError
from ggwatch.observability import logger
from ggwatch.slack.webhooks import Webhook

_MAX_ERROR_TEXT = 200


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one webhook; the defaults let one webhook's worst case, with its delivery
    record, fit a 30-second Lambda run (see SlackDelivery)."""

    max_attempts: int = 3
    timeout_seconds: float = 4.0
    max_total_seconds: float = 12.0
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 4.0
    max_retry_after_seconds: float = 5.0
    min_interval_seconds: float = 1.0
    """Slack's documented rate for posting messages: one a second per channel, short bursts allowed."""

    @property
    def worst_case_seconds(self) -> float:
        """The longest one post can take. The budget starts before the wait for the webhook's pace;
        a retry starts only if it can end (one timeout) within `max_total_seconds`; one attempt is
        bounded by its connect and its read timeout."""
        attempt = 2 * self.timeout_seconds
        first = max(self.min_interval_seconds, self.max_retry_after_seconds) + attempt
        return max(first, self.max_total_seconds + self.timeout_seconds)


@dataclass(frozen=True)
class _Failure:
    reason: str
    retryable: bool
    retry_after: float | None = None


class SlackWebhookClient:
    """Posts JSON payloads; raises DeliveryError naming the webhook when Slack does not take one."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        random_fraction: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._random = random_fraction
        self._clock = clock
        self._opener = urllib.request.build_opener(_NoRedirects())
        self._next_post_at: dict[str, float] = {}
        """By webhook URL (in memory only): when its pace allows the next post."""

    @property
    def worst_case_seconds(self) -> float:
        return self._policy.worst_case_seconds

    def post(self, webhook: Webhook, payload: Mapping[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        policy = self._policy
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_pace(webhook)
            failure = self._attempt(webhook, body)
            self._set_pace(webhook, failure)
            if failure is None:
                return
            if not failure.retryable:
                raise DeliveryError(f"Slack webhook '{webhook.name}' rejected the message: {failure.reason}")
            delay = self._delay(attempt, failure)
            elapsed = self._clock() - started
            if (
                attempt >= policy.max_attempts
                or elapsed + delay + policy.timeout_seconds > policy.max_total_seconds
            ):
                raise DeliveryError(
                    f"Slack webhook '{webhook.name}' failed after {attempt} attempt(s): {failure.reason}"
                )
            logger.warning(
                "slack webhook attempt failed, retrying",
                extra={
                    "webhook": webhook.name,
                    "attempt": attempt,
                    "reason": failure.reason,
                    "delay_seconds": round(delay, 3),
                },
            )
            self._sleep(delay)

    def _wait_for_pace(self, webhook: Webhook) -> None:
        wait = self._next_post_at.get(webhook.url.get_secret_value(), 0.0) - self._clock()
        if wait > 0:
            self._sleep(wait)

    def _set_pace(self, webhook: Webhook, failure: _Failure | None) -> None:
        """A message taken starts the interval; a 429 asks for its Retry-After; other failures
        posted nothing, so their backoff alone decides the next attempt."""
        policy = self._policy
        if failure is None:
            pause = policy.min_interval_seconds
        elif failure.retry_after is not None:
            pause = max(policy.min_interval_seconds, min(failure.retry_after, policy.max_retry_after_seconds))
        else:
            return
        self._next_post_at[webhook.url.get_secret_value()] = self._clock() + pause

    def _attempt(self, webhook: Webhook, body: bytes) -> _Failure | None:
        url = webhook.url.get_secret_value()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked when the config is parsed
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "ggwatch"},
        )
        try:
            with self._opener.open(request, timeout=self._policy.timeout_seconds) as response:
                response.read()
            return None
        except HTTPError as error:
            with error:
                text = _error_text(error.read(1024), url)
            status = error.code
            retry_after = _seconds(error.headers.get("Retry-After")) if status == 429 else None
            return _Failure(
                f"HTTP {status} {text}".strip(), status in (408, 429) or status >= 500, retry_after
            )
        except TimeoutError:
            return _Failure("timed out", True)
        except URLError as error:
            return _Failure(_connection_failure(error.reason), True)
        except (http.client.HTTPException, OSError) as error:
            return _Failure(_connection_failure(error), True)
        except ValueError as error:
            # The request could not even be built (UnicodeEncodeError is one): retrying cannot help.
            # Its text may quote the URL, so only its type is kept.
            return _Failure(f"the request could not be sent: {type(error).__name__}", False)

    def _delay(self, attempt: int, failure: _Failure) -> float:
        policy = self._policy
        if failure.retry_after is not None:
            return min(failure.retry_after, policy.max_retry_after_seconds)
        ceiling = min(policy.max_delay_seconds, policy.base_delay_seconds * 2.0 ** (attempt - 1))
        return self._random() * ceiling


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook never redirects; following one would re-send the message somewhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _seconds(header: str | None) -> float | None:
    """Retry-After in seconds (Slack sends an integer); an HTTP-date or junk falls back to backoff."""
    try:
        return max(float(header), 0.0) if header is not None else None
    except ValueError:
        return None


def _error_text(raw: bytes, url: str) -> str:
    """Slack's short error code (`invalid_payload`), whitespace-collapsed, capped, URL redacted."""
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    path = urlsplit(url).path
    for secret in (url, path if len(path) > 1 else ""):
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:_MAX_ERROR_TEXT]


def _connection_failure(reason: object) -> str:
    """A description without str(reason), which for some errors quotes the request."""
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return f"connection failed: {reason.strerror}"
    return f"connection failed: {type(reason).__name__}"
