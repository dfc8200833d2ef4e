"""Region runs end to end: with PollRegions set, the scheduled run starts one run of its own function
per other region (an asynchronous Lambda invocation, moto's) and polls the rest; each region run polls
its region only. Every transition is published once, and a region whose run cannot be started is
polled by the scheduled run itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind
from ggwatch_local.greengrass import BulkDeploymentFake, GreengrassFakeServer, Step
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from tests.clock import START
from tests.conftest import REGION
from tests.integration.conftest import TopicWithSubscriber

pytestmark = [
    pytest.mark.usefixtures("app_environment"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

EU, AP = "eu-west-1", "ap-southeast-2"
KIND = DeploymentKind.GREENGRASS_V1_BULK
SCHEDULED = {"source": "ggwatch.schedule", "scheduledTime": "2026-12-02T12:00:00Z"}


@dataclass
class Fleet:
    """Greengrass V1 in three regions, each keeping its own deployments."""

    by_region: dict[str, BulkDeploymentFake]

    def add(self, region: str, deployment_id: str, table: str) -> None:
        self.by_region[region].add(deployment_id, [Step("Running")])
        stored_region = None if region == REGION else region
        DynamoDeploymentRepository(table).track(
            KIND, deployment_id, tracked_by="test", now=START, region=stored_region
        )


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch, deployments_table: str) -> Iterator[Fleet]:
    fakes = {region: BulkDeploymentFake(region=region) for region in (REGION, EU, AP)}
    with GreengrassFakeServer(fakes[REGION], regions={EU: fakes[EU], AP: fakes[AP]}) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASS", server.endpoint_url)
        faked = Fleet(fakes)
        for region in (REGION, EU, AP):
            faked.add(region, f"bd-{region}", deployments_table)
        yield faked


@pytest.fixture
def invocations(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The parameters of every Lambda Invoke call (moto answers them, without running anything)."""
    calls: list[dict[str, Any]] = []
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # the one place every call passes

    def recording(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        if self.meta.service_model.service_name == "lambda" and operation_name == "Invoke":
            calls.append(dict(api_params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def polls(monkeypatch: pytest.MonkeyPatch, regions: str) -> None:
    monkeypatch.setenv("POLL_REGIONS", regions)
    load_handler("poller").cold_start.cache_clear()


def published(topic: TopicWithSubscriber) -> list[tuple[str, str]]:
    return sorted((m.body["deploymentId"], m.body["region"]) for m in topic.drain())


def test_the_scheduled_run_starts_a_run_per_other_region_and_each_polls_its_own(
    monkeypatch: pytest.MonkeyPatch,
    fleet: Fleet,
    own_function: str,
    invocations: list[dict[str, Any]],
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
) -> None:
    polls(monkeypatch, f"{EU},{AP}")
    handler = load_handler("poller").lambda_handler
    # When the schedule invokes the poller
    summary = handler(dict(SCHEDULED), lambda_context)
    # Then it started one asynchronous run of its own function per other region, and polled its own only
    assert summary["regionRuns"] == [AP, EU] and summary["polled"] == 1
    assert [(i["FunctionName"], i["InvocationType"]) for i in invocations] == [(own_function, "Event")] * 2
    events = sorted((json.loads(i["Payload"]) for i in invocations), key=lambda event: str(event["region"]))
    assert [(e["source"], e["region"]) for e in events] == [
        ("ggwatch.region-run", AP),
        ("ggwatch.region-run", EU),
    ]
    assert published(topic) == [(f"bd-{REGION}", REGION)]
    # When Lambda runs those events, each polls its region's deployments only
    for event in events:
        region_summary = handler(event, lambda_context)
        assert region_summary["region"] == event["region"] and region_summary["polled"] == 1
        assert published(topic) == [(f"bd-{event['region']}", event["region"])]
    # And a run never starts region runs of its own: nothing more was invoked
    assert len(invocations) == 2


def test_a_region_whose_run_cannot_be_started_is_polled_by_the_scheduled_run(
    monkeypatch: pytest.MonkeyPatch,
    fleet: Fleet,
    moto_aws: None,
    invocations: list[dict[str, Any]],
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
) -> None:
    # Given a poller whose function Lambda does not know (moto answers ResourceNotFoundException)
    polls(monkeypatch, EU)
    summary = load_handler("poller").lambda_handler(dict(SCHEDULED), lambda_context)
    # Then it tried, and polled that region itself, beside its own
    assert len(invocations) == 1
    assert summary["regionRuns"] == [] and summary["regionsPolledHere"] == [EU]
    assert summary["polled"] == 2
    assert published(topic) == [(f"bd-{EU}", EU), (f"bd-{REGION}", REGION)]


@pytest.mark.parametrize(
    "event",
    [
        {"source": "ggwatch.region-run", "region": "us-west-2"},  # not polled by this stack
        {"source": "ggwatch.region-run", "region": REGION},  # the scheduled run's own
        {"source": "ggwatch.region-run"},
        {"source": "ggwatch.region-run", "region": ["eu-west-1"]},
    ],
)
def test_a_region_run_for_a_region_not_handed_off_polls_nothing(
    monkeypatch: pytest.MonkeyPatch,
    fleet: Fleet,
    event: dict[str, Any],
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
) -> None:
    polls(monkeypatch, EU)
    summary = load_handler("poller").lambda_handler(event, lambda_context)
    assert summary == {"region": None, "result": "refused"}
    assert published(topic) == []


def test_without_poll_regions_the_scheduled_run_polls_its_own_region_and_starts_nothing(
    monkeypatch: pytest.MonkeyPatch,
    fleet: Fleet,
    invocations: list[dict[str, Any]],
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
) -> None:
    polls(monkeypatch, "")
    summary = load_handler("poller").lambda_handler(dict(SCHEDULED), lambda_context)
    assert invocations == [] and summary["regionRuns"] == [] and summary["regionsPolledHere"] == []
    # (a deployment in a region the stack no longer polls is not read: its role may not read there)
    assert summary["polled"] == 1
    assert published(topic) == [(f"bd-{REGION}", REGION)]


def test_a_deployment_tracked_in_another_region_before_regions_had_partitions_moves_to_its_own(
    monkeypatch: pytest.MonkeyPatch,
    fleet: Fleet,
    own_function: str,
    deployments_table: str,
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
) -> None:
    # Given eu-west-1's deployment stored as before: in the stack's own partition of the active index
    dynamodb, key = boto3.client("dynamodb"), {"pk": {"S": f"DEPLOYMENT#{KIND.value}#bd-{EU}"}}
    dynamodb.update_item(
        TableName=deployments_table,
        Key=key,
        UpdateExpression="SET activeKind = :kind",
        ExpressionAttributeValues={":kind": {"S": KIND.value}},
    )
    polls(monkeypatch, EU)
    handler = load_handler("poller").lambda_handler
    # When the scheduled run polls, it polls it too, where it lives, and moves it to eu-west-1's
    # partition, where eu-west-1's run finds it (unchanged: nothing is notified twice)
    assert handler(dict(SCHEDULED), lambda_context)["polled"] == 2
    assert handler({"source": "ggwatch.region-run", "region": EU}, lambda_context)["unchanged"] == 1
    assert published(topic) == [(f"bd-{EU}", EU), (f"bd-{REGION}", REGION)]
    stored = dynamodb.get_item(TableName=deployments_table, Key=key)["Item"]
    assert stored["activeKind"] == {"S": f"{KIND.value}#{EU}"}
    # Then from the next cycle on eu-west-1's run polls it, and the scheduled run no longer does
    assert handler(dict(SCHEDULED), lambda_context)["polled"] == 1
    assert handler({"source": "ggwatch.region-run", "region": EU}, lambda_context)["polled"] == 1
    assert published(topic) == []
