"""The real tracker and poller handlers against moto (DynamoDB, SNS→SQS) and the Greengrass fake."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from ggwatch.exceptions import RepositoryError
from ggwatch.settings import ConfigurationError
from ggwatch_local.greengrass import BulkDeploymentFake, ErrorDetail, Step
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from tests.conftest import REGION, context_with
from tests.integration.conftest import TopicWithSubscriber

pytestmark = pytest.mark.usefixtures("app_environment")


def track(deployment_id: str, context: LambdaContext, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = load_handler("tracker").lambda_handler(
        {"bulkDeploymentId": deployment_id, **extra}, context
    )
    return result


def poll(context: LambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = load_handler("poller").lambda_handler({}, context)
    return result


def statuses(topic: TopicWithSubscriber) -> list[tuple[str, str | None, str]]:
    return [(d.body["deploymentId"], d.body["previousStatus"], d.body["status"]) for d in topic.drain()]


def test_whole_life_initializing_running_completed(
    greengrass: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    # Given a tracked deployment that will go Initializing → Running → Completed
    greengrass.add(
        "bd-1",
        [Step("Initializing"), Step("Running", records_processed=4), Step("Completed", records_processed=9)],
    )
    track("bd-1", lambda_context)
    # When the poller runs at each stage (twice at each, to prove there is no repeat)
    seen = []
    for advance in [False, True, True]:
        if advance:
            greengrass.advance("bd-1")
        poll(lambda_context)
        poll(lambda_context)
        seen += topic.drain()
    # Then each transition was published exactly once, with the schema's fields and attributes
    assert [(d.body["previousStatus"], d.body["status"]) for d in seen] == [
        (None, "Initializing"),
        ("Initializing", "Running"),
        ("Running", "Completed"),
    ]
    last = seen[-1]
    assert last.body["terminal"] is True
    assert last.body["metrics"] == {"recordsProcessed": 9, "invalidInputRecords": 0, "retryAttempts": 0}
    assert last.body["region"] == REGION
    assert last.attributes == {
        "eventType": "DeploymentStatusChange",
        "deploymentKind": "greengrass-v1-bulk",
        "deploymentId": "bd-1",
        "status": "Completed",
        "previousStatus": "Running",
    }
    assert "previousStatus" not in seen[0].attributes
    # And the finished deployment is no longer polled
    greengrass.clear_calls()
    assert poll(lambda_context)["polled"] == 0
    assert greengrass.calls == []


def test_skipped_state_is_reported_as_one_transition(
    greengrass: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    greengrass.add("bd-1", [Step("Initializing"), Step("Running"), Step("Completed")])
    track("bd-1", lambda_context)
    poll(lambda_context)
    greengrass.advance("bd-1")
    greengrass.advance("bd-1")
    poll(lambda_context)
    assert statuses(topic) == [("bd-1", None, "Initializing"), ("bd-1", "Initializing", "Completed")]


def test_failed_deployment_carries_error_message_and_details(
    greengrass: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    details = [
        ErrorDetail("GroupNotFound", "group g-1 has no version v-9"),
        ErrorDetail("AccessDenied", "role <x>"),
    ]
    greengrass.add(
        "bd-1", [Step("Running"), Step("Failed", error_message="2 groups failed", error_details=details)]
    )
    track("bd-1", lambda_context)
    poll(lambda_context)
    greengrass.advance("bd-1")
    poll(lambda_context)
    failed = topic.drain()[-1].body
    assert failed["status"] == "Failed"
    assert failed["changes"] == ["status", "errors"]
    assert failed["errorMessage"] == "2 groups failed"
    assert failed["errorDetails"] == [
        {"code": "GroupNotFound", "message": "group g-1 has no version v-9", "thingName": None},
        {"code": "AccessDenied", "message": "role <x>", "thingName": None},
    ]


def test_unknown_id_is_reported_once_and_others_are_still_polled(
    greengrass: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    greengrass.add("bd-ok", [Step("Running")])
    track("bd-ok", lambda_context)
    track("bd-missing", lambda_context)
    summary = poll(lambda_context)
    poll(lambda_context)
    delivered = {d.body["deploymentId"]: d.body for d in topic.drain()}
    assert summary["transitions"] == 2
    assert delivered["bd-ok"]["status"] == "Running"
    missing = delivered["bd-missing"]
    assert (missing["eventType"], missing["status"], missing["terminal"]) == (
        "DeploymentTrackingFailed",
        "TrackingFailed",
        True,
    )
    assert "bd-missing" in missing["errorMessage"]


def test_malformed_table_item_is_skipped_and_others_are_still_polled(
    greengrass: BulkDeploymentFake,
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
    deployments_table: str,
) -> None:
    greengrass.add("bd-ok", [Step("Running")])
    track("bd-ok", lambda_context)
    boto3.client("dynamodb", region_name=REGION).put_item(
        TableName=deployments_table,
        Item={
            "pk": {"S": "DEPLOYMENT#greengrass-v1-bulk#garbled"},
            "activeKind": {"S": "greengrass-v1-bulk"},
            "deploymentKind": {"S": "greengrass-v1-bulk"},
            "version": {"S": "not a number"},
        },
    )
    summary = poll(lambda_context)
    assert summary["corrupt"] == 1
    assert statuses(topic) == [("bd-ok", None, "Running")]


def test_metrics_only_change_is_stored_but_not_published(
    greengrass: BulkDeploymentFake,
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
    deployments_table: str,
) -> None:
    greengrass.add("bd-1", [Step("Running", records_processed=1), Step("Running", records_processed=5)])
    track("bd-1", lambda_context)
    poll(lambda_context)
    greengrass.advance("bd-1")
    poll(lambda_context)
    assert len(topic.drain()) == 1
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=deployments_table, Key={"pk": {"S": "DEPLOYMENT#greengrass-v1-bulk#bd-1"}}
    )["Item"]
    assert item["metrics"]["M"]["recordsProcessed"] == {"N": "5"}


def test_nothing_is_written_for_an_unchanged_deployment(
    greengrass: BulkDeploymentFake, lambda_context: LambdaContext, deployments_table: str
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    track("bd-1", lambda_context)
    poll(lambda_context)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    key = {"pk": {"S": "DEPLOYMENT#greengrass-v1-bulk#bd-1"}}
    before = dynamodb.get_item(TableName=deployments_table, Key=key)["Item"]
    poll(lambda_context)
    assert dynamodb.get_item(TableName=deployments_table, Key=key)["Item"] == before


def test_tracking_twice_changes_nothing_and_untrack_stops_polling(
    greengrass: BulkDeploymentFake, lambda_context: LambdaContext
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    assert track("bd-1", lambda_context)["changed"] is True
    assert track("bd-1", lambda_context)["changed"] is False
    assert track("bd-1", lambda_context, action="untrack")["changed"] is True
    assert track("bd-1", lambda_context, action="untrack")["changed"] is False
    assert poll(lambda_context)["polled"] == 0
    assert track("bd-1", lambda_context)["changed"] is True
    assert poll(lambda_context)["polled"] == 1


def test_cloudtrail_start_event_tracks_the_deployment_with_its_arn(
    greengrass: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    greengrass.add("bd-ct", [Step("Initializing")])
    event = {
        "version": "0",
        "id": "3a1c9f4a-6b2d-4f7e-8a0c-5d9b2e7f1a34",
        "source": "aws.greengrass",
        "account": "123456789012",
        "time": "2026-11-28T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": "greengrass.amazonaws.com",
            "eventName": "StartBulkDeployment",
            "responseElements": {
                "BulkDeploymentId": "bd-ct",
                "BulkDeploymentArn": "arn:aws:greengrass:us-east-1:123456789012:/greengrass/bulk/deployments/bd-ct",
            },
        },
    }
    assert load_handler("tracker").lambda_handler(event, lambda_context)["changed"] is True
    poll(lambda_context)
    body = topic.drain()[0].body
    assert body["deploymentArn"].endswith("/bd-ct")


def test_invalid_tracker_event_fails_with_a_named_problem(lambda_context: LambdaContext) -> None:
    from ggwatch.exceptions import InvalidEventError

    with pytest.raises(InvalidEventError, match="action"):
        load_handler("tracker").lambda_handler(
            {"bulkDeploymentId": "bd-1", "action": "explode"}, lambda_context
        )


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_missing_configuration_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, lambda_context: LambdaContext, app_environment: Callable[[], None]
) -> None:
    from ggwatch.settings import ConfigurationError

    monkeypatch.delenv("TOPIC_ARN")
    app_environment()
    with pytest.raises(ConfigurationError, match="TOPIC_ARN"):
        poll(lambda_context)


def emitted_metrics(out: str) -> list[dict[str, Any]]:
    """The EMF documents powertools printed (one per invocation)."""
    return [document for line in out.splitlines() if '"_aws"' in line for document in [json.loads(line)]]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_every_finished_run_reports_how_many_deployments_it_polled_even_none(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: LambdaContext,
    app_environment: Callable[[], None],
) -> None:
    # Given nothing tracked, when the poller runs, then it still reports 0 deployments polled (the
    # heartbeat that an alarm with missing data = breaching watches)
    capsys.readouterr()
    assert poll(lambda_context)["polled"] == 0
    assert [m["DeploymentsPolled"] for m in emitted_metrics(capsys.readouterr().out)] == [[0.0]]
    # And a run that fails (the table cannot be read) reports nothing: every run failing is as silent
    # as no run at all, which the heartbeat alarm catches besides the Errors alarm
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    app_environment()
    with pytest.raises(RepositoryError):
        poll(lambda_context)
    assert [m.get("DeploymentsPolled") for m in emitted_metrics(capsys.readouterr().out)] in ([], [None])


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_timeout_too_short_for_one_hurried_deployment_fails_loudly(
    greengrass: BulkDeploymentFake, topic: TopicWithSubscriber
) -> None:
    # Given a tracked deployment, and a function whose timeout is 1 ms short of one deployment polled
    # with the hurried SDK settings (reads, one call, the cursor write, the end-of-run reserve)
    greengrass.add("bd-1", [Step("Running")])
    track("bd-1", context_with())
    needs = load_handler("poller").cold_start().poller.minimum_run_ms
    assert needs < 25_000  # far less than a fixed margin for the full SDK settings would take
    # When it runs, then it fails naming the setting to change
    with pytest.raises(ConfigurationError, match="Timeout"):
        poll(context_with(needs - 1))
    # And with just enough time, it polls the deployment
    assert poll(context_with(needs))["transitions"] == 1
    assert statuses(topic) == [("bd-1", None, "Running")]


def test_an_idle_run_over_many_deployments_writes_nothing_and_reads_only_the_active_index(
    greengrass: BulkDeploymentFake, lambda_context: LambdaContext
) -> None:
    # Given 30 deployments, notified once, that do not change (polled 16 at a time by default)
    for index in range(30):
        greengrass.add(f"bd-{index:02d}", [Step("Running")])
        track(f"bd-{index:02d}", lambda_context)
    assert poll(lambda_context)["transitions"] == 30
    calls: list[str] = []
    boto3._get_default_session().events.register(  # the handler's clients are built from it
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    load_handler("poller").cold_start.cache_clear()
    # When the poller runs again
    summary = poll(lambda_context)
    # Then it polled all 30, wrote nothing, and read the active index (a Query per kind) and its cursors
    assert (summary["polled"], summary["transitions"]) == (30, 0)
    assert sorted(set(calls)) == ["GetItem", "Query"]
    assert calls.count("Query") == 2
