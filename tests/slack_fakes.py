"""In-memory stand-ins for the Slack notifier's ports that record what they were given."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ggwatch.exceptions import DeliveryError
from ggwatch.ports import Claim
from ggwatch.slack.webhooks import Webhook, WebhookList, parse_webhooks


class SecretWebhooks:
    """A WebhookSource over a secret value, parsed like the real one on every call."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def webhooks(self) -> WebhookList:
        return parse_webhooks(self.secret)


@dataclass
class RecordingPoster:
    """Takes every post unless `failures` names the webhook: then raises what it holds there."""

    worst_case_seconds: float = 10.0
    failures: dict[str, BaseException] = field(default_factory=dict)
    posts: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)

    def post(self, webhook: Webhook, payload: Mapping[str, Any]) -> None:
        self.attempts.append(webhook.name)
        failure = self.failures.get(webhook.name)
        if failure is not None:
            raise failure
        self.posts.append((webhook.name, payload))


@dataclass
class Record:
    state: str
    lease_until: float | None = None


@dataclass
class MemoryLedger:
    """The delivery ledger's rules (a live `sending` claim blocks; `delivered` is final) in a dict."""

    worst_case_call_seconds: float = 1.0
    now: float = 1_000_000.0
    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    leases: list[float] = field(default_factory=list)
    fail_marking: bool = False

    def begin(self, transition_id: str, destination: str, *, lease_seconds: float) -> Claim:
        self.calls.append(("begin", transition_id, destination))
        self.leases.append(lease_seconds)
        key = (transition_id, destination)
        record = self.records.get(key)
        if record is not None and record.state == "delivered":
            return "delivered"
        if record is not None and record.lease_until is not None and record.lease_until >= self.now:
            return "sending"
        self.records[key] = Record("sending", math.ceil(self.now + lease_seconds))
        return "claimed"

    def mark_delivered(self, transition_id: str, destination: str) -> None:
        self.calls.append(("mark_delivered", transition_id, destination))
        if self.fail_marking:
            raise DeliveryError("the ledger is unavailable")
        self.records[(transition_id, destination)] = Record("delivered")

    def release(self, transition_id: str, destination: str) -> None:
        self.calls.append(("release", transition_id, destination))
        record = self.records.get((transition_id, destination))
        if record is not None and record.state == "sending":
            del self.records[(transition_id, destination)]

    def state(self, transition_id: str, destination: str) -> str | None:
        record = self.records.get((transition_id, destination))
        return record.state if record else None
