"""The publisher a polling pass sends its transitions through: the topic, then the bus when one is set.

The poller Lambda and `ggwatch poll` both build it here, so a transition the CLI publishes reaches
exactly what a scheduled poll's would. The bus is optional (EVENT_BUS_NAME): its publisher and the
fan-out are imported only when one is set, not at every cold start of a topic-only stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ggwatch.adapters.sns import SnsNotificationPublisher

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sns import SNSClient

    from ggwatch.adapters.fanout import FanOutPublisher


def notification_publisher(
    topic_arn: str, bus_name: str | None, *, sns: SNSClient, events: Callable[[], EventBridgeClient]
) -> SnsNotificationPublisher | FanOutPublisher:
    """The topic alone when no bus is set; else both, a transition counting as published once both
    took it. `events` builds the EventBridge client only when there is a bus."""
    topic = SnsNotificationPublisher(topic_arn, client=sns)
    if bus_name is None:
        return topic
    from ggwatch.adapters.eventbridge import EventBridgePublisher, Home
    from ggwatch.adapters.fanout import FanOutPublisher

    return FanOutPublisher([topic, EventBridgePublisher(bus_name, Home.of(topic_arn), client=events())])
