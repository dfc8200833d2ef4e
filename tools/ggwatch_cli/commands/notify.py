"""`ggwatch test-notify`: publish one clearly marked test notification to the real topic.

It travels the same way as a real transition (SNS, then every subscription: the Slack notifier, email,
queues), so seeing it arrive proves the whole delivery path after a deploy. It is a valid schema
version 1 message that no deployment caused: its eventType (`DeploymentTest`), its kind
(`ggwatch-test`), its ID and a tag say so, and automation that acts on `DeploymentStatusChange` events
ignores it.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from ggwatch_cli.commands import Subparsers, add_command, aws_options, json_option

if TYPE_CHECKING:
    from ggwatch.domain.notification import Notification

TEST_EVENT = "DeploymentTest"
TEST_KIND = "ggwatch-test"
TEST_STATUS = "Test"
TEST_TAG = ("ggwatch", "test notification sent by 'ggwatch test-notify': no deployment changed")


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "test-notify",
        summary="publish a test notification to every channel",
        description="Publish one test notification to the topic, as the poller publishes a transition, "
        "so that every subscriber (Slack webhooks, email, queues) shows it: the check that a deploy "
        f"works end to end. It is marked as a test (eventType {TEST_EVENT}, deploymentKind "
        f"{TEST_KIND}, a deployment ID starting with ggwatch-test-) and changes no stored state. "
        "Webhooks and subscriptions that filter on status receive it only when --status is one of theirs.",
        examples=[
            "ggwatch test-notify --stack ggwatch",
            "ggwatch test-notify --status Failed   # reaches webhooks that only want failures",
        ],
        run=run,
        parents=[aws_options(topic=True)],
    )
    parser.add_argument(
        "--status",
        default=TEST_STATUS,
        metavar="STATUS",
        help=f"the status the test notification carries (default: {TEST_STATUS})",
    )
    json_option(parser)


def run(args: argparse.Namespace) -> int:
    from datetime import UTC
    from uuid import uuid4

    from ggwatch.adapters.sdk_config import API_CONFIG
    from ggwatch.adapters.sns import SnsNotificationPublisher
    from ggwatch_cli.commands.context import aws_command
    from ggwatch_cli.output import dumps

    with aws_command(args) as aws:
        topic_arn = aws.config.topic_arn()
        session = aws.session
        notification = make_test_notification(
            transition_id=uuid4().hex, region=session.region_name, status=args.status, now=datetime.now(UTC)
        )
        publisher = SnsNotificationPublisher(topic_arn, client=session.client("sns", config=API_CONFIG))
        message_id = publisher.publish(notification)
    if args.json:
        body = notification.model_dump(mode="json", by_alias=True)
        print(dumps({"topicArn": topic_arn, "messageId": message_id, "notification": body}))
    else:
        print(
            f"published test notification {notification.deployment_id} (status {notification.status}) "
            f"to {topic_arn}, SNS message ID {message_id}\n"
            "every subscriber shows it within a minute; in Slack look for "
            f"'{notification.status} · {notification.deployment_id}'"
        )
    return 0


def make_test_notification(
    *, transition_id: str, region: str | None, status: str, now: datetime
) -> Notification:
    """A schema-valid notification that says it is a test wherever a reader looks: ID, kind, tag."""
    from ggwatch.domain.models import DeploymentKind, Metrics
    from ggwatch.domain.notification import Notification
    from ggwatch.domain.transitions import iso

    return Notification(
        event_type=TEST_EVENT,
        deployment_kind=TEST_KIND,
        transition_id=transition_id,
        deployment_id=f"ggwatch-test-{now.strftime('%Y%m%dT%H%M%SZ')}",
        deployment_arn=None,
        region=region,
        previous_status=None,
        status=status,
        terminal=True,
        changes=("status",),
        metrics=Metrics.zero(DeploymentKind.GREENGRASS_V1_BULK),
        error_message=None,
        error_details=(),
        created_at=None,
        observed_at=iso(now),
        tags=dict([TEST_TAG]),
    )
