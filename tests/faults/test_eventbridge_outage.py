"""An EventBridge outage: nothing lost, nothing duplicated on the bus once it returns.

The world's handlers run with a bus (EVENT_BUS_NAME) on which a rule sends every ggwatch event to a
queue; a botocore hook on the handlers' session refuses every PutEvents while the outage lasts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ggwatch_local.lambda_runtime import load_handler
from tests.faults.lives import steps
from tests.faults.world import World
from tests.integration.test_eventbridge_publisher import EVERY_GGWATCH_EVENT, RuleQueue

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

THREE = ("bd-1", "bd-2", "bd-3")


class Outage:
    """While `on`, EventBridge refuses every PutEvents as a regional outage would (after the SDK's
    retries: the hook answers before the call, so each refusal is one failed call)."""

    def __init__(self) -> None:
        self.on = False
        self.refused = 0

    def refuse(self, **_: Any) -> None:
        if self.on:
            self.refused += 1
            error: Any = {"Error": {"Code": "InternalException", "Message": "outage"}}
            raise ClientError(error, "PutEvents")


@pytest.fixture
def world_with_bus(make_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch) -> tuple[World, Outage]:
    world = make_world()
    outage = Outage()
    boto3.DEFAULT_SESSION.events.register("before-call.events.PutEvents", outage.refuse)  # type: ignore[union-attr]
    monkeypatch.setenv("EVENT_BUS_NAME", "default")
    load_handler("poller").cold_start.cache_clear()  # a cold start that reads the bus and the hook
    return world, outage


def test_an_eventbridge_outage_loses_no_event_and_duplicates_none_once_it_returns(
    world_with_bus: tuple[World, Outage],
) -> None:
    world, outage = world_with_bus
    bus = RuleQueue.create("everything", EVERY_GGWATCH_EVENT)
    # Given three deployments notified as Running, now Completed
    for deployment_id in THREE:
        world.add(deployment_id, *steps("Running", "Completed"))
    world.run_until_quiet()
    for deployment_id in THREE:
        world.advance(deployment_id)

    # When EventBridge is down for three scheduled runs
    outage.on = True
    for _ in range(3):
        world.tick()
        world.poll()
    # Then no run stored a transition the bus did not take
    assert outage.refused >= 3
    world.drain()
    world.assert_honest(world.items(world.lives))
    assert all(world.item(d)["status"] == "Running" for d in THREE)

    # When it returns and the runs go on
    outage.on = False
    world.run_until_quiet()

    # Then every transition reached every channel once; the topic may hold copies (it took them
    # during the outage), the bus holds each transition exactly once
    world.check(copies_allowed=THREE)
    on_topic = {p.transition_id for p in world.published}
    on_bus = Counter(event["detail"]["transitionId"] for event in bus.drain())
    assert set(on_bus) == on_topic
    assert set(on_bus.values()) == {1}
