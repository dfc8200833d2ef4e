"""Every AWS call a handler really makes is granted to it by template.yaml — and nothing is missing.

The static policy tests say what each role may do; this one records what each handler actually calls
while it works (tracking, a whole deployment life, a deadline, Slack delivery with a failure and a
duplicate), so a new call without a matching grant fails here instead of in production.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.client import BaseClient

from ggwatch_local.greengrass import BulkDeploymentFake, Step
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from ggwatch_local.slack_receiver import SlackReceiver, server_error
from ggwatch_local.template import load_template
from tests.conftest import REGION, context_with
from tests.integration.conftest import TopicWithSubscriber
from tests.unit.test_template import granted

pytestmark = [
    pytest.mark.usefixtures("app_environment"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]


@pytest.fixture
def recorded_calls(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """IAM actions (`service:Operation`) of every SDK call made while the fixture is active."""
    calls: set[str] = set()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # private, but the one place every call passes

    def recording(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        calls.add(f"{self.meta.service_model.endpoint_prefix}:{operation_name}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def actions_granted(function: str) -> set[str]:
    return {action for action, _resource, _condition in granted(load_template(), function)}


def test_tracker_calls_are_granted(recorded_calls: set[str], lambda_context: LambdaContext) -> None:
    tracker = load_handler("tracker").lambda_handler
    tracker({"bulkDeploymentId": "bd-1"}, lambda_context)
    tracker({"bulkDeploymentId": "bd-1"}, lambda_context)
    tracker({"bulkDeploymentId": "bd-1", "action": "untrack"}, lambda_context)
    assert recorded_calls
    assert recorded_calls <= actions_granted("TrackerFunction")


def test_poller_calls_are_granted(
    recorded_calls: set[str],
    greengrass: BulkDeploymentFake,
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
) -> None:
    for deployment_id in ("bd-1", "bd-2"):
        greengrass.add(deployment_id, [Step("Running"), Step("Completed")])
        load_handler("tracker").lambda_handler({"bulkDeploymentId": deployment_id}, lambda_context)
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-unknown"}, lambda_context)
    recorded_calls.clear()
    poller = load_handler("poller").lambda_handler
    poller({}, context_with(remaining_ms=1_000))  # below the safety margin: stores a cursor, polls nothing
    poller({}, lambda_context)
    greengrass.advance("bd-1")
    poller({}, lambda_context)
    assert {
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "greengrass:GetBulkDeploymentStatus",
        "sns:Publish",
    } <= recorded_calls
    assert recorded_calls <= actions_granted("PollerFunction")


def test_slack_notifier_calls_are_granted(
    recorded_calls: set[str],
    monkeypatch: pytest.MonkeyPatch,
    greengrass: BulkDeploymentFake,
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
) -> None:
    greengrass.add("bd-1", [Step("Failed", error_message="boom")])
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-1"}, lambda_context)
    load_handler("poller").lambda_handler({}, lambda_context)
    [delivered] = topic.drain()
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(delivered.body)}}]}
    with SlackReceiver() as slack:
        secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="ggwatch/slack",
            SecretString=json.dumps(
                [{"name": "ops", "url": slack.url("/ops")}, {"name": "alerts", "url": slack.url("/alerts")}]
            ),
        )["ARN"]
        monkeypatch.setenv("SLACK_WEBHOOKS_SECRET_ARN", secret_arn)
        notifier = load_handler("slack_notifier")
        notifier.slack_delivery.cache_clear()
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        slack.script(server_error(), server_error(), server_error(), path="/alerts")
        recorded_calls.clear()
        with pytest.raises(Exception, match="alerts"):
            notifier.lambda_handler(event, lambda_context)
        notifier.lambda_handler(event, lambda_context)
        notifier.lambda_handler(event, lambda_context)
    assert {
        "secretsmanager:GetSecretValue",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
    } <= recorded_calls
    assert recorded_calls <= actions_granted("SlackNotifierFunction")
