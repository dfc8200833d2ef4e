"""The topic's subscribers and the Slack channels, delivered as AWS delivers them, and what they received.

The topic has two SQS subscribers: `automation` stands for any programmatic subscriber, `slack` for the
slack_notifier's Lambda subscription. `deliver_slack` turns each `slack` message into the Lambda SNS
event and invokes the real handler; the message is deleted only when the handler succeeds, and after
Lambda's three attempts it goes to `dead_letters`, so a notification Slack never showed is counted lost.
Between attempts, the world's clock moves on as long as Lambda waits before a retry.
Slack is a SlackReceiver with two webhooks: `ops` takes every status, `alerts` only the ALERT_STATUSES.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from ggwatch.adapters.slack_webhook import SlackWebhookClient
from ggwatch.slack.webhooks import Webhook
from ggwatch_local.lambda_runtime import LambdaContext, sns_event
from ggwatch_local.slack_receiver import SlackReceiver
from ggwatch_local.stack import subscribe_queue
from tests.conftest import context_with
from tests.faults.faults import SimulatedCrash
from tests.faults.lives import Transition
from tests.queues import drain_envelopes

OPS_PATH = "/services/T0FAULTS/B0OPS/ops"
ALERTS_PATH = "/services/T0FAULTS/B0ALERTS/alerts"
BROKEN_PATH = "/services/T0FAULTS/B0BROKEN/broken"
"""A webhook Slack refuses every time (no_service), subscribed only to the world's `broken_statuses`:
each notification it wants fails all of Lambda's attempts and must end in the DLQ."""
ALERT_STATUSES = frozenset({"Failed", "Stopped", "TrackingFailed"})
LAMBDA_ATTEMPTS = 3
"""SNS invokes the Slack notifier asynchronously: one attempt and MaximumRetryAttempts (2) retries
(template.yaml)."""
LAMBDA_RETRY_DELAYS_SECONDS = (60, 120)
"""Lambda waits a minute before the first retry of a failed asynchronous invocation, two before the
second (Lambda developer guide, "How Lambda handles errors and retries with asynchronous invocation")."""
_TRANSITION = re.compile(r"^transition `([^`]+)`")
_SENT_AT = "2026-11-28T12:00:00.000Z"

SlackHandler = Callable[[dict[str, Any], LambdaContext], Any]


@dataclass(frozen=True)
class Published:
    """One message as the automation subscriber received it."""

    body: dict[str, Any]

    @property
    def transition_id(self) -> str:
        return str(self.body["transitionId"])

    @property
    def transition(self) -> Transition:
        return (self.body["deploymentId"], self.body["previousStatus"], self.body["status"])


@dataclass(frozen=True)
class SlackPost:
    """One message a Slack channel shows; the transition is read from the context block."""

    transition_id: str | None
    header: str

    @classmethod
    def of(cls, payload: Any) -> SlackPost:
        if not isinstance(payload, dict):
            return cls(None, str(payload))
        header = str(payload.get("blocks", [{}])[0].get("text", {}).get("text", ""))
        for attachment in payload.get("attachments") or []:
            for block in attachment.get("blocks") or []:
                if block.get("type") != "context":
                    continue
                for element in block.get("elements") or []:
                    found = _TRANSITION.match(str(element.get("text", "")))
                    if found:
                        return cls(found.group(1), header)
        return cls(None, header)


class KillablePoster:
    """The notifier's Slack client, killed (SimulatedCrash) while posting to a webhook named in
    `kills`, once per name: after it took its claim, before Slack has the message."""

    def __init__(self, client: SlackWebhookClient, kills: list[str]) -> None:
        self._client = client
        self._kills = kills

    @property
    def worst_case_seconds(self) -> float:
        return self._client.worst_case_seconds

    def post(self, webhook: Webhook, payload: Mapping[str, Any]) -> None:
        if webhook.name in self._kills:
            self._kills.remove(webhook.name)
            raise SimulatedCrash(f"killed while posting to {webhook.name}")
        self._client.post(webhook, payload)


def webhooks_secret(
    aws: boto3.session.Session, receiver: SlackReceiver, broken_statuses: frozenset[str] = frozenset()
) -> str:
    """The notifier's webhooks secret, pointing `ops` and `alerts` (and `broken`, when it wants some
    statuses) at the receiver; returns its ARN."""
    webhooks: list[dict[str, Any]] = [
        {"name": "ops", "url": receiver.url(OPS_PATH)},
        {"name": "alerts", "url": receiver.url(ALERTS_PATH), "statuses": sorted(ALERT_STATUSES)},
    ]
    if broken_statuses:
        webhooks.append(
            {"name": "broken", "url": receiver.url(BROKEN_PATH), "statuses": sorted(broken_statuses)}
        )
    secrets = aws.client("secretsmanager")
    return secrets.create_secret(Name="ggwatch/slack-webhooks", SecretString=json.dumps(webhooks))["ARN"]


class Subscribers:
    """The topic's two subscriptions; `published`, `dead_letters` and `slack_attempts` are what came."""

    def __init__(
        self, aws: boto3.session.Session, slack_handler: SlackHandler, *, wait: Callable[[float], None]
    ) -> None:
        self._aws = aws
        self._wait = wait
        self._sqs = aws.client("sqs")
        self._slack_handler = slack_handler
        self._queues: dict[str, str] = {}
        self._topic_arn = ""
        self._subscription_arns: dict[str, str] = {}
        self.published: list[Published] = []
        self.dead_letters: list[dict[str, Any]] = []
        self.slack_attempts: Counter[str] = Counter()

    def create_topic(self) -> str:
        """The topic with both subscriptions; returns its ARN."""
        topic = self._aws.client("sns")
        topic_arn = self._topic_arn = topic.create_topic(Name="ggwatch-notifications")["TopicArn"]
        for name in ("automation", "slack"):
            subscribed = subscribe_queue(topic, self._sqs, topic_arn, f"ggwatch-{name}", {})
            self._queues[name] = subscribed.queue_url
            self._subscription_arns[name] = subscribed.subscription_arn
        return topic_arn

    def drain(self) -> list[Published]:
        """Read what the automation subscriber received since the last drain (kept in `published`)."""
        received: list[Published] = []
        for envelope in drain_envelopes(self._sqs, self._queues["automation"]):
            received.append(Published(body=json.loads(envelope["Message"])))
        self.published += received
        return received

    def deliver_slack(self) -> None:
        """Invoke the Slack notifier for every message on its subscription, as Lambda would."""
        queue = self._queues["slack"]
        while True:
            messages = self._sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            done = [message for message in messages if self._invoke_slack(queue, message)]
            if done:
                self._sqs.delete_message_batch(
                    QueueUrl=queue,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )

    def send_to_slack(self, envelope: Mapping[str, Any]) -> None:
        """Put `envelope` on the notifier's subscription, with the fields SNS always sets added."""
        sent = {"Type": "Notification", "TopicArn": self._topic_arn, "Timestamp": _SENT_AT, **envelope}
        self._sqs.send_message(QueueUrl=self._queues["slack"], MessageBody=json.dumps(sent))

    def slack_empty(self) -> bool:
        """Nothing waits on the notifier's subscription, in flight or not."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queues["slack"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(int(value) == 0 for value in attributes.values())

    def _invoke_slack(self, queue: str, message: Mapping[str, Any]) -> bool:
        """One invocation; True when the message is done with (handled, or dead-lettered)."""
        envelope = json.loads(message["Body"])
        key = str(envelope.get("MessageId") or message["MessageId"])
        self.slack_attempts[key] += 1
        try:
            self._slack_handler(sns_event(envelope, self._subscription_arns["slack"]), context_with())
        except (Exception, SimulatedCrash):  # a failed or a killed invocation
            if self.slack_attempts[key] < LAMBDA_ATTEMPTS:
                self._wait(LAMBDA_RETRY_DELAYS_SECONDS[self.slack_attempts[key] - 1])
                self._sqs.change_message_visibility(
                    QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
                return False
            self.dead_letters.append(envelope)
        return True
