"""One publisher over several (the SNS topic, then the EventBridge bus): a notification counts as
published only when every one of them took it.

A failure anywhere is a PublishError for that notification, so the poller releases its claim and
publishes it again with the same transitionId: the publishers before the one that failed may then
carry a copy (subscribers drop copies by transitionId), and none is ever left without it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ggwatch.domain.notification import Notification
from ggwatch.exceptions import PublishError


class BatchPublisher(Protocol):
    """A publisher that takes one notification or a batch (see NotificationPublisher)."""

    def publish(self, notification: Notification) -> str: ...

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]: ...


def one_by_one(
    publish: Callable[[Notification], object], notifications: Sequence[Notification]
) -> list[PublishError | None]:
    """`publish_batch` for a publisher that sends each notification alone: one result each, in order."""
    results: list[PublishError | None] = []
    for notification in notifications:
        try:
            publish(notification)
        except PublishError as error:
            results.append(error)
        else:
            results.append(None)
    return results


class FanOutPublisher:
    """Publishes to each of `publishers` in turn; a later one only gets what every earlier one took."""

    def __init__(self, publishers: Sequence[BatchPublisher]) -> None:
        if not publishers:
            raise ValueError("a fan-out needs at least one publisher")
        self._publishers = tuple(publishers)

    def publish(self, notification: Notification) -> str:
        """Publish everywhere; returns the first publisher's message ID, or raises the first failure."""
        first, *rest = self._publishers
        message_id = first.publish(notification)
        for publisher in rest:
            publisher.publish(notification)
        return message_id

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        """One result per notification, in order: None where every publisher took it."""
        results: list[PublishError | None] = [None] * len(notifications)
        for publisher in self._publishers:
            waiting = [i for i, result in enumerate(results) if result is None]
            if not waiting:
                break
            answers = publisher.publish_batch([notifications[i] for i in waiting])
            for index, answer in zip(waiting, answers, strict=True):
                results[index] = answer
        return results
