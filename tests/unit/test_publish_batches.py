"""The batcher between the poller's workers and PublishBatch: calls of at most 10, each worker told
its own notification's result, and a call that fails failing only the notifications it carried."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from ggwatch.domain.notification import Notification
from ggwatch.exceptions import PublishError
from ggwatch.services.publish_batches import PublishBatcher
from tests.factories import notification
from tests.fakes import RecordingPublisher

FOREVER = 3600.0


def publish_together(
    batcher: PublishBatcher, notifications: Sequence[Notification]
) -> dict[str, BaseException | None]:
    """One worker per notification, all counted as started before any runs (as the dispatcher does);
    each worker's outcome by deployment ID."""
    outcomes: dict[str, BaseException | None] = {}

    def worker(item: Notification) -> None:
        try:
            batcher.publish(item)
            outcomes[item.deployment_id] = None
        except BaseException as error:  # the outcome under test
            outcomes[item.deployment_id] = error
        finally:
            batcher.finished()

    for _ in notifications:
        batcher.started()
    threads = [threading.Thread(target=worker, args=(item,)) for item in notifications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "a worker never heard from its batch"
    return outcomes


def burst(count: int) -> list[Notification]:
    return [notification(deployment_id=f"bd-{index:02d}", status="Running") for index in range(count)]


def test_workers_publishing_together_share_calls_of_at_most_ten() -> None:
    publisher = RecordingPublisher()
    outcomes = publish_together(PublishBatcher(publisher, linger_seconds=FOREVER), burst(25))
    assert sorted(len(batch) for batch in publisher.batches) == [5, 10, 10]
    assert set(outcomes.values()) == {None}
    assert sorted(n.deployment_id for n in publisher.published) == sorted(outcomes)


def test_a_refused_entry_fails_only_its_own_worker() -> None:
    publisher = RecordingPublisher()
    publisher.fail_next = 2
    outcomes = publish_together(PublishBatcher(publisher, linger_seconds=FOREVER), burst(6))
    failed = [d for d, outcome in outcomes.items() if outcome is not None]
    assert len(failed) == 2 and all(isinstance(outcomes[d], PublishError) for d in failed)
    assert sorted(n.deployment_id for n in publisher.published) == sorted(set(outcomes) - set(failed))


class FailingCall(RecordingPublisher):
    """A publish_batch call that raises instead of answering per entry (a bug, or the run killed)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        self.batches.append(list(notifications))
        raise self.error


class Killed(BaseException):
    pass


@pytest.mark.parametrize("error", [RuntimeError("bug"), Killed()], ids=["exception", "killed"])
def test_a_call_that_raises_reaches_every_worker_it_carried(error: BaseException) -> None:
    outcomes = publish_together(PublishBatcher(FailingCall(error), linger_seconds=FOREVER), burst(4))
    assert list(outcomes.values()) == [error] * 4


def test_a_notification_waits_no_longer_than_the_linger_for_others_to_join() -> None:
    publisher = RecordingPublisher()
    batcher = PublishBatcher(publisher, linger_seconds=0.0)
    # Given another worker started that has not published (it may never)
    batcher.started()
    batcher.started()
    # Then a notification leaves at once all the same
    batcher.publish(notification(deployment_id="bd-1"))
    assert [[n.deployment_id for n in batch] for batch in publisher.batches] == [["bd-1"]]


def test_a_notification_leaves_once_the_other_workers_finish_without_publishing() -> None:
    publisher = RecordingPublisher()
    batcher = PublishBatcher(publisher, linger_seconds=FOREVER)
    batcher.started()
    batcher.started()
    sent = threading.Event()

    def publish() -> None:
        batcher.publish(notification(deployment_id="bd-1"))
        sent.set()

    run_in_thread(publish)
    assert not sent.wait(timeout=0.2)  # the other worker could still add one
    batcher.finished()  # it finished without a transition
    assert sent.wait(timeout=10)
    assert len(publisher.batches) == 1


def run_in_thread(work: Callable[[], object]) -> None:
    threading.Thread(target=work, daemon=True).start()
