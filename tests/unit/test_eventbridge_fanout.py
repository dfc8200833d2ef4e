"""The fan-out to the topic and the bus: a notification is published only when both took it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ggwatch.adapters.fanout import FanOutPublisher, one_by_one
from ggwatch.domain.notification import Notification
from ggwatch.exceptions import PublishError
from tests.factories import notification


class _Channel:
    """Takes every notification except those of the deployments in `refuses`."""

    def __init__(self, name: str, refuses: Sequence[str] = ()) -> None:
        self.name = name
        self.refuses = set(refuses)
        self.taken: list[str] = []

    def publish(self, notification: Notification) -> str:
        if notification.deployment_id in self.refuses:
            raise PublishError(f"{self.name} refused {notification.deployment_id}")
        self.taken.append(notification.deployment_id)
        return f"{self.name}-{len(self.taken)}"

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        return one_by_one(self.publish, notifications)


def batch(*deployment_ids: str) -> list[Notification]:
    return [notification(deployment_id=d) for d in deployment_ids]


def test_a_batch_is_published_where_both_took_it_and_the_bus_gets_only_what_the_topic_took() -> None:
    # Given a topic refusing bd-2 and a bus refusing bd-3
    topic, bus = _Channel("sns", refuses=["bd-2"]), _Channel("events", refuses=["bd-3"])

    # When a batch of four goes through the fan-out
    results = FanOutPublisher([topic, bus]).publish_batch(batch("bd-1", "bd-2", "bd-3", "bd-4"))

    # Then only bd-1 and bd-4 count as published; bd-2 and bd-3 fail with their channel's error
    assert [r is None for r in results] == [True, False, False, True]
    assert "sns refused bd-2" in str(results[1])
    assert "events refused bd-3" in str(results[2])
    # And the bus was never given bd-2, which the topic did not take (its retry brings it once)
    assert bus.taken == ["bd-1", "bd-4"]
    assert topic.taken == ["bd-1", "bd-3", "bd-4"]


def test_a_single_notification_the_bus_refused_is_a_publish_error_after_the_topic_took_it() -> None:
    topic, bus = _Channel("sns"), _Channel("events", refuses=["bd-1"])
    fanout = FanOutPublisher([topic, bus])
    with pytest.raises(PublishError, match="events refused"):
        fanout.publish(notification(deployment_id="bd-1"))
    assert topic.taken == ["bd-1"]


def test_a_single_notification_the_topic_refused_never_reaches_the_bus() -> None:
    topic, bus = _Channel("sns", refuses=["bd-1"]), _Channel("events")
    with pytest.raises(PublishError, match="sns refused"):
        FanOutPublisher([topic, bus]).publish(notification(deployment_id="bd-1"))
    assert bus.taken == []


def test_a_notification_both_took_answers_the_topics_message_id() -> None:
    assert FanOutPublisher([_Channel("sns"), _Channel("events")]).publish(notification()) == "sns-1"
