"""The fault harness checks itself: an invariant checker that cannot fail would prove nothing."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

import pytest

from ggwatch_local.greengrass import Step
from ggwatch_local.slack_receiver import server_error
from tests.faults.channels import ALERTS_PATH, BROKEN_PATH, OPS_PATH
from tests.faults.faults import aws_error, crash
from tests.faults.lives import steps
from tests.faults.world import World

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_the_checker_counts_an_event_dead_lettered_after_lambdas_attempts_as_lost(world: World) -> None:
    # Given the alerts webhook fails every attempt of every invocation
    world.add("bd-1", Step("Running"), Step("Failed", records_processed=1))
    world.receiver.script(*[server_error()] * 9, path=ALERTS_PATH)
    world.run_until_quiet()
    world.advance("bd-1")
    world.run_until_quiet()

    # Then the event went to the dead-letter queue after three invocations, and the check says lost
    assert len(world.dead_letters) == 1
    assert max(world.slack_attempts.values()) == 3
    with pytest.raises(AssertionError, match=r"alerts: lost") as raised:
        world.check()
    assert "dead-lettered" in str(raised.value)


def test_the_checker_wants_a_refused_notification_in_the_dlq_and_nowhere_lost(
    make_world: Callable[..., World],
) -> None:
    # Given a third webhook that Slack always refuses wants Failed notifications
    world = make_world(broken_statuses=frozenset({"Failed"}))
    world.add("bd-1", Step("Running"), Step("Failed", records_processed=1))
    world.run_until_quiet()
    world.advance("bd-1")
    world.run_until_quiet()

    # Then the Failed event failed all three attempts and is in the DLQ, while ops and alerts have it
    assert world.receiver.messages_to(BROKEN_PATH) == []
    assert max(world.slack_attempts.values()) == 3
    assert world.check().dead_lettered == 1

    # And had it vanished instead of reaching the DLQ, the check would say so
    world.dead_letters.clear()
    with pytest.raises(AssertionError, match=r"refused but not in the DLQ"):
        world.check()


def test_the_checker_catches_a_second_post_of_one_transition(world: World) -> None:
    # Given every transition was delivered once
    world.add("bd-1", *steps("Running", "Completed"))
    world.run_until_quiet()
    world.check()

    # When, a minute later, the same message is posted to ops a second time
    world.tick()
    payload = json.dumps(world.receiver.messages_to(OPS_PATH)[0]).encode()
    request = urllib.request.Request(world.receiver.url(OPS_PATH), data=payload, method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        answer.read()

    # Then the check fails, naming the duplicate
    with pytest.raises(AssertionError, match=r"ops: unexpected or duplicated"):
        world.check()


def test_the_checker_rejects_copies_unless_a_failure_after_publishing_allows_them(world: World) -> None:
    # Given a crash after SNS took bd-1's notification, so that a later run publishes it again
    world.add("bd-1", *steps("Running", "Completed"))
    world.calls.inject("publish", crash, phase="after", deployment_id="bd-1")
    world.run_until_quiet()

    # Then copies are flagged, unless the test says where they may come from
    with pytest.raises(AssertionError, match=r"automation: 2 copies"):
        world.check()
    assert world.check(copies_allowed={"bd-1"}).duplicates_dropped == 1


def test_the_checker_counts_a_transition_that_never_came_as_lost(world: World) -> None:
    # Given SNS refused every publish, so nothing was delivered
    world.add("bd-1", *steps("Running", "Completed"))
    world.calls.inject("publish", aws_error(), times=None)
    for _ in range(3):
        world.tick(200)
        world.poll()
    world.calls.clear()

    # Then the expected transition is reported lost on every channel it was due on
    with pytest.raises(AssertionError, match=r"automation: lost") as raised:
        world.check()
    assert "ops: lost" in str(raised.value)
