"""Publishing notifications to the SNS topic, the hub every channel subscribes to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ggwatch.adapters.aws_errors import error_code, error_message
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.domain.notification import Notification, fit_to_size, sns_message_size
from ggwatch.domain.sizes import SNS_MESSAGE_MAX_BYTES
from ggwatch.exceptions import PublishError
from ggwatch.ports import PUBLISH_BATCH_MAX

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef, PublishBatchRequestEntryTypeDef

BATCH_MAX_BYTES = SNS_MESSAGE_MAX_BYTES
"""PublishBatch's limit on all of a call's messages together, attributes included (256 KB)."""


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
                MessageAttributes=_attributes(notification),
            )
        except ClientError as error:
            raise PublishError(f"SNS answered {error_code(error)}: {error_message(error)}") from error
        except BotoCoreError as error:
            raise PublishError(f"SNS publish failed: {error}") from error
        return answer["MessageId"]

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        """PublishBatch calls of up to 10 messages and 256 KB together (a burst of large failure
        reports takes more calls); each entry's own result, a failed call failing all of its entries."""
        if len(notifications) > PUBLISH_BATCH_MAX:
            raise ValueError(f"at most {PUBLISH_BATCH_MAX} notifications a batch, not {len(notifications)}")
        fitted = [fit_to_size(notification) for notification in notifications]
        results: list[PublishError | None] = []
        for start, end in _calls([sns_message_size(notification) for notification in fitted]):
            results += self._publish_call(fitted[start:end])
        return results

    def _publish_call(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        entries: list[PublishBatchRequestEntryTypeDef] = [
            {
                "Id": str(index),  # unique within the call, which is all SNS asks
                "Message": notification.to_json(),
                "MessageAttributes": _attributes(notification),
            }
            for index, notification in enumerate(notifications)
        ]
        try:
            answer = self._client.publish_batch(TopicArn=self._topic_arn, PublishBatchRequestEntries=entries)
        except ClientError as error:
            failed = PublishError(f"SNS answered {error_code(error)}: {error_message(error)}")
            return [failed] * len(notifications)
        except BotoCoreError as error:
            return [PublishError(f"SNS publish failed: {error}")] * len(notifications)
        published = {entry.get("Id") for entry in answer.get("Successful", [])}
        refused = {
            entry["Id"]: PublishError(f"SNS answered {entry.get('Code')}: {entry.get('Message', '')}")
            for entry in answer.get("Failed", [])
        }
        return [
            None
            if entry["Id"] in published and entry["Id"] not in refused
            else refused.get(entry["Id"], PublishError("SNS did not answer for this message"))
            for entry in entries
        ]


def _attributes(notification: Notification) -> dict[str, MessageAttributeValueTypeDef]:
    return {
        name: {"DataType": "String", "StringValue": value}
        for name, value in notification.message_attributes().items()
    }


def _calls(sizes: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs of messages whose sizes together fit one PublishBatch call."""
    calls: list[tuple[int, int]] = []
    start, total = 0, 0
    for index, size in enumerate(sizes):
        if index > start and total + size > BATCH_MAX_BYTES:
            calls.append((start, index))
            start, total = index, 0
        total += size
    if sizes:
        calls.append((start, len(sizes)))
    return calls
