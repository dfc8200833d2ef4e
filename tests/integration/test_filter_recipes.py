"""The README's filter recipes, applied exactly as written, select exactly what they say.

Each recipe is read from the README (a line ending in `<!-- recipe: CHANNEL NAME [SCOPE] -->`, under
its visible label, and the JSON block after it) and applied on moto to notifications published through ggwatch's own publishers: an SNS
filter policy as a queue's subscription to the topic, an EventBridge pattern as a rule with a queue
as its target (moto's TestEventPattern answers true for anything, so only a real rule proves a pattern).
What arrives must be exactly the notifications the recipe's need describes, stated here in Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from ggwatch.adapters.eventbridge import EventBridgePublisher, Home
from ggwatch.adapters.sns import SnsNotificationPublisher
from ggwatch.domain.models import Metrics
from ggwatch.domain.notification import TRACKING_FAILED_EVENT, Notification
from ggwatch_local.stack import subscribe_queue
from ggwatch_local.template import load_template, resource
from tests.conftest import REGION
from tests.factories import notification
from tests.integration.conftest import TopicWithSubscriber
from tests.integration.test_eventbridge_publisher import RuleQueue
from tests.queues import drain_envelopes

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
ONE_DEPLOYMENT = "8e2a1c4f-0b7d-4c1e-9a55-2f6f1d0c3b21"
"""The deployment the README's one-deployment recipes name."""


@dataclass(frozen=True)
class Recipe:
    channel: str
    name: str
    scope: str | None
    text: str

    @property
    def filter(self) -> dict[str, Any]:
        value = json.loads(self.text)
        assert isinstance(value, dict)
        return value


def recipes() -> dict[tuple[str, str], Recipe]:
    """Every recipe in the README, by (channel, name)."""
    found = re.findall(
        r"<!-- recipe: (\w+) ([\w-]+)(?: (\w+))? -->\n```json\n(.*?)\n```",
        README,
        flags=re.MULTILINE | re.DOTALL,
    )
    return {
        (channel, name): Recipe(channel, name, scope or None, text) for channel, name, scope, text in found
    }


V1 = "greengrass-v1-bulk"
V2 = "greengrass-v2"


def _v1(deployment_id: str, status: str, invalid: int = 0, **fields: Any) -> Notification:
    metrics = Metrics({"recordsProcessed": 3, "invalidInputRecords": invalid, "retryAttempts": 0})
    return notification(deployment_id=deployment_id, status=status, metrics=metrics, **fields)


def _v2(deployment_id: str, status: str, **fields: Any) -> Notification:
    return notification(deployment_kind=V2, deployment_id=deployment_id, status=status, **fields)


CATALOG = [
    _v1("bd-running", "Running", tags={"team": "edge"}),
    _v1("bd-failed", "Failed", invalid=2, tags={"team": "core"}),
    _v1("bd-completed-invalid", "Completed", invalid=1),
    _v1("bd-completed", "Completed", tags={"team": "edge-lab"}),
    _v2(ONE_DEPLOYMENT, "ACTIVE", tags={"team": "edge"}),
    _v2("d-failed", "FAILED", tags={"team": "edge"}),
    _v2("d-unknown", "TrackingFailed", event_type=TRACKING_FAILED_EVENT),
    _v2("d-stuck", "ACTIVE", event_type="DeploymentStuck"),
    _v1("bd-stuck", "Running", event_type="DeploymentStuck", tags={"team": "edge"}),
    _v1("bd-recovered", "Running", event_type="DeploymentRecovered"),
    _v2("d-progress", "ACTIVE", event_type="DeploymentProgress"),
]
"""Notifications of every kind, status, event type and tag a recipe could confuse."""

Need = Callable[[Notification], bool]
NEEDS: dict[str, Need] = {
    "failures-only": lambda n: n.status in ("Failed", "FAILED"),
    "one-deployment": lambda n: n.deployment_id == ONE_DEPLOYMENT,
    "one-tag": lambda n: n.tags.get("team") == "edge",
    "one-kind": lambda n: n.deployment_kind == V2,
    "stuck-only": lambda n: n.event_type == "DeploymentStuck",
    "invalid-input-records": lambda n: n.deployment_kind == V1 and n.metrics.root["invalidInputRecords"] > 0,
}
"""What each recipe claims to select, by its name."""

SNS_RECIPES = ["failures-only", "one-deployment", "one-tag", "one-kind", "stuck-only"]
EVENTBRIDGE_RECIPES = [*SNS_RECIPES, "invalid-input-records"]


def test_the_readme_has_every_recipe_and_no_other() -> None:
    assert set(recipes()) == {("sns", name) for name in SNS_RECIPES} | {
        ("eventbridge", name) for name in EVENTBRIDGE_RECIPES
    }


def test_every_need_picks_some_of_the_catalog_and_leaves_some() -> None:
    for name, need in NEEDS.items():
        picked = [n for n in CATALOG if need(n)]
        assert 0 < len(picked) < len(CATALOG), name


def _with_ids(catalog: list[Notification]) -> list[Notification]:
    """The catalog with one transitionId per notification, to tell what arrived."""
    return [n.model_copy(update={"transition_id": f"{i:032x}"}) for i, n in enumerate(catalog)]


def _expected(name: str) -> list[str]:
    return sorted(n.transition_id for n in _with_ids(CATALOG) if NEEDS[name](n))


@pytest.mark.parametrize("name", SNS_RECIPES)
def test_an_sns_filter_policy_recipe_selects_exactly_its_notifications(
    topic: TopicWithSubscriber, name: str
) -> None:
    # Given a queue subscribed to the topic with the README's filter policy
    recipe = recipes()["sns", name]
    properties: dict[str, Any] = {"FilterPolicy": recipe.filter}
    if recipe.scope is not None:
        properties["FilterPolicyScope"] = recipe.scope
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    subscriber = subscribe_queue(sns, sqs, topic.topic_arn, f"recipe-{name}", properties)

    # When the catalog is published through ggwatch's SNS publisher
    publisher = SnsNotificationPublisher(topic.topic_arn)
    for n in _with_ids(CATALOG):
        publisher.publish(n)

    # Then the subscriber received exactly the notifications the recipe is for
    received = [json.loads(e["Message"])["transitionId"] for e in drain_envelopes(sqs, subscriber.queue_url)]
    assert sorted(received) == _expected(name)


@pytest.mark.parametrize("name", EVENTBRIDGE_RECIPES)
def test_an_eventbridge_pattern_recipe_selects_exactly_its_events(moto_aws: None, name: str) -> None:
    # Given a rule with the README's pattern, sending what it matches to a queue
    rule = RuleQueue.create(f"recipe-{name}", recipes()["eventbridge", name].filter)
    # And an event from someone else that looks like ggwatch's (only `source` tells them apart)
    boto3.client("events", region_name=REGION).put_events(
        Entries=[
            {
                "Source": "someone.else",
                "DetailType": "Deployment Stuck",
                "Detail": _with_ids(CATALOG)[0].to_json(),
            }
        ]
    )

    # When the catalog is put on the bus through ggwatch's EventBridge publisher
    publisher = EventBridgePublisher("default", Home("aws", REGION, "123456789012"))
    assert publisher.publish_batch(_with_ids(CATALOG)) == [None] * len(CATALOG)

    # Then the rule delivered exactly the events the recipe is for, all from ggwatch
    events = rule.drain()
    assert {e["source"] for e in events} <= {"ggwatch"}
    assert sorted(e["detail"]["transitionId"] for e in events) == _expected(name)


def test_the_templates_optional_rule_is_the_readmes_failures_only_pattern() -> None:
    rule = resource(load_template(), "FailedDeploymentsRule")["Properties"]
    assert rule["EventPattern"] == recipes()["eventbridge", "failures-only"].filter
