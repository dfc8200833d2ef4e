"""SNS's Lambda subscription, played locally: the stack subscribes a queue in the function's place.

Lambda invokes the function once per message and retries a failure; reading that queue and invoking
the function the same way keeps the notifier's delivery (and its retries) as in AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .context import Invocation
from .events import sns_event
from .function import LocalFunction

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DeliveryOutcome = Literal["delivered", "retrying", "failed"]


@dataclass(frozen=True)
class Delivery:
    """One attempt at handing one SNS message to the function."""

    message_id: str
    message: str
    attributes: dict[str, str]
    attempt: int
    invocation: Invocation
    outcome: DeliveryOutcome


class SnsQueueDelivery:
    """SNS's Lambda subscription, played from the queue that stands in for it.

    One event per message, deleted once the function succeeded. A failed attempt leaves the message
    for a retry after `retry_delay_seconds` (Lambda waits a minute, then two); after the function's
    MaximumRetryAttempts retries it is reported `failed` and removed, as Lambda would send it to the
    on-failure destination.
    """

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        subscription_arn: str,
        function: LocalFunction,
        *,
        retry_delay_seconds: int = 1,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._subscription_arn = subscription_arn
        self._function = function
        self._retry_delay = retry_delay_seconds
        self._max_attempts = 1 + function.config.max_retry_attempts

    def deliver_ready(
        self,
        *,
        on_message: Callable[[str, str, int], None] | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> list[Delivery]:
        """Deliver every message visible now, one invocation each, and return how each went.

        `on_message(message_id, message, attempt)` is called before the function sees a message and
        `on_delivery(delivery)` right after, so a caller can tell which message caused what.
        """
        deliveries: list[Delivery] = []
        while True:
            answer = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=self._function.config.timeout_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            messages = answer.get("Messages", [])
            if not messages:
                return deliveries
            for message in messages:
                delivery = self._deliver(message, on_message)
                deliveries.append(delivery)
                if on_delivery is not None:
                    on_delivery(delivery)

    def idle(self) -> bool:
        """True when no message is waiting, being handled or waiting for its retry."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return all(int(count) == 0 for count in attributes.values())

    def _deliver(self, message: Any, on_message: Callable[[str, str, int], None] | None) -> Delivery:
        envelope = json.loads(message["Body"])
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if on_message is not None:
            on_message(envelope["MessageId"], envelope["Message"], attempt)
        invocation = self._function.invoke(sns_event(envelope, self._subscription_arn))
        outcome: DeliveryOutcome
        if invocation.ok:
            outcome = "delivered"
        elif attempt < self._max_attempts:
            outcome = "retrying"
        else:
            outcome = "failed"
        if outcome == "retrying":
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self._retry_delay,
            )
        else:
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        attributes = {name: a["Value"] for name, a in (envelope.get("MessageAttributes") or {}).items()}
        return Delivery(envelope["MessageId"], envelope["Message"], attributes, attempt, invocation, outcome)
