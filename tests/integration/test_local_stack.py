"""The local stack: resources as template.yaml defines them, reachable through the standard AWS
environment alone, and the real handlers running against it as Lambda would run them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ggwatch_local.event_capture import CAPTURE_PATTERN
from ggwatch_local.greengrass import BulkDeploymentFake, ErrorDetail, Step
from ggwatch_local.greengrass_v2 import lives
from ggwatch_local.lambda_runtime import (
    FunctionConfig,
    Invocation,
    LambdaRuntime,
    SnsQueueDelivery,
    applied_environment,
    cloudtrail_start_event,
    load_handler,
)
from ggwatch_local.stack import ALERT_STATUSES, LocalStack
from ggwatch_local.template import Resolver, dynamodb_table_definition, load_template, ttl_attribute

SAMPLE_SNS_EVENT = Path(__file__).resolve().parents[2] / "events" / "slack_notifier_sns.json"


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    """A stack per test: another test's mock_aws() resets moto's in-process state when it starts."""
    with LocalStack(fake=BulkDeploymentFake(allow_concurrent_starts=True)) as started:
        yield started


def test_resources_are_built_as_the_template_defines_them(stack: LocalStack) -> None:
    # Given the template's own definitions
    template = load_template()
    expected = dynamodb_table_definition(template)
    info = stack.info

    # When the started stack's resources are described
    dynamodb = stack.client("dynamodb")
    table = dynamodb.describe_table(TableName=info.table_name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=info.table_name)["TimeToLiveDescription"]
    topic = stack.client("sns").get_topic_attributes(TopicArn=info.topic_arn)["Attributes"]
    subscriptions = stack.client("sns").list_subscriptions_by_topic(TopicArn=info.topic_arn)["Subscriptions"]
    secret = stack.client("secretsmanager").get_secret_value(SecretId=info.slack_secret_arn)

    # Then keys, index and TTL are the template's
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
    assert [
        (index["IndexName"], index["KeySchema"], index["Projection"])
        for index in table["GlobalSecondaryIndexes"]
    ] == [
        (index["IndexName"], index["KeySchema"], index["Projection"])
        for index in expected["GlobalSecondaryIndexes"]
    ]
    assert ttl == {"AttributeName": ttl_attribute(template), "TimeToLiveStatus": "ENABLED"}
    # and the topic carries the template's attributes
    properties = template["Resources"]["NotificationsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == properties["KmsMasterKeyId"]
    # and the notifier's SNS subscription is stood in for by a queue, not raw, so envelopes arrive
    queue = info.subscriptions["SlackNotifierFunction"]
    assert [(s["Protocol"], s["SubscriptionArn"]) for s in subscriptions] == [("sqs", queue.subscription_arn)]
    # and the webhooks secret lists both local channels with their filters
    webhooks = json.loads(secret["SecretString"])
    assert webhooks == [
        {"url": info.slack_channels["ops"], "name": "ops"},
        {"url": info.slack_channels["alerts"], "name": "alerts", "statuses": list(ALERT_STATUSES)},
    ]
    assert all(url.startswith("http://127.0.0.1:") for url in info.slack_channels.values())


@pytest.mark.parametrize("bus_name", ["default", "ggwatch-automation"])
def test_the_bus_is_the_templates_and_a_rule_captures_every_ggwatch_event_on_it(bus_name: str) -> None:
    # Given a template whose EventBusName names the default bus or one of its own
    template = load_template()
    template["Parameters"]["EventBusName"]["Default"] = bus_name

    # When a stack is built from it
    with LocalStack(fake=BulkDeploymentFake(), template=template) as stack:
        info = stack.info
        events = stack.client("events")
        queue_arn = stack.client("sqs").get_queue_attributes(
            QueueUrl=info.events_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        # (moto's state outlives a stack: rules of other stacks in this process may share the bus)
        patterns = [
            json.loads(rule["EventPattern"])
            for rule in events.list_rules(EventBusName=bus_name)["Rules"]
            for target in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus_name)["Targets"]
            if target["Arn"] == queue_arn
        ]
        environment = stack.environment()

    # Then the poller is pointed at that bus, as the template points it at EventBusName
    resolve = Resolver(template, stack_name="ggwatch-local")
    assert environment["EVENT_BUS_NAME"] == info.event_bus_name == resolve({"Ref": "EventBusName"})
    # and one rule on it sends every event from ggwatch to the capture queue
    assert patterns == [CAPTURE_PATTERN]


def test_plain_boto3_clients_reach_every_service_through_the_environment(stack: LocalStack) -> None:
    # Given a deployment the Greengrass simulator knows
    deployment_id = stack.fake.add(life=[Step("Running")])
    fleet_deployment = stack.fleet.add(lives.single_device())
    environment = stack.environment()

    # When clients are built with no arguments at all, from the environment only
    with applied_environment(environment):
        session = boto3.session.Session()
        table = session.client("dynamodb").describe_table(TableName=environment["TABLE_NAME"])["Table"]
        topic = session.client("sns").get_topic_attributes(TopicArn=environment["TOPIC_ARN"])["Attributes"]
        secret = session.client("secretsmanager").describe_secret(
            SecretId=environment["SLACK_WEBHOOKS_SECRET_ARN"]
        )
        queues = session.client("sqs").list_queues()["QueueUrls"]
        status = session.client("greengrass").get_bulk_deployment_status(BulkDeploymentId=deployment_id)
        v2 = session.client("greengrassv2").get_deployment(deploymentId=fleet_deployment)
        job = session.client("iot").describe_job(jobId=v2["iotJobId"])["job"]

    # Then each one answers from the local stack
    assert table["TableName"] == stack.info.table_name
    assert topic["TopicArn"] == stack.info.topic_arn
    assert secret["ARN"] == stack.info.slack_secret_arn
    assert stack.info.subscriptions["SlackNotifierFunction"].queue_url in queues
    assert status["BulkDeploymentStatus"] == "Running"
    assert (v2["deploymentStatus"], job["jobProcessDetails"]["numberOfQueuedThings"]) == ("ACTIVE", 1)


def test_a_local_environment_shuts_out_the_shell_and_is_restored_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a developer's shell that points at a real profile and another DynamoDB endpoint
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "https://dynamodb.example.invalid")
    monkeypatch.delenv("TABLE_NAME", raising=False)

    # When a local environment is applied, then left
    with applied_environment({"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "TABLE_NAME": "local"}):
        inside = {
            name: os.environ.get(name) for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB", "TABLE_NAME")
        }

    # Then nothing of the shell could steer the run elsewhere, and the shell is as it was
    assert inside == {"AWS_PROFILE": None, "AWS_ENDPOINT_URL_DYNAMODB": None, "TABLE_NAME": "local"}
    assert os.environ["AWS_PROFILE"] == "production"
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == "https://dynamodb.example.invalid"
    assert "TABLE_NAME" not in os.environ


def test_the_handlers_track_poll_and_post_to_slack_against_the_stack(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a deployment started in the Greengrass simulator, held at each step until advanced
    fake = stack.fake
    failed = Step(
        "Failed", records_processed=2, error_message="boom", error_details=[ErrorDetail("X", "bad")]
    )
    deployment_id = fake.add(life=[Step("Running", records_processed=1), failed])
    view = fake.get(deployment_id)
    info = stack.info

    with LambdaRuntime(stack.environment()) as runtime:
        subscription = info.subscriptions["SlackNotifierFunction"]
        delivery = SnsQueueDelivery(
            stack.client("sqs"),
            subscription.queue_url,
            subscription.subscription_arn,
            runtime.function("SlackNotifierFunction"),
        )
        events: list[dict[str, Any]] = []
        notifier = runtime.function("SlackNotifierFunction")
        original_invoke = notifier.invoke

        def recording_invoke(event: Any) -> Invocation:
            events.append(event)
            return original_invoke(event)

        notifier.invoke = recording_invoke  # type: ignore[method-assign]

        # When its CloudTrail event reaches the tracker, the poller runs and SNS delivers, twice over
        answer = {"BulkDeploymentId": deployment_id, "BulkDeploymentArn": view.arn}
        tracked = runtime.invoke("TrackerFunction", cloudtrail_start_event(answer, region=info.region))
        first_poll = runtime.invoke("PollerFunction", {"source": "ggwatch.schedule"})
        first = delivery.deliver_ready()
        fake.advance(deployment_id)
        second_poll = runtime.invoke("PollerFunction", {"source": "ggwatch.schedule"})
        second = delivery.deliver_ready()
        idle = delivery.idle()
        poller_log = runtime.logs("PollerFunction")
        captured = stack.event_capture().drain()

    # Then every invocation succeeded and each transition was posted once, filtered per channel
    assert [i.ok for i in (tracked, first_poll, second_poll)] == [True, True, True], tracked.error_text
    assert tracked.result["deploymentId"] == deployment_id
    assert (first_poll.result["transitions"], second_poll.result["transitions"]) == (1, 1)
    assert [d.outcome for d in (*first, *second)] == ["delivered", "delivered"]
    assert idle
    messages = stack.slack_messages()
    assert len(messages["ops"]) == 2
    assert len(messages["alerts"]) == 1
    assert "Failed" in json.dumps(messages["alerts"][0])
    # and what the handlers printed went to their log streams, not to the terminal
    assert any('"DeploymentsPolled"' in line for line in poller_log)
    assert "DeploymentsPolled" not in capsys.readouterr().out
    # and the notifier got Lambda's SNS event shape, field for field like the sample event
    sample = json.loads(SAMPLE_SNS_EVENT.read_text())["Records"][0]
    record = events[-1]["Records"][0]
    assert set(record) == set(sample)
    assert set(record["Sns"]) == set(sample["Sns"])
    assert record["EventSubscriptionArn"] == subscription.subscription_arn
    assert record["Sns"]["MessageAttributes"]["status"] == {"Type": "String", "Value": "Failed"}
    assert json.loads(record["Sns"]["Message"])["deploymentId"] == deployment_id
    # and each transition was put on the bus too, once, with the transitionId SNS carried
    published = [json.loads(e["Records"][0]["Sns"]["Message"])["transitionId"] for e in events]
    assert [(e.transition_id, e.status) for e in captured] == list(
        zip(published, ["Running", "Failed"], strict=True)
    )
    assert {(e.detail_type, e.deployment_id) for e in captured} == {
        ("Deployment Status Change", deployment_id)
    }
    assert all(e.resources == (view.arn,) for e in captured)


class _FlakyFunction:
    """Stands in for a LocalFunction whose handler fails a given number of times."""

    def __init__(self, failures: int) -> None:
        self.config = FunctionConfig.from_template(load_template(), "SlackNotifierFunction")
        self.failures = failures
        self.events: list[Any] = []

    def invoke(self, event: Any) -> Invocation:
        self.events.append(event)
        error = RuntimeError("webhook down") if len(self.events) <= self.failures else None
        return Invocation("SlackNotifierFunction", "id", None, error, 0.0, False)


@pytest.mark.parametrize(
    ("failures", "outcomes"),
    [(2, ["retrying", "retrying", "delivered"]), (5, ["retrying", "retrying", "failed"])],
)
def test_a_failed_delivery_is_retried_as_lambda_retries_then_given_up(
    stack: LocalStack, failures: int, outcomes: list[str]
) -> None:
    # Given one published message and a notifier that fails `failures` times (the template allows 2 retries)
    info = stack.info
    stack.client("sns").publish(TopicArn=info.topic_arn, Message='{"hello": "world"}')
    function = _FlakyFunction(failures)
    subscription = info.subscriptions["SlackNotifierFunction"]
    delivery = SnsQueueDelivery(
        stack.client("sqs"),
        subscription.queue_url,
        subscription.subscription_arn,
        function,  # type: ignore[arg-type]
        retry_delay_seconds=0,
    )

    # When SNS delivers until the queue has nothing more
    seen = []
    for _ in range(10):
        seen += delivery.deliver_ready()
        if delivery.idle():
            break

    # Then the message was retried twice at most, and removed once delivered or given up on
    assert [(d.attempt, d.outcome) for d in seen] == list(enumerate(outcomes, start=1))
    assert delivery.idle()
    assert {e["Records"][0]["Sns"]["Message"] for e in function.events} == {'{"hello": "world"}'}


def test_load_handler_returns_one_module_per_function() -> None:
    assert load_handler("poller") is load_handler("poller")
    assert load_handler("poller") is not load_handler("tracker")
