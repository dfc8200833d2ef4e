"""The events AWS would hand the functions, built from what the local stack returns.

A StartBulkDeployment call reaches the tracker as a CloudTrail event through EventBridge, and SNS
invokes the notifier with its own event shape; the local stack delivers neither, so they are made
here from boto3's answer and from the envelope SNS put on the queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .config import ACCOUNT_ID


def cloudtrail_start_event(
    answer: Mapping[str, Any],
    *,
    region: str,
    request_parameters: Mapping[str, Any] | None = None,
    account_id: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """The EventBridge event CloudTrail emits for a successful StartBulkDeployment call.

    `answer` is boto3's start_bulk_deployment response; CloudTrail writes its members camelCased.
    """
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.greengrass",
        "account": account_id,
        "time": now,
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "eventTime": now,
            "eventSource": "greengrass.amazonaws.com",
            "eventName": "StartBulkDeployment",
            "awsRegion": region,
            "sourceIPAddress": "127.0.0.1",
            "userAgent": "ggwatch-local",
            "requestParameters": dict(request_parameters or {}),
            "responseElements": {
                "bulkDeploymentId": answer["BulkDeploymentId"],
                "bulkDeploymentArn": answer["BulkDeploymentArn"],
            },
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account_id,
            "eventCategory": "Management",
        },
    }


def sns_event(envelope: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The Lambda SNS event for one message, from the envelope SNS delivered to an SQS subscriber.

    The envelope spells SigningCertURL and UnsubscribeURL; Lambda's event spells them ...Url, always
    carries Subject (null when absent) and MessageAttributes, and names the subscription.
    """
    region = str(envelope["TopicArn"]).split(":")[3]
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope["MessageId"],
                    "TopicArn": envelope["TopicArn"],
                    "Subject": envelope.get("Subject"),
                    "Message": envelope["Message"],
                    "Timestamp": envelope["Timestamp"],
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Signature": envelope.get("Signature", ""),
                    "SigningCertUrl": envelope.get("SigningCertURL", ""),
                    "UnsubscribeUrl": (
                        f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
                    ),
                    "MessageAttributes": {
                        name: {"Type": attribute["Type"], "Value": attribute["Value"]}
                        for name, attribute in (envelope.get("MessageAttributes") or {}).items()
                    },
                },
            }
        ]
    }
