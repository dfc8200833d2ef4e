"""The SNS adapter on moto: body, filterable attributes, size guard and errors."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from ggwatch.adapters.sns import SnsNotificationPublisher
from ggwatch.exceptions import PublishError
from ggwatch_local.stack import subscribe_queue
from tests.conftest import REGION
from tests.factories import notification
from tests.integration.conftest import TopicWithSubscriber


def test_published_body_and_attributes_reach_a_subscriber(topic: TopicWithSubscriber) -> None:
    publisher = SnsNotificationPublisher(topic.topic_arn)
    message_id = publisher.publish(notification(previous_status="Initializing", status="Running"))
    [delivered] = topic.drain()
    assert message_id
    assert delivered.body["status"] == "Running"
    assert delivered.attributes["previousStatus"] == "Initializing"


def test_filter_policy_subscribers_receive_only_what_they_asked_for(topic: TopicWithSubscriber) -> None:
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    failures_only = {"FilterPolicy": {"status": ["Failed"]}}
    queue_url = subscribe_queue(sns, sqs, topic.topic_arn, "failures-only", failures_only).queue_url
    publisher = SnsNotificationPublisher(topic.topic_arn)
    publisher.publish(notification(status="Running"))
    publisher.publish(notification(status="Failed"))
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(received) == 1
    assert json.loads(json.loads(received[0]["Body"])["Message"])["status"] == "Failed"


def test_oversized_error_text_is_truncated_and_still_published(topic: TopicWithSubscriber) -> None:
    SnsNotificationPublisher(topic.topic_arn).publish(
        notification(status="Failed", error_message="x" * 300_000)
    )
    [delivered] = topic.drain()
    assert delivered.body["truncated"] is True
    assert delivered.body["errorMessage"].endswith("[truncated by ggwatch]")


def test_unknown_topic_is_a_publish_error(moto_aws: None) -> None:
    publisher = SnsNotificationPublisher(f"arn:aws:sns:{REGION}:123456789012:missing")
    with pytest.raises(PublishError, match="NotFound"):
        publisher.publish(notification())


def test_a_batch_of_ten_is_one_call_and_each_reaches_the_subscriber_once(topic: TopicWithSubscriber) -> None:
    client, calls = client_counting_batches()
    batch = [notification(deployment_id=f"bd-{index}", status="Running") for index in range(10)]
    results = SnsNotificationPublisher(topic.topic_arn, client=client).publish_batch(batch)
    assert results == [None] * 10 and calls == [10]
    delivered = topic.drain()
    assert sorted(d.body["deploymentId"] for d in delivered) == sorted(n.deployment_id for n in batch)
    assert {d.attributes["deploymentId"] for d in delivered} == {n.deployment_id for n in batch}


def test_a_refused_entry_is_failed_on_its_own(
    topic: TopicWithSubscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_entry(monkeypatch, "bd-2")
    batch = [notification(deployment_id=f"bd-{index}", status="Running") for index in range(4)]
    results = SnsNotificationPublisher(topic.topic_arn).publish_batch(batch)
    assert [result is None for result in results] == [True, True, False, True]
    assert "InvalidParameter" in str(results[2])
    assert sorted(d.body["deploymentId"] for d in topic.drain()) == ["bd-0", "bd-1", "bd-3"]


def test_a_failed_call_fails_every_entry(moto_aws: None) -> None:
    publisher = SnsNotificationPublisher(f"arn:aws:sns:{REGION}:123456789012:missing")
    results = publisher.publish_batch(
        [notification(deployment_id="bd-1"), notification(deployment_id="bd-2")]
    )
    assert len(results) == 2 and all(isinstance(r, PublishError) and "NotFound" in str(r) for r in results)


def test_messages_over_256_kb_together_take_more_calls(topic: TopicWithSubscriber) -> None:
    client, calls = client_counting_batches()
    # Four failure reports of about 100 KB each: no call may carry more than two of them
    batch = [
        notification(deployment_id=f"bd-{index}", status="Failed", error_message="x" * 100_000)
        for index in range(4)
    ]
    assert SnsNotificationPublisher(topic.topic_arn, client=client).publish_batch(batch) == [None] * 4
    assert calls == [2, 2]
    assert len(topic.drain()) == 4


def refuse_entry(monkeypatch: pytest.MonkeyPatch, deployment_id: str) -> None:
    """moto's SNS refuses one deployment's message as invalid, so PublishBatch answers it in Failed."""
    from moto.sns.exceptions import InvalidParameterValue
    from moto.sns.models import SNSBackend

    publish = SNSBackend.publish

    def refusing(self: SNSBackend, message: str, **kwargs: Any) -> str:
        if json.loads(message).get("deploymentId") == deployment_id:
            raise InvalidParameterValue("refused by the test")
        return publish(self, message, **kwargs)

    monkeypatch.setattr(SNSBackend, "publish", refusing)


def client_counting_batches() -> tuple[Any, list[int]]:
    """An SNS client, and the entries of each PublishBatch call it makes, in order."""
    client = boto3.client("sns", region_name=REGION)
    calls: list[int] = []
    client.meta.events.register(
        "before-parameter-build.sns.PublishBatch",
        lambda params, **_: calls.append(len(params["PublishBatchRequestEntries"])),
    )
    return client, calls
