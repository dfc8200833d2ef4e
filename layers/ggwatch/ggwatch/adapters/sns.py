"""Publishing notifications to the SNS topic, the hub every channel subscribes to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ggwatch.adapters.aws_errors import error_code, error_message
from ggwatch.adapters.fanout import one_by_one
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.domain.notification import Notification, fit_to_size
from ggwatch.exceptions import PublishError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class SnsNotificationPublisher:
    """Publishes the JSON body with string message attributes for subscription filter policies."""

    def __init__(self, topic_arn: str, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = client or boto3.client("sns", config=API_CONFIG)

    def publish(self, notification: Notification) -> str:
        notification = fit_to_size(notification)
        try:
            answer = self._client.publish(
                TopicArn=self._topic_arn,
                Message=notification.to_json(),
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in notification.message_attributes().items()
                },
            )
        except ClientError as error:
            raise PublishError(f"SNS answered {error_code(error)}: {error_message(error)}") from error
        except BotoCoreError as error:
            raise PublishError(f"SNS publish failed: {error}") from error
        return answer["MessageId"]

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        """Each notification in turn: one result each, in order, None where SNS took it."""
        return one_by_one(self.publish, notifications)
