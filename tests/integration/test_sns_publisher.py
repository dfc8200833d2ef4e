"""The SNS adapter on moto: body, filterable attributes, size guard and errors."""

from __future__ import annotations

import json

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
