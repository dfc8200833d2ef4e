"""The whole ggwatch stack on loopback, for the live demo, the CLI and integration tests.

Three kinds of stand-ins, each on its own ephemeral port of 127.0.0.1:

- moto's server mode for DynamoDB, SNS, SQS, EventBridge and Secrets Manager. The table and the topic
  are built from template.yaml's own definitions, so a key, index or topic setting cannot drift from
  what is deployed. An SQS queue subscribed to the topic stands in for each SNS Lambda subscription that
  the template declares (the runtime turns its messages back into Lambda SNS events). The event bus is
  the one the template's EventBusName names, and a rule on it sends every ggwatch event to a queue
  (`event_capture`), standing in for the rules automation would add.
- the Greengrass fakes, V1 bulk deployments and V2 fleet deployments with their IoT jobs, on one port
  (moto has neither the V1 bulk API nor Greengrass V2).
- local Slack incoming webhooks, one path per channel, listed in a Secrets Manager secret exactly as
  an operator would store the real ones.

The app reaches every one of them through the standard AWS environment variables only
(`environment()`), so nothing in ggwatch knows it is running locally.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import boto3
from moto.server import ThreadedMotoServer

from ggwatch_local.event_capture import EventCapture, create_event_capture
from ggwatch_local.greengrass import BulkDeploymentFake, GreengrassFakeServer, demo_lives, round_robin
from ggwatch_local.greengrass_v2 import FleetFake, FleetFakeServer
from ggwatch_local.slack_receiver import SlackReceiver
from ggwatch_local.template import (
    Resolver,
    create_table_from_template,
    load_template,
    resources_of_type,
    sns_topic_logical_ids,
    stack_variables,
)

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

DEFAULT_REGION = "us-east-1"
STACK_NAME = "ggwatch-local"
ACCESS_KEY = "ggwatch-local"
"""Dummy credentials: moto accepts any, and real AWS would reject these."""

SlackMessageCallback = Callable[[str, dict[str, Any]], None]
"""Called with (channel name, payload) for every message a local Slack channel accepts."""


@dataclass(frozen=True)
class SlackChannel:
    """One local Slack channel and the statuses its webhook subscribes to (None: every status)."""

    name: str
    statuses: tuple[str, ...] | None = None

    def accepts(self, status: str) -> bool:
        """The notifier's own rule (case-insensitive), so expectations can be computed from it."""
        return self.statuses is None or status.casefold() in {s.casefold() for s in self.statuses}


ALERT_STATUSES = ("Failed", "Stopped", "TrackingFailed")
SLACK_CHANNELS = (SlackChannel("ops"), SlackChannel("alerts", ALERT_STATUSES))
"""Two channels, as a team would set them up: everything for ops, only bad news for alerts."""


@dataclass(frozen=True)
class QueueSubscription:
    """The SQS queue subscribed to the topic in place of one function's SNS subscription."""

    queue_url: str
    subscription_arn: str


@dataclass(frozen=True)
class LocalStackInfo:
    """Where everything of a started LocalStack is."""

    region: str
    aws_endpoint_url: str
    greengrass_endpoint_url: str
    table_name: str
    topic_arn: str
    slack_secret_arn: str
    slack_channels: dict[str, str]
    """Channel name -> webhook URL."""
    subscriptions: dict[str, QueueSubscription]
    """Function logical id (e.g. SlackNotifierFunction) -> the queue standing in for its SNS subscription."""
    event_bus_name: str
    """The bus the poller puts its events on (the template's EventBusName)."""
    events_queue_url: str
    """The queue a rule on that bus sends every ggwatch event to."""
    stack_variables: dict[str, str]
    """The Globals variables that follow the stack name (metrics namespace, service name)."""


def default_fake(step_seconds: float = 3.0) -> BulkDeploymentFake:
    """Self-running deployments with one of each realistic life, several active at once."""
    return BulkDeploymentFake(
        chooser=round_robin(demo_lives(step_seconds=step_seconds)),
        stopping_duration=step_seconds,
        allow_concurrent_starts=True,
    )


class LocalStack:
    """Starts and stops the stand-ins and provisions the template's resources in them."""

    def __init__(
        self,
        *,
        fake: BulkDeploymentFake | None = None,
        fleet: FleetFake | None = None,
        on_slack_message: SlackMessageCallback | None = None,
        region: str = DEFAULT_REGION,
        channels: tuple[SlackChannel, ...] = SLACK_CHANNELS,
        template: dict[str, Any] | None = None,
    ) -> None:
        self.fake = fake if fake is not None else default_fake()
        self.fleet = fleet if fleet is not None else FleetFake()
        self._on_slack_message = on_slack_message
        self._region = region
        self._channels = channels
        self._paths = {f"/services/T0LOCAL/B0{c.name.upper()}/{c.name}": c.name for c in channels}
        self._template = template
        self._moto: ThreadedMotoServer | None = None
        self._greengrass: GreengrassFakeServer | None = None
        self._slack: SlackReceiver | None = None
        self._last_receiver: SlackReceiver | None = None
        self._info: LocalStackInfo | None = None
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LocalStackInfo:
        """Start every server, create the resources, and say where they are."""
        if self._info is not None:
            raise RuntimeError("the local stack is already started")
        quiet_server_logs()
        try:
            self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._moto.start()
            self._greengrass = FleetFakeServer(self.fleet, bulk=self.fake).start()
            self._slack = self._last_receiver = SlackReceiver(on_message=self._received).start()
            self._info = self._provision(self._template or load_template())
        except BaseException:
            self.stop()
            raise
        return self._info

    def stop(self) -> None:
        """Stop whatever was started; safe to call twice, or after a failed start."""
        slack, greengrass, moto = self._slack, self._greengrass, self._moto
        self._slack = self._greengrass = self._moto = None
        self._info = None
        if slack is not None:
            slack.stop()
        if greengrass is not None:
            greengrass.stop()
        if moto is not None:
            moto.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # -- what callers use -----------------------------------------------------------------------
    @property
    def info(self) -> LocalStackInfo:
        if self._info is None:
            raise RuntimeError("the local stack is not started")
        return self._info

    @property
    def channels(self) -> tuple[SlackChannel, ...]:
        return self._channels

    def environment(self) -> dict[str, str]:
        """Everything the handlers and the CLI need, as standard AWS and ggwatch variables.

        The shared config and credentials files are pointed at the null device, so a developer's
        ~/.aws (profiles, endpoints, real keys) cannot steer a local run anywhere else.
        """
        info = self.info
        return {
            "AWS_ENDPOINT_URL": info.aws_endpoint_url,
            "AWS_ENDPOINT_URL_GREENGRASS": info.greengrass_endpoint_url,
            "AWS_ENDPOINT_URL_GREENGRASSV2": info.greengrass_endpoint_url,
            "AWS_ENDPOINT_URL_IOT": info.greengrass_endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": ACCESS_KEY,
            "AWS_DEFAULT_REGION": info.region,
            "AWS_REGION": info.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TABLE_NAME": info.table_name,
            "TOPIC_ARN": info.topic_arn,
            "EVENT_BUS_NAME": info.event_bus_name,
            "SLACK_WEBHOOKS_SECRET_ARN": info.slack_secret_arn,
            "POLL_REGIONS": "",  # the local stack polls its own region only
            **info.stack_variables,
        }

    def slack_messages(self) -> dict[str, list[dict[str, Any]]]:
        """Every message each channel accepted, oldest first (still readable once the stack stopped)."""
        receiver = self._last_receiver
        if receiver is None:
            raise RuntimeError("the local stack was never started")
        return {name: list(receiver.messages_to(path)) for path, name in self._paths.items()}

    def event_capture(self) -> EventCapture:
        """A reader of the queue that captures every ggwatch event put on the stack's bus."""
        return EventCapture(self.client("sqs"), self.info.events_queue_url)

    def client(self, service: str) -> Any:
        """A boto3 client for one moto service of this stack (explicit endpoint and dummy keys)."""
        info = self.info
        return _client(service, info.aws_endpoint_url, info.region)

    # -- internals ------------------------------------------------------------------------------
    def _received(self, path: str, payload: Any) -> None:
        name = self._paths.get(path)
        if name is not None and self._on_slack_message is not None:
            with self._lock:
                self._on_slack_message(name, payload)

    def _provision(self, template: dict[str, Any]) -> LocalStackInfo:
        assert self._moto is not None
        assert self._greengrass is not None
        assert self._slack is not None
        host, port = self._moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        suffix = uuid.uuid4().hex[:12].upper()
        table_name = create_table_from_template(
            _client("dynamodb", endpoint, self._region), f"{STACK_NAME}-DeploymentsTable-{suffix}", template
        )
        topic_id = _the_topic(template)
        topic_arn = create_topic(_client("sns", endpoint, self._region), template, topic_id, suffix)
        subscriptions = {
            function_id: subscribe_queue(
                _client("sns", endpoint, self._region),
                _client("sqs", endpoint, self._region),
                topic_arn,
                f"{STACK_NAME}-{function_id}-{suffix}",
                event_properties,
            )
            for function_id, event_properties in sns_subscribers(template, topic_id).items()
        }
        capture = create_event_capture(
            _client("events", endpoint, self._region),
            _client("sqs", endpoint, self._region),
            event_bus_name(template),
            f"{STACK_NAME}-events-{suffix}",
        )
        channels = {name: self._slack.url(path) for path, name in self._paths.items()}
        secret_arn = create_webhooks_secret(
            _client("secretsmanager", endpoint, self._region),
            f"{STACK_NAME}/slack-webhooks-{suffix}",
            self._channels,
            channels,
        )
        return LocalStackInfo(
            region=self._region,
            aws_endpoint_url=endpoint,
            greengrass_endpoint_url=self._greengrass.endpoint_url,
            table_name=table_name,
            topic_arn=topic_arn,
            slack_secret_arn=secret_arn,
            slack_channels=channels,
            subscriptions=subscriptions,
            event_bus_name=capture.bus_name,
            events_queue_url=capture.queue_url,
            stack_variables=stack_variables(template, STACK_NAME),
        )


def quiet_server_logs() -> None:
    """Keep werkzeug's per-request lines (moto's server) out of the terminal; errors still show."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=ACCESS_KEY, region_name=region
    ).client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def event_bus_name(template: dict[str, Any]) -> str:
    """The bus the template's EventBusName parameter names by default (as a stack deployed with no
    parameter overrides would use)."""
    return str(Resolver(template, stack_name=STACK_NAME)({"Ref": "EventBusName"}))


def _the_topic(template: dict[str, Any]) -> str:
    topics = sns_topic_logical_ids(template)
    if len(topics) != 1:
        raise ValueError(f"expected the template to declare one SNS topic, found {topics}")
    return topics[0]


_TOPIC_ATTRIBUTES = (
    "DisplayName",
    "KmsMasterKeyId",
    "FifoTopic",
    "ContentBasedDeduplication",
    "SignatureVersion",
)
"""AWS::SNS::Topic properties that are CreateTopic attributes of the same name."""


def create_topic(client: SNSClient, template: dict[str, Any], logical_id: str, suffix: str) -> str:
    """Create the template's topic (its attributes included) and return its ARN."""
    properties = template["Resources"][logical_id].get("Properties", {})
    attributes = {
        name: _attribute_value(properties[name], f"{logical_id}.{name}")
        for name in _TOPIC_ATTRIBUTES
        if name in properties
    }
    name = properties.get("TopicName") or f"{STACK_NAME}-{logical_id}-{suffix}"
    if not isinstance(name, str):
        raise ValueError(
            f"{logical_id}.TopicName uses an intrinsic function; a local stack cannot resolve it"
        )
    return client.create_topic(Name=name, Attributes=attributes)["TopicArn"]


def _attribute_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    raise ValueError(f"{where} is not a literal; a local stack cannot resolve it")


def sns_subscribers(template: dict[str, Any], topic_logical_id: str) -> dict[str, dict[str, Any]]:
    """Functions with an SNS event on the topic: logical id -> that event's properties."""
    subscribers: dict[str, dict[str, Any]] = {}
    for function_id, body in resources_of_type(template, "AWS::Serverless::Function").items():
        for event in (body.get("Properties", {}).get("Events") or {}).values():
            properties = event.get("Properties", {})
            if event.get("Type") == "SNS" and properties.get("Topic") == {"Ref": topic_logical_id}:
                subscribers[function_id] = properties
    return subscribers


def subscribe_queue(
    sns: SNSClient, sqs: SQSClient, topic_arn: str, queue_name: str, event_properties: Mapping[str, Any]
) -> QueueSubscription:
    """A queue subscribed like the function's SNS event: envelopes (not raw), its filter policy if any."""
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes: dict[str, str] = {}
    if "FilterPolicy" in event_properties:
        attributes["FilterPolicy"] = json.dumps(event_properties["FilterPolicy"])
        if "FilterPolicyScope" in event_properties:
            attributes["FilterPolicyScope"] = str(event_properties["FilterPolicyScope"])
    answer = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return QueueSubscription(queue_url=queue_url, subscription_arn=answer["SubscriptionArn"])


def create_webhooks_secret(
    client: SecretsManagerClient, name: str, channels: tuple[SlackChannel, ...], urls: Mapping[str, str]
) -> str:
    """The webhooks secret in the format the notifier reads: a JSON list of {url, name, statuses}."""
    entries: list[dict[str, Any]] = []
    for channel in channels:
        entry: dict[str, Any] = {"url": urls[channel.name], "name": channel.name}
        if channel.statuses is not None:
            entry["statuses"] = list(channel.statuses)
        entries.append(entry)
    return client.create_secret(Name=name, SecretString=json.dumps(entries))["ARN"]
