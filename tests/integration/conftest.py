"""Fixtures for tests that run the real handlers against moto and the Greengrass fake over HTTP."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.core.config import default_user_config

from ggwatch_local.greengrass import BulkDeploymentFake, GreengrassFakeServer
from ggwatch_local.greengrass_v2 import FleetFake, FleetFakeServer, lives
from ggwatch_local.lambda_runtime import LambdaContext
from ggwatch_local.stack import subscribe_queue
from tests.clock import Clock
from tests.conftest import REGION
from tests.queues import drain_envelopes


@pytest.fixture
def greengrass(monkeypatch: pytest.MonkeyPatch) -> Iterator[BulkDeploymentFake]:
    """The Greengrass fake, reached by boto3 through AWS_ENDPOINT_URL_GREENGRASS like any endpoint."""
    with GreengrassFakeServer() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASS", server.endpoint_url)
        yield server.fake


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK still retries, without sleeping between attempts."""
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture
def fleet_clock() -> Clock:
    """The time the Greengrass V2 fleet fake sees; it moves only when a test advances it."""
    return Clock()


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch, fleet_clock: Clock) -> Iterator[FleetFake]:
    """The Greengrass V2 fleet fake, reached by boto3 through AWS_ENDPOINT_URL_GREENGRASSV2 and
    AWS_ENDPOINT_URL_IOT like any endpoint."""
    with FleetFakeServer(FleetFake(clock=fleet_clock.epoch)) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASSV2", server.endpoint_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_IOT", server.endpoint_url)
        yield server.fleet


@dataclass
class Delivered:
    """One message as an SQS subscriber of the topic received it."""

    body: dict[str, Any]
    attributes: dict[str, str]


@dataclass
class TopicWithSubscriber:
    topic_arn: str
    queue_url: str

    def drain(self) -> list[Delivered]:
        """Every message delivered to the subscriber queue since the last drain."""
        return [
            Delivered(
                body=json.loads(envelope["Message"]),
                attributes={k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
            )
            for envelope in drain_envelopes(boto3.client("sqs", region_name=REGION), self.queue_url)
        ]


@pytest.fixture
def topic(moto_aws: None) -> TopicWithSubscriber:
    """The notifications topic with an SQS queue subscribed, to read what was published."""
    sns = boto3.client("sns", region_name=REGION)
    topic_arn = sns.create_topic(Name="ggwatch-notifications")["TopicArn"]
    subscriber = subscribe_queue(sns, boto3.client("sqs", region_name=REGION), topic_arn, "subscriber", {})
    return TopicWithSubscriber(topic_arn, subscriber.queue_url)


@pytest.fixture
def app_environment(
    monkeypatch: pytest.MonkeyPatch, deployments_table: str, topic: TopicWithSubscriber
) -> Callable[[], None]:
    """Set the handlers' environment and forget any settings a previous test cached."""
    monkeypatch.setenv("TABLE_NAME", deployments_table)
    monkeypatch.setenv("TOPIC_ARN", topic.topic_arn)

    def reset() -> None:
        from ggwatch_local.lambda_runtime import load_handler

        load_handler("poller").cold_start.cache_clear()
        load_handler("tracker").tracker.cache_clear()

    reset()
    return reset


def rollout_at_its_end(fleet: FleetFake, clock: Clock) -> str:
    """The 50-device rollout with its three failures (tagged team=edge), a minute between its steps so
    each failure has its own time."""
    deployment_id = fleet.add(lives.rollout_with_failures(), tags={"team": "edge"})
    for _ in range(len(lives.rollout_with_failures().steps) - 1):
        clock.advance(60)
        fleet.advance(deployment_id)
    return deployment_id


@pytest.fixture
def own_function(monkeypatch: pytest.MonkeyPatch, moto_aws: None, lambda_context: LambdaContext) -> str:
    """The poller's function as Lambda knows it, so that invoking it works (moto queues nothing)."""
    monkeypatch.setitem(default_user_config["lambda"], "use_docker", False)
    role = boto3.client("iam").create_role(
        RoleName="poller", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "")
    boto3.client("lambda").create_function(
        FunctionName=lambda_context.function_name,
        Runtime="python3.13",
        Role=role,
        Handler="app.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )
    return lambda_context.invoked_function_arn
