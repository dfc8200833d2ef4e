"""The EventBridge adapter and the poller's fan-out on moto: events that real rules match and deliver."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ggwatch.adapters.eventbridge import EventBridgePublisher, Home
from ggwatch.adapters.fanout import FanOutPublisher
from ggwatch.adapters.sns import SnsNotificationPublisher
from ggwatch.exceptions import PublishError
from ggwatch_local.greengrass import BulkDeploymentFake, Step
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from tests.conftest import REGION
from tests.factories import notification
from tests.integration.conftest import TopicWithSubscriber

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ACCOUNT = "123456789012"
HOME = Home("aws", REGION, ACCOUNT)
EVERY_GGWATCH_EVENT: Mapping[str, Any] = {"source": ["ggwatch"]}


@dataclass(frozen=True)
class RuleQueue:
    """A rule on a bus with an SQS queue as its target: what the rule matched lands on the queue."""

    queue_url: str

    @classmethod
    def create(cls, name: str, pattern: Mapping[str, Any], bus: str = "default") -> RuleQueue:
        sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
        queue_url = sqs.create_queue(QueueName=f"rule-{name}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
        return cls(queue_url)

    def drain(self) -> list[dict[str, Any]]:
        """Every event the rule delivered since the last drain."""
        sqs = boto3.client("sqs", region_name=REGION)
        events: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            events += [json.loads(m["Body"]) for m in messages]
            for m in messages:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return events


def test_a_notification_arrives_as_an_event_a_rule_on_the_bus_delivers(moto_aws: None) -> None:
    # Given a rule on a bus of its own, sending every ggwatch event to a queue
    boto3.client("events", region_name=REGION).create_event_bus(Name="ops")
    rule = RuleQueue.create("everything", EVERY_GGWATCH_EVENT, bus="ops")
    given = notification(deployment_id="bd-1", status="Failed", tags={"team": "edge"})

    # When the adapter puts the notification on that bus
    event_id = EventBridgePublisher("ops", HOME).publish(given)

    # Then the rule delivered it once, as the event the README describes
    [event] = rule.drain()
    assert event["id"] == event_id
    assert (event["source"], event["detail-type"]) == ("ggwatch", "Deployment Status Change")
    arn = f"arn:aws:greengrass:{REGION}:{ACCOUNT}:/greengrass/bulk/deployments/bd-1"
    assert event["resources"] == [arn]
    assert event["detail"] == {**json.loads(given.to_json()), "deploymentArn": arn}


def test_a_batch_larger_than_one_call_arrives_whole_and_in_order(moto_aws: None) -> None:
    rule = RuleQueue.create("everything", EVERY_GGWATCH_EVENT)
    batch = [notification(deployment_id=f"bd-{i}", error_message="x" * 60_000) for i in range(12)]
    assert EventBridgePublisher("default", HOME).publish_batch(batch) == [None] * 12
    assert sorted(e["detail"]["deploymentId"] for e in rule.drain()) == sorted(f"bd-{i}" for i in range(12))


def test_a_bus_that_does_not_exist_fails_every_notification(moto_aws: None) -> None:
    results = EventBridgePublisher("missing", HOME).publish_batch([notification(), notification()])
    assert all(isinstance(r, PublishError) and "ResourceNotFound" in str(r) for r in results)


def test_a_batch_through_the_fan_out_reaches_topic_and_bus_or_fails_where_the_bus_is_missing(
    topic: TopicWithSubscriber,
) -> None:
    rule = RuleQueue.create("everything", EVERY_GGWATCH_EVENT)
    sns = SnsNotificationPublisher(topic.topic_arn)
    batch = [notification(deployment_id=f"bd-{i}") for i in range(3)]

    assert FanOutPublisher([sns, EventBridgePublisher("default", HOME)]).publish_batch(batch) == [None] * 3
    assert len(topic.drain()) == len(rule.drain()) == 3

    missing = FanOutPublisher([sns, EventBridgePublisher("missing", HOME)]).publish_batch(batch)
    assert all(isinstance(result, PublishError) for result in missing)
    assert len(topic.drain()) == 3  # the topic's copies, which the retry repeats under one transitionId


# ---------------------------------------------------------------- the poller, topic and bus together


@pytest.fixture
def bus_rule(monkeypatch: pytest.MonkeyPatch, app_environment: Callable[[], None]) -> RuleQueue:
    """The poller puts its events on the default bus, where a rule sends every one to a queue."""
    monkeypatch.setenv("EVENT_BUS_NAME", "default")
    app_environment()
    return RuleQueue.create("everything", EVERY_GGWATCH_EVENT)


class Outage:
    """Refuses the next `calls` PutEvents calls of every client built after it, as EventBridge would
    in an outage (a botocore hook on a default session of its own, so no other test sees it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        session = boto3.session.Session(region_name=REGION)
        session.events.register("before-call.events.PutEvents", self._refuse)
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)

    def _refuse(self, **_: Any) -> None:
        if self.calls > 0:
            self.calls -= 1
            error: Any = {"Error": {"Code": "InternalException", "Message": "outage"}}
            raise ClientError(error, "PutEvents")


def test_the_poller_puts_every_transition_on_the_bus_beside_the_topic(
    bus_rule: RuleQueue,
    topic: TopicWithSubscriber,
    greengrass: BulkDeploymentFake,
    lambda_context: LambdaContext,
) -> None:
    # Given a tracked deployment that goes Running, then Completed
    greengrass.add("bd-1", [Step("Running"), Step("Completed")])
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-1"}, lambda_context)
    poller = load_handler("poller").lambda_handler

    # When the poller runs through its life
    poller({}, lambda_context)
    greengrass.advance("bd-1")
    poller({}, lambda_context)

    # Then the topic and the bus carried the same transitions, once each
    on_topic = [d.body for d in topic.drain()]
    on_bus = [e["detail"] for e in bus_rule.drain()]
    assert [b["status"] for b in on_topic] == ["Running", "Completed"]
    assert sorted(d["transitionId"] for d in on_bus) == sorted(b["transitionId"] for b in on_topic)


def test_a_transition_the_bus_refused_is_not_stored_and_the_next_run_puts_it(
    bus_rule: RuleQueue,
    topic: TopicWithSubscriber,
    greengrass: BulkDeploymentFake,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    app_environment: Callable[[], None],
) -> None:
    # Given a tracked deployment, and EventBridge refusing the poller's next PutEvents
    outage = Outage(monkeypatch)
    app_environment()  # a cold start: the poller's clients come from the session with the outage
    greengrass.add("bd-1", [Step("Running")])
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-1"}, lambda_context)
    outage.calls = 1
    poller = load_handler("poller").lambda_handler

    # When the poller runs, then runs again
    first = poller({}, lambda_context)
    on_topic_first = [d.body["transitionId"] for d in topic.drain()]
    on_bus_first = bus_rule.drain()
    second = poller({}, lambda_context)

    # Then the first run failed the transition (the topic had taken it) and stored nothing; the
    # second put it on the bus once, and the topic's copy carries the same transitionId
    assert (first["transitions"], first["failed"]) == (0, 1)
    assert on_bus_first == []
    assert (second["transitions"], second["failed"]) == (1, 0)
    on_topic_second = [d.body["transitionId"] for d in topic.drain()]
    on_bus = [e["detail"]["transitionId"] for e in bus_rule.drain()]
    assert len(on_bus) == 1
    assert on_topic_first == on_topic_second == on_bus
