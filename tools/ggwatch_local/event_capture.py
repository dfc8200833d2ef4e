"""The EventBridge side of the local stack: the bus the template names, and a queue that captures it.

A deployed stack's events go to whatever rules an operator adds on the bus. Locally one rule stands in
for them all: every event with source "ggwatch" goes to an SQS queue, which the demo and `ggwatch local
up` read to show what automation would have received.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

DEFAULT_BUS = "default"
CAPTURE_PATTERN = {"source": ["ggwatch"]}
"""What the capture rule matches: every event ggwatch puts on the bus, and nothing else."""


@dataclass(frozen=True)
class EventCaptureQueue:
    """The capture rule on the bus and the queue it sends to."""

    bus_name: str
    rule_name: str
    queue_url: str


def create_event_capture(
    events: EventBridgeClient, sqs: SQSClient, bus_name: str, name: str
) -> EventCaptureQueue:
    """The bus (unless it is the default one, which every account has) and a rule that sends every
    ggwatch event on it to a new queue named `name`."""
    if bus_name != DEFAULT_BUS:
        events.create_event_bus(Name=bus_name)
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=name, EventBusName=bus_name, EventPattern=json.dumps(CAPTURE_PATTERN))
    events.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": "capture", "Arn": queue_arn}])
    return EventCaptureQueue(bus_name=bus_name, rule_name=name, queue_url=queue_url)


@dataclass(frozen=True)
class CapturedEvent:
    """One event ggwatch put on the bus, as a rule's target receives it."""

    event_id: str
    detail_type: str
    resources: tuple[str, ...]
    detail: dict[str, Any]

    @property
    def deployment_id(self) -> str:
        return str(self.detail.get("deploymentId", "?"))

    @property
    def status(self) -> str:
        return str(self.detail.get("status", "?"))

    @property
    def transition_id(self) -> str:
        return str(self.detail.get("transitionId", "?"))

    @classmethod
    def of(cls, body: str) -> CapturedEvent:
        """An event from the JSON a rule's SQS target receives."""
        event = json.loads(body)
        detail = event.get("detail")
        return cls(
            event_id=str(event.get("id", "")),
            detail_type=str(event.get("detail-type", "")),
            resources=tuple(event.get("resources") or ()),
            detail=detail if isinstance(detail, dict) else {},
        )


class EventCapture:
    """Reads the capture queue: each event once, removed once read."""

    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def drain(self, on_event: Callable[[CapturedEvent], None] | None = None) -> list[CapturedEvent]:
        """Every event waiting now, oldest first as the queue gives them; `on_event` sees each one."""
        captured: list[CapturedEvent] = []
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return captured
            for message in messages:
                event = CapturedEvent.of(message["Body"])
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
                captured.append(event)
                if on_event is not None:
                    on_event(event)


def event_line(event: CapturedEvent) -> str:
    """One event in a line: its detail-type, deployment, status and transitionId."""
    return f'"{event.detail_type}" {event.deployment_id} {event.status} transitionId={event.transition_id}'
