"""The Slack notifier handler end to end: moto Secrets Manager and DynamoDB, Slack on loopback."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from ggwatch.adapters.delivery_ledger import DynamoDeliveryLedger, delivery_key
from ggwatch.adapters.slack_webhook import SlackWebhookClient
from ggwatch.domain.models import ErrorDetail, Metrics
from ggwatch.domain.notification import Notification
from ggwatch.exceptions import DeliveryError
from ggwatch.observability import logger
from ggwatch.settings import ConfigurationError
from ggwatch_local.lambda_runtime import load_handler
from ggwatch_local.lambda_runtime import sns_event as runtime_sns_event
from ggwatch_local.slack_receiver import Reply, SlackReceiver, server_error
from tests.conftest import REGION, context_with
from tests.factories import notification_factory

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ALL_PATH = "/services/T0SECRET/B0ALL/xoxSECRETall"
FAILURES_PATH = "/services/T0SECRET/B0FAIL/xoxSECRETfailures"
SECRET_MARK = "SECRET"
"""Every webhook URL in these tests contains it; no log line, metric or error may."""


notification = notification_factory(
    transition_id="0123456789abcdef",
    previous_status="Running",
    status="Failed",
    terminal=True,
    metrics=Metrics({"recordsProcessed": 3, "invalidInputRecords": 1, "retryAttempts": 0}),
    error_message="Deployment failed",
    error_details=(ErrorDetail(code="InvalidInput", message="bad record"),),
)


def sns_record(message: str) -> dict[str, Any]:
    """One record as Lambda delivers it, built by the local runtime's one SNS event builder."""
    topic_arn = f"arn:aws:sns:{REGION}:123456789012:ggwatch-notifications"
    envelope = {
        "MessageId": "6f1e7a3c-0000-0000-0000-000000000000",
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": "2026-11-28T12:00:01.000Z",
    }
    record: dict[str, Any] = runtime_sns_event(envelope, f"{topic_arn}:subscription")["Records"][0]
    return record


def sns_event(*notifications: Notification) -> dict[str, Any]:
    return {"Records": [sns_record(n.to_json()) for n in notifications]}


@pytest.fixture
def receiver() -> Iterator[SlackReceiver]:
    with SlackReceiver() as started:
        yield started


@pytest.fixture
def put_secret(moto_aws: None) -> Callable[[str], str]:
    """Store the webhooks secret (created on first use, updated after); returns its ARN."""
    client = boto3.client("secretsmanager", region_name=REGION)

    def put(value: str) -> str:
        try:
            return client.create_secret(Name="ggwatch/slack-webhooks", SecretString=value)["ARN"]
        except client.exceptions.ResourceExistsException:
            return client.put_secret_value(SecretId="ggwatch/slack-webhooks", SecretString=value)["ARN"]

    return put


@pytest.fixture
def two_webhooks(receiver: SlackReceiver) -> str:
    """`all` takes every status; `failures` only Failed and TrackingFailed."""
    return json.dumps(
        [
            {"url": receiver.url(ALL_PATH), "name": "all"},
            {
                "url": receiver.url(FAILURES_PATH),
                "name": "failures",
                "statuses": ["Failed", "TrackingFailed"],
            },
        ]
    )


@pytest.fixture
def handler(
    monkeypatch: pytest.MonkeyPatch,
    deployments_table: str,
    put_secret: Callable[[str], str],
    two_webhooks: str,
) -> Iterator[ModuleType]:
    """The real handler module with its environment set, a fresh service, and a no-op retry sleep."""
    module = load_handler("slack_notifier")
    monkeypatch.setenv("SLACK_WEBHOOKS_SECRET_ARN", put_secret(two_webhooks))
    monkeypatch.setenv("TABLE_NAME", deployments_table)
    monkeypatch.setattr(module, "SlackWebhookClient", lambda: SlackWebhookClient(sleep=lambda _: None))
    module.slack_delivery.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    yield module
    module.slack_delivery.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Everything the package logger writes during the test, as parsed JSON lines."""
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line]
    handler.setStream(previous)  # type: ignore[attr-defined]


def metrics_emitted(stdout: str) -> dict[str, float]:
    """Sum of each metric in the EMF lines powertools printed."""
    totals: dict[str, float] = {}
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for definition in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            name = definition["Name"]
            values = blob[name] if isinstance(blob[name], list) else [blob[name]]
            totals[name] = totals.get(name, 0) + sum(values)
    return totals


# ---------------------------------------------------------------- routing and de-duplication


def test_a_notification_goes_to_every_webhook_whose_filter_accepts_its_status(
    handler: ModuleType, receiver: SlackReceiver, lambda_context: Any
) -> None:
    # When a Failed and then a Running transition arrive
    handler.lambda_handler(sns_event(notification(status="Failed")), lambda_context)
    handler.lambda_handler(
        sns_event(notification(status="Running", previous_status="Initializing", transition_id="t-running")),
        lambda_context,
    )

    # Then the unfiltered webhook got both, the failures webhook only the failure
    assert [p["text"].split(": ")[-1] for p in receiver.messages_to(ALL_PATH)] == [
        "Running → Failed",
        "Initializing → Running",
    ]
    assert [p["text"].split(": ")[-1] for p in receiver.messages_to(FAILURES_PATH)] == ["Running → Failed"]


def test_a_failed_greengrass_v2_deployment_reaches_both_webhooks_with_its_failed_devices(
    handler: ModuleType, receiver: SlackReceiver, lambda_context: Any
) -> None:
    # Given a V2 deployment that failed on one device, published as JSON on the topic
    failed = notification(
        deployment_kind="greengrass-v2",
        deployment_id="d-4a1f",
        deployment_name="fleet-rollout",
        target_arn="arn:aws:iot:us-east-1:123456789012:thinggroup/edge-fleet",
        previous_status="ACTIVE",
        status="FAILED",
        changes=("status", "errors"),
        metrics=Metrics({"succeeded": 1, "failed": 1}),
        error_details=(ErrorDetail(code="COMPONENT_BROKEN", message="App <exited>", thing_name="edge-2"),),
    )

    # When the notifier receives it
    handler.lambda_handler(sns_event(failed), lambda_context)

    # Then the `Failed` filter takes the V2 `FAILED` too, and both channels show the V2 message
    for path in (ALL_PATH, FAILURES_PATH):
        [posted] = receiver.messages_to(path)
        assert posted["blocks"][0]["text"]["text"] == "❌ fleet-rollout · Failed · 1 more device failed"
        assert "`▰▰▰▰▰▱▱▱▱▱` 1/2 succeeded · 1 failed · 0 in progress" in posted["blocks"][1]["text"]["text"]
        details = json.dumps(posted["attachments"], ensure_ascii=False)
        assert "• `edge-2`: `COMPONENT_BROKEN` `App &lt;exited&gt;`" in details


def test_the_same_sns_event_delivered_twice_posts_once_per_webhook(
    handler: ModuleType, receiver: SlackReceiver, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given SNS delivers the same event twice
    event = sns_event(notification())

    # When the handler runs for each delivery
    handler.lambda_handler(event, lambda_context)
    handler.lambda_handler(event, lambda_context)

    # Then each webhook has the message once, and the duplicates were counted
    assert len(receiver.messages_to(ALL_PATH)) == 1
    assert len(receiver.messages_to(FAILURES_PATH)) == 1
    emitted = metrics_emitted(capsys.readouterr().out)
    assert emitted["SlackMessagesDelivered"] == 2
    assert emitted["SlackDuplicatesDropped"] == 2


def test_when_one_webhook_fails_the_handler_raises_and_the_retry_posts_only_to_it(
    handler: ModuleType, receiver: SlackReceiver, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the failures webhook answers 500 to every attempt of the first invocation
    receiver.script(*[server_error()] * 3, path=FAILURES_PATH)
    event = sns_event(notification())

    # When the handler runs, it fails so that Lambda retries the event
    with pytest.raises(DeliveryError, match="failures"):
        handler.lambda_handler(event, lambda_context)
    assert len(receiver.messages_to(ALL_PATH)) == 1
    assert receiver.messages_to(FAILURES_PATH) == []

    # When Lambda retries, Then only the failed webhook is posted to
    assert handler.lambda_handler(event, lambda_context) == {"notifications": 1, "malformed": 0}
    assert len(receiver.messages_to(ALL_PATH)) == 1
    assert len(receiver.messages_to(FAILURES_PATH)) == 1
    assert metrics_emitted(capsys.readouterr().out)["SlackDeliveryFailures"] == 1


def test_a_delivery_another_invocation_is_still_sending_fails_the_invocation_for_a_later_retry(
    handler: ModuleType, receiver: SlackReceiver, deployments_table: str, lambda_context: Any
) -> None:
    # Given a concurrent invocation holds a live claim on the `all` webhook for this transition
    ledger = DynamoDeliveryLedger(deployments_table, record_days=7)
    assert ledger.begin("0123456789abcdef", "all", lease_seconds=300) == "claimed"

    # When this copy of the event is handled, Then it fails (Lambda retries it later), having posted
    # to the other webhook only
    with pytest.raises(DeliveryError, match=r"not delivered .*: all$"):
        handler.lambda_handler(sns_event(notification()), lambda_context)
    assert receiver.messages_to(ALL_PATH) == []
    assert len(receiver.messages_to(FAILURES_PATH)) == 1


def test_no_webhook_is_started_without_time_for_its_worst_case(
    handler: ModuleType, receiver: SlackReceiver
) -> None:
    # Given the invocation has less time left than one webhook's worst case
    short = context_with(remaining_ms=int(handler.slack_delivery().webhook_worst_case_seconds * 1000) - 1)

    # When a notification arrives, Then nothing is posted and the invocation fails for both webhooks
    with pytest.raises(DeliveryError, match=r"2 of 2 .*: all, failures$"):
        handler.lambda_handler(sns_event(notification()), short)
    assert receiver.requests == []


def test_a_status_no_webhook_wants_posts_nothing(
    handler: ModuleType, receiver: SlackReceiver, lambda_context: Any, put_secret: Callable[[str], str]
) -> None:
    put_secret(json.dumps([{"url": receiver.url(FAILURES_PATH), "statuses": ["Failed"]}]))

    assert (
        handler.lambda_handler(sns_event(notification(status="Completed")), lambda_context)["notifications"]
        == 1
    )
    assert receiver.requests == []


# ---------------------------------------------------------------- malformed records


def test_malformed_records_are_skipped_and_the_valid_one_delivered(
    handler: ModuleType,
    receiver: SlackReceiver,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    # Given one event with a non-SNS record, bad JSON, a schema mismatch and one valid notification
    event = {
        "Records": [
            {"eventSource": "aws:sqs", "body": "{}"},
            sns_record("{not json"),
            sns_record(json.dumps({"schemaVersion": "1", "status": "Failed"})),
            sns_record(notification().to_json()),
        ]
    }

    # When the handler runs
    result = handler.lambda_handler(event, lambda_context)

    # Then the valid one was delivered, and each bad one logged once and counted
    assert result == {"notifications": 1, "malformed": 3}
    assert len(receiver.messages_to(ALL_PATH)) == 1
    skipped = [line for line in log_lines() if line["message"] == "malformed notification skipped"]
    assert [line["record"] for line in skipped] == [0, 1, 2]
    assert "json_invalid" in skipped[1]["problem"]
    assert "deploymentKind: missing" in skipped[2]["problem"]
    assert metrics_emitted(capsys.readouterr().out)["MalformedNotifications"] == 3


@pytest.mark.parametrize("version", ["2", "0", 1, None, "(missing)"], ids=repr)
def test_a_notification_of_an_unknown_schema_version_is_never_posted_and_fails_for_the_dlq(
    handler: ModuleType,
    receiver: SlackReceiver,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    log_lines: Callable[[], list[dict[str, Any]]],
    version: object,
) -> None:
    # Given an otherwise valid notification whose schemaVersion is not "1" (or is missing), beside a
    # valid one in the same event
    body = json.loads(notification().to_json())
    if version == "(missing)":
        del body["schemaVersion"]
    else:
        body["schemaVersion"] = version
    event = {
        "Records": [sns_record(json.dumps(body)), sns_record(notification(transition_id="t-ok").to_json())]
    }

    # When the handler runs, Then it fails (so that Lambda sends the event to the DLQ at last)
    with pytest.raises(DeliveryError, match=r"record 0: schemaVersion .* is not the one this notifier knows"):
        handler.lambda_handler(event, lambda_context)

    # And nothing was posted for it, while the valid one was delivered; the rejection was logged and counted
    posted = [
        p["attachments"][0]["blocks"][-1]["elements"][0]["text"] for p in receiver.messages_to(ALL_PATH)
    ]
    assert posted == ["transition `t-ok`"]
    (rejected,) = [line for line in log_lines() if "unknown schema version" in line["message"]]
    assert rejected["record"] == 0
    assert metrics_emitted(capsys.readouterr().out)["UnknownSchemaVersions"] == 1


# ---------------------------------------------------------------- secrets stay secret


def test_no_webhook_url_appears_in_any_log_line_metric_or_error_even_on_failures(
    handler: ModuleType,
    receiver: SlackReceiver,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    # Given one webhook is rate limited then failing, the other answers 404 with a body echoing its path
    receiver.script(
        Reply(429, "rate_limited", {"Retry-After": "1"}), server_error(), server_error(), path=ALL_PATH
    )
    receiver.script(Reply(404, f"no_service: {FAILURES_PATH}"), path=FAILURES_PATH)

    # When the handler runs and fails
    with pytest.raises(DeliveryError) as raised:
        handler.lambda_handler(sns_event(notification()), lambda_context)

    # Then the failures were logged (by webhook name), and no URL is anywhere
    lines = log_lines()
    failures = [line for line in lines if line["message"] == "slack delivery failed"]
    assert {line["webhook"] for line in failures} == {"all", "failures"}
    assert any(line["message"] == "slack webhook attempt failed, retrying" for line in lines)
    captured = capsys.readouterr()
    for text in (json.dumps(lines), captured.out, captured.err, str(raised.value), repr(raised.value)):
        assert SECRET_MARK not in text
        assert "127.0.0.1" not in text


def test_a_webhook_with_a_pasted_invisible_character_is_skipped_and_the_others_still_get_the_message(
    handler: ModuleType,
    receiver: SlackReceiver,
    put_secret: Callable[[str], str],
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    # Given the first webhook's URL ends in a zero-width space, which no HTTP client can send
    put_secret(
        json.dumps(
            [
                {"url": receiver.url(FAILURES_PATH) + "\u200b", "name": "pasted"},
                {"url": receiver.url(ALL_PATH), "name": "all"},
            ]
        )
    )

    # When a notification arrives
    result = handler.lambda_handler(sns_event(notification()), lambda_context)

    # Then the valid webhook got it, and the bad entry was reported by name, never by URL
    assert result == {"notifications": 1, "malformed": 0}
    assert len(receiver.messages_to(ALL_PATH)) == 1
    lines = log_lines()
    (skipped,) = [line for line in lines if line["message"] == "invalid slack webhook skipped"]
    assert (skipped["webhook_position"], skipped["webhook"]) == (1, "pasted")
    captured = capsys.readouterr()
    assert metrics_emitted(captured.out)["SlackWebhooksInvalid"] == 1
    for text in (json.dumps(lines), captured.out, captured.err):
        assert SECRET_MARK not in text


def test_an_invalid_secret_fails_with_a_configuration_error_that_hides_the_value(
    handler: ModuleType, put_secret: Callable[[str], str], lambda_context: Any
) -> None:
    put_secret("http://hooks.slack.com/services/T0SECRET/B0SECRET/xoxSECRET")

    with pytest.raises(ConfigurationError, match="https://") as raised:
        handler.lambda_handler(sns_event(notification()), lambda_context)

    assert SECRET_MARK not in str(raised.value)


def test_the_secret_is_cached_between_invocations(
    handler: ModuleType, receiver: SlackReceiver, put_secret: Callable[[str], str], lambda_context: Any
) -> None:
    # Given a first invocation read the secret
    handler.lambda_handler(sns_event(notification(transition_id="t-1")), lambda_context)

    # When the secret changes within the cache's max age
    put_secret(json.dumps([{"url": receiver.url("/services/T0SECRET/B0NEW/xoxSECRETnew"), "name": "new"}]))
    handler.lambda_handler(sns_event(notification(transition_id="t-2")), lambda_context)

    # Then the cached value is still used, until the cache expires
    assert receiver.messages_to("/services/T0SECRET/B0NEW/xoxSECRETnew") == []
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    handler.lambda_handler(sns_event(notification(transition_id="t-3")), lambda_context)
    assert len(receiver.messages_to("/services/T0SECRET/B0NEW/xoxSECRETnew")) == 1


# ---------------------------------------------------------------- the delivery ledger on the real table


def test_a_delivery_record_is_kept_with_a_ttl(
    handler: ModuleType, deployments_table: str, lambda_context: Any
) -> None:
    before = int(time.time())

    handler.lambda_handler(sns_event(notification()), lambda_context)

    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=deployments_table, Key={"pk": {"S": "DELIVERY#0123456789abcdef#failures"}}
    )["Item"]
    assert item["state"] == {"S": "delivered"}
    assert before + 7 * 86_400 <= int(item["expiresAt"]["N"]) <= int(time.time()) + 7 * 86_400
    assert "leaseUntil" not in item


def test_a_claim_blocks_others_until_its_lease_expires_and_says_it_is_in_flight(
    deployments_table: str,
) -> None:
    now = [1_000_000.0]
    ledger = DynamoDeliveryLedger(deployments_table, record_days=7, clock=lambda: now[0])

    assert ledger.begin("t", "ops", lease_seconds=26) == "claimed"
    assert ledger.begin("t", "ops", lease_seconds=26) == "sending"
    now[0] += 26
    assert ledger.begin("t", "ops", lease_seconds=26) == "sending"
    now[0] += 1
    assert ledger.begin("t", "ops", lease_seconds=26) == "claimed"


def test_a_fractional_lease_is_rounded_up_never_down(deployments_table: str) -> None:
    now = [1_000_000.9]
    ledger = DynamoDeliveryLedger(deployments_table, record_days=7, clock=lambda: now[0])
    ledger.begin("t", "ops", lease_seconds=25.5)

    now[0] += 25.5  # exactly the lease: still live
    assert ledger.begin("t", "ops", lease_seconds=1) == "sending"


def test_a_delivered_record_is_never_released_or_reclaimed(deployments_table: str) -> None:
    now = [1_000_000.0]
    ledger = DynamoDeliveryLedger(deployments_table, record_days=7, clock=lambda: now[0])
    ledger.begin("t", "ops", lease_seconds=60)
    ledger.mark_delivered("t", "ops")

    ledger.release("t", "ops")
    now[0] += 3600

    assert ledger.begin("t", "ops", lease_seconds=60) == "delivered"


def test_a_released_claim_can_be_taken_again_at_once(deployments_table: str) -> None:
    ledger = DynamoDeliveryLedger(deployments_table, record_days=7)
    ledger.begin("t", "ops", lease_seconds=60)

    ledger.release("t", "ops")

    assert ledger.begin("t", "ops", lease_seconds=60) == "claimed"
    assert delivery_key("t", "ops") == "DELIVERY#t#ops"
