"""Reading what SNS delivered to an SQS subscriber queue, the way every test and the fault harness do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def drain_envelopes(sqs: SQSClient, queue_url: str) -> Iterator[dict[str, Any]]:
    """Every SNS envelope on the queue until it is empty, each batch deleted once it has been read."""
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return
        for message in messages:
            yield json.loads(message["Body"])
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
