"""Putting notifications on an EventBridge bus, where rules start automation (rollbacks, tickets, ...).

Each notification is one event: `source` "ggwatch", a `detail-type` naming its eventType in words,
the deployment's ARN as its one resource (built from the ID, region and account when the source gave
none) and the notification itself as `detail`, cut to fit EventBridge's entry limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ggwatch.adapters.aws_errors import error_code, error_message
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.domain.arns import deployment_arn
from ggwatch.domain.models import DeploymentKind
from ggwatch.domain.notification import Notification, eventbridge_entry_size, fit_to_eventbridge_entry
from ggwatch.domain.sizes import EVENTBRIDGE_ENTRY_MAX_BYTES
from ggwatch.exceptions import PublishError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

SOURCE = "ggwatch"
MAX_ENTRIES_PER_CALL = 10
MAX_BYTES_PER_CALL = EVENTBRIDGE_ENTRY_MAX_BYTES
"""PutEvents takes at most 10 entries, and their sizes (counted as for one entry) add up to 256 KB."""


@dataclass(frozen=True)
class Home:
    """Where the stack runs: the partition, region and account of a deployment ARN ggwatch builds.

    Read from an ARN the stack already has (its topic's), so that no STS call is needed to learn them.
    """

    partition: str
    region: str
    account: str

    @classmethod
    def of(cls, arn: str) -> Home:
        parts = arn.split(":")
        if len(parts) < 6 or parts[0] != "arn" or not parts[3] or not parts[4]:
            raise ValueError(f"not an ARN with a region and an account: {arn}")
        return cls(partition=parts[1], region=parts[3], account=parts[4])


def detail_type(event_type: str) -> str:
    """The eventType in words: "DeploymentStatusChange" is "Deployment Status Change"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", event_type)


def with_arn(notification: Notification, home: Home) -> Notification:
    """The notification with its deployment's ARN, built in its region (else the home region) and the
    home account when the source gave none (and ggwatch knows the kind's ARN format)."""
    kinds = {kind.value: kind for kind in DeploymentKind}
    if notification.deployment_arn is not None or notification.deployment_kind not in kinds:
        return notification
    arn = deployment_arn(
        kinds[notification.deployment_kind],
        notification.deployment_id,
        partition=home.partition,
        region=notification.region or home.region,
        account=home.account,
    )
    return notification.model_copy(update={"deployment_arn": arn})


@dataclass(frozen=True)
class _Entry:
    """One notification as an event, and its size as PutEvents counts it."""

    request: PutEventsRequestEntryTypeDef
    size: int


def event_entry(notification: Notification, *, bus_name: str, home: Home) -> _Entry:
    """The PutEvents entry of one notification, its detail cut to EventBridge's entry limit."""
    kind = detail_type(notification.event_type)
    fitted = fit_to_eventbridge_entry(with_arn(notification, home), source=SOURCE, detail_type=kind)
    request: PutEventsRequestEntryTypeDef = {
        "EventBusName": bus_name,
        "Source": SOURCE,
        "DetailType": kind,
        "Resources": [fitted.deployment_arn] if fitted.deployment_arn else [],
        "Detail": fitted.to_json(),
    }
    # Without a readable observedAt, EventBridge stamps the time it received the event (the size
    # counts a Time anyway, which only errs on the safe side).
    with suppress(ValueError):
        request["Time"] = datetime.fromisoformat(fitted.observed_at)
    return _Entry(request, eventbridge_entry_size(fitted, source=SOURCE, detail_type=kind))


def calls(entries: Sequence[_Entry]) -> list[list[int]]:
    """Indexes of `entries`, in order, grouped into PutEvents calls within the count and byte limits."""
    groups: list[list[int]] = []
    size = 0
    for index, entry in enumerate(entries):
        if not groups or len(groups[-1]) == MAX_ENTRIES_PER_CALL or size + entry.size > MAX_BYTES_PER_CALL:
            groups.append([])
            size = 0
        groups[-1].append(index)
        size += entry.size
    return groups


class EventBridgePublisher:
    """Puts each notification on one bus; an entry EventBridge refused is a PublishError for it alone."""

    def __init__(self, bus_name: str, home: Home, client: EventBridgeClient | None = None) -> None:
        self._bus_name = bus_name
        self._home = home
        self._client = client or boto3.client("events", config=API_CONFIG)

    def publish(self, notification: Notification) -> str:
        """Put one event; returns its event ID."""
        [answer] = self._put([notification])
        if isinstance(answer, PublishError):
            raise answer
        return answer

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        """Put every notification (in as few calls as the limits allow); one result each, in order."""
        return [answer if isinstance(answer, PublishError) else None for answer in self._put(notifications)]

    def _put(self, notifications: Sequence[Notification]) -> list[str | PublishError]:
        entries = [event_entry(n, bus_name=self._bus_name, home=self._home) for n in notifications]
        answers: list[str | PublishError] = [PublishError("not sent")] * len(entries)
        for group in calls(entries):
            for index, answer in zip(group, self._put_call([entries[i] for i in group]), strict=True):
                answers[index] = answer
        return answers

    def _put_call(self, entries: Sequence[_Entry]) -> list[str | PublishError]:
        """One PutEvents call: an event ID for each entry taken, a PublishError for each refused."""
        try:
            answer = self._client.put_events(Entries=[entry.request for entry in entries])
        except ClientError as error:
            failure = PublishError(f"EventBridge answered {error_code(error)}: {error_message(error)}")
            return [failure] * len(entries)
        except BotoCoreError as error:
            return [PublishError(f"EventBridge PutEvents failed: {error}")] * len(entries)
        results = answer.get("Entries", [])
        if len(results) != len(entries):
            return [PublishError("EventBridge answered for a different number of entries")] * len(entries)
        return [
            result["EventId"]
            if "EventId" in result and "ErrorCode" not in result
            else PublishError(
                f"EventBridge refused the event: {result.get('ErrorCode')}: {result.get('ErrorMessage')}"
            )
            for result in results
        ]
