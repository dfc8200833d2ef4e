"""A small world for fault tests: the real handlers, wired as in AWS, with faults at every seam.

- DynamoDB, SNS, SQS and Secrets Manager are moto, in process; the table comes from template.yaml.
- The topic has two SQS subscribers: `automation` stands for any programmatic subscriber, `slack` for
  the slack_notifier's Lambda subscription. `deliver_slack` turns each `slack` message into the Lambda
  SNS event and invokes the real handler; the message is deleted only when the handler succeeds, and
  after Lambda's three attempts (MaximumRetryAttempts: 2 in template.yaml) it goes to `dead_letters`.
- Greengrass is the project's fake over loopback HTTP; Slack is a SlackReceiver with two webhooks:
  `ops` takes every status, `alerts` only Failed, Stopped and TrackingFailed.
- `calls` plays faults and pauses inside the handlers' own AWS calls, through botocore hooks on the
  default session that every handler client is built from, so the application code runs unchanged.
- Time: the poller and the delivery ledger read `clock`, which moves only when a test says so.

Expected notifications come from the lives the world drove: `advance` refuses to move a deployment on
before the poller has stored its current step, so every step was observable and each change between
two steps is exactly one expected transition.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import boto3
import botocore.session
import pytest
from aws_lambda_powertools.utilities import parameters
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import create_loader
from botocore.retries.standard import ExponentialBackoff
from moto.core.models import botocore_stubber

from ggwatch.adapters import delivery_ledger, dynamodb, greengrass_v1, sns
from ggwatch.adapters.delivery_ledger import DynamoDeliveryLedger
from ggwatch.adapters.slack_webhook import RetryPolicy, SlackWebhookClient
from ggwatch.observability import metrics
from ggwatch.services.poller import Poller, PollReport
from ggwatch.settings import PollerSettings
from ggwatch_local.greengrass import BulkDeploymentFake, GreengrassFakeServer, Status, Step
from ggwatch_local.lambda_runtime import load_handler
from ggwatch_local.slack_receiver import SlackReceiver
from tests.conftest import REGION, LambdaContext

OPS_PATH = "/services/T0FAULTS/B0OPS/ops"
ALERTS_PATH = "/services/T0FAULTS/B0ALERTS/alerts"
ALERT_STATUSES = frozenset({"Failed", "Stopped", "TrackingFailed"})
TRACKING_FAILED = "TrackingFailed"
LAMBDA_ATTEMPTS = 3
"""SNS invokes the Slack notifier asynchronously: one attempt and MaximumRetryAttempts (2) retries."""
SCHEDULE_SECONDS = 61
"""A little more than the poller's rate(1 minute): two ticks pass the default claim lease."""
SAFETY_MARGIN_MS = int(PollerSettings.model_fields["SAFETY_MARGIN_MS"].default)
"""The poller's default safety margin, which the world leaves as configured."""
SAFETY_TIMEOUT_S = 20.0
"""Only a safety net against a hung thread; no test relies on timing."""
KIND = "greengrass-v1-bulk"
_START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_TRANSITION = re.compile(r"^transition `([^`]+)`")
_deserializer = TypeDeserializer()


class SimulatedCrash(BaseException):
    """The runtime killing a run between two steps: not an Exception, so no `except Exception` sees it."""


# ---------------------------------------------------------------- faults inside the handlers' AWS calls

Stage = Literal["query", "status", "claim", "publish", "commit", "cursor"]
"""The poller's calls: Query of the active index, GetBulkDeploymentStatus, the claim UpdateItem,
SNS Publish, the commit UpdateItem and the cursor UpdateItem."""
Phase = Literal["before", "after"]
"""`before`: the call never reaches the service. `after`: the service did the work, then the fault."""


@dataclass(frozen=True)
class Call:
    stage: Stage
    deployment_id: str | None
    operation: str


Action = Callable[[Call], None]


@dataclass
class _Rule:
    stage: Stage
    phase: Phase
    action: Action
    deployment_id: str | None
    remaining: int | None
    label: str


@dataclass(frozen=True)
class Fired:
    stage: Stage
    phase: Phase
    deployment_id: str | None
    label: str


def aws_error(code: str = "InternalError", status: int = 500) -> Action:
    """The call fails as AWS answers when the SDK's retries are spent."""

    def fail(call: Call) -> None:
        answer: Any = {
            "Error": {"Code": code, "Message": "injected by the fault harness"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        raise ClientError(answer, call.operation)

    return fail


def crash(call: Call) -> None:
    """The run dies here, like a Lambda killed by its timeout or the runtime."""
    raise SimulatedCrash(f"killed at {call.stage} of {call.deployment_id}")


class CallFaults:
    """Rules played by botocore hooks: the first matching rule's action runs at a stage and phase."""

    _KEY = "ggwatch.faults.call"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self.fired: list[Fired] = []

    def install(self, events: Any) -> None:
        operations = [
            ("dynamodb", "UpdateItem"),
            ("dynamodb", "Query"),
            ("sns", "Publish"),
            ("greengrass", "GetBulkDeploymentStatus"),
        ]
        for service, operation in operations:
            events.register(f"before-parameter-build.{service}.{operation}", self._classify)
        for service in ("dynamodb", "sns", "greengrass"):
            events.register(f"before-call.{service}", self._before_call)
            events.register(f"after-call.{service}", self._after_call)

    def inject(
        self,
        stage: Stage,
        action: Action,
        *,
        phase: Phase = "before",
        deployment_id: str | None = None,
        times: int | None = 1,
        label: str | None = None,
    ) -> None:
        """Play `action` at the next `times` matching calls (None: every one, until cleared)."""
        name = label or f"{getattr(action, '__name__', 'action')}-{phase}-{stage}"
        with self._lock:
            self._rules.append(_Rule(stage, phase, action, deployment_id, times, name))

    def clear(self, label: str | None = None) -> None:
        with self._lock:
            self._rules = [rule for rule in self._rules if label is not None and rule.label != label]

    def count(self, *, exclude: str | None = None) -> int:
        with self._lock:
            return sum(1 for fired in self.fired if fired.label != exclude)

    def _classify(self, params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        call = _classify(str(model.name), params)
        if call is not None:
            context[self._KEY] = call

    def _before_call(self, context: dict[str, Any], **_: Any) -> None:
        self._play("before", context.get(self._KEY))

    def _after_call(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        if http_response.status_code < 300:
            self._play("after", context.get(self._KEY))

    def _play(self, phase: Phase, call: Call | None) -> None:
        if call is None:
            return
        with self._lock:
            rule = next(
                (
                    r
                    for r in self._rules
                    if (r.stage, r.phase) == (call.stage, phase)
                    and r.deployment_id in (None, call.deployment_id)
                ),
                None,
            )
            if rule is None:
                return
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
            self.fired.append(Fired(call.stage, phase, call.deployment_id, rule.label))
        rule.action(call)


def _classify(operation: str, params: Mapping[str, Any]) -> Call | None:
    """Which poller stage a call is (by what the adapters send), or None for calls no rule targets."""
    if operation == "GetBulkDeploymentStatus":
        return Call("status", params.get("BulkDeploymentId"), operation)
    if operation == "Publish":
        attributes = params.get("MessageAttributes") or {}
        return Call("publish", attributes.get("deploymentId", {}).get("StringValue"), operation)
    if operation == "Query":
        return Call("query", None, operation) if params.get("IndexName") == "active-index" else None
    key = str(params.get("Key", {}).get("pk", {}).get("S", ""))
    if key.startswith("POLLER#"):
        return Call("cursor", None, operation)
    if not key.startswith("DEPLOYMENT#"):
        return None
    deployment_id = key.split("#", 2)[2]
    if ":pending" in (params.get("ExpressionAttributeValues") or {}):
        return Call("claim", deployment_id, operation)
    if "#pending" in (params.get("ExpressionAttributeNames") or {}):
        return Call("commit", deployment_id, operation)
    return None  # track / untrack


_MOTO_LOCK = threading.RLock()


def _serialized_moto(event_name: str, request: Any, **kwargs: Any) -> Any:
    """moto's backends are not thread-safe: a conditional write could pass twice under two threads,
    which real DynamoDB never allows. One lock around each mocked call restores that atomicity."""
    with _MOTO_LOCK:
        return botocore_stubber(event_name=event_name, request=request, **kwargs)


_LOADER = create_loader()
"""One botocore loader for every session the fault suite makes: each handler cold start builds clients,
and a loader of its own per session would parse the same service models again every time."""


def _session() -> boto3.session.Session:
    """A session whose clients reach moto through `_serialized_moto` (in place of moto's own hook:
    botocore calls every before-send handler, so keeping both would play each request twice)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    session = boto3.session.Session(botocore_session=core, region_name=REGION)
    _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))  # boto3 appends its own each time
    session.events.unregister("before-send", cast(Any, botocore_stubber))
    session.events.register_first("before-send", _serialized_moto)
    return session


# ---------------------------------------------------------------- contexts and time


class Clock:
    """The time the poller and the delivery ledger see."""

    def __init__(self, start: datetime = _START) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def epoch(self) -> float:
        return self._now.timestamp()

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


@dataclass
class Countdown(LambdaContext):
    """A context whose time left drops by `spend_ms` at every look, as a run's time runs out."""

    spend_ms: int = 1000
    looks: int = 0

    def get_remaining_time_in_millis(self) -> int:
        left = self.remaining_ms - self.looks * self.spend_ms
        self.looks += 1
        return left


@dataclass
class TimedContext(LambdaContext):
    """A context whose time is spent by simulated slow calls; at zero the runtime kills the run."""

    def spend(self, ms: int) -> None:
        self.remaining_ms -= ms
        if self.remaining_ms <= 0:
            raise SimulatedCrash("the function timed out")


def deadline_after(items: int, *, margin_ms: int | None = None, spend_ms: int = 1000) -> Countdown:
    """Time for `items` deployments, then less than the poller's safety margin (SAFETY_MARGIN_MS)."""
    margin_ms = SAFETY_MARGIN_MS if margin_ms is None else margin_ms
    return Countdown(remaining_ms=margin_ms + items * spend_ms - 1, spend_ms=spend_ms)


# ---------------------------------------------------------------- what the channels received


Transition = tuple[str, str | None, str]
"""(deployment id, previous status, status)"""


@dataclass(frozen=True)
class Published:
    """One message as the automation subscriber received it."""

    message_id: str
    body: dict[str, Any]
    attributes: dict[str, str]

    @property
    def transition_id(self) -> str:
        return str(self.body["transitionId"])

    @property
    def transition(self) -> Transition:
        return (self.body["deploymentId"], self.body["previousStatus"], self.body["status"])


@dataclass(frozen=True)
class SlackPost:
    """One message a Slack channel shows; the transition is read from the context block."""

    transition_id: str | None
    header: str

    @classmethod
    def of(cls, payload: Any) -> SlackPost:
        if not isinstance(payload, dict):
            return cls(None, str(payload))
        header = str(payload.get("blocks", [{}])[0].get("text", {}).get("text", ""))
        for attachment in payload.get("attachments") or []:
            for block in attachment.get("blocks") or []:
                if block.get("type") != "context":
                    continue
                for element in block.get("elements") or []:
                    found = _TRANSITION.match(str(element.get("text", "")))
                    if found:
                        return cls(found.group(1), header)
        return cls(None, header)


@dataclass
class Figures:
    """What one check counted; `line` is what the soak prints."""

    runs: int = 0
    faults: int = 0
    transitions: int = 0
    delivered: int = 0
    ops: int = 0
    alerts: int = 0
    duplicates_dropped: int = 0
    lost: int = 0
    duplicated: int = 0
    crashes: int = 0
    deadlines: int = 0
    overlaps: int = 0
    slack_attempts: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"soak: runs={self.runs} faults={self.faults} transitions={self.transitions} "
            f"delivered={self.delivered} duplicates_dropped={self.duplicates_dropped} "
            f"lost={self.lost} duplicated={self.duplicated} "
            f"(ops={self.ops} alerts={self.alerts} crashes={self.crashes} deadlines={self.deadlines} "
            f"overlaps={self.overlaps} slack_invocations={self.slack_attempts})"
        )


# ---------------------------------------------------------------- the world


@dataclass
class _Life:
    """A deployment as the world drove it: the fake's life and how many of its steps were shown."""

    deployment_id: str
    steps: list[Step]
    shown: int = 1

    @property
    def known(self) -> bool:
        return bool(self.steps)

    @property
    def current(self) -> Step:
        return self.steps[self.shown - 1]

    @property
    def finished(self) -> bool:
        return not self.known or self.shown == len(self.steps)

    def expected(self) -> list[Transition]:
        """One transition per change of status or of error information between shown steps."""
        if not self.known:
            return [(self.deployment_id, None, TRACKING_FAILED)]
        transitions: list[Transition] = []
        before: tuple[str | None, Any] = (None, None)
        for step in self.steps[: self.shown]:
            now = (step.status, _errors_of(step))
            if now != before:
                transitions.append((self.deployment_id, before[0], step.status))
            before = now
        return transitions


def _errors_of(step: Step) -> tuple[str | None, tuple[tuple[str | None, str | None], ...]]:
    return step.error_message, tuple((d.code, d.message) for d in step.error_details)


@dataclass(frozen=True)
class WorldOptions:
    sdk_attempts: int = 3
    """botocore's total_max_attempts for every adapter (the code's own: sdk_config.ATTEMPTS), with
    no backoff sleep."""
    read_timeout: float = 1.0
    lease_seconds: int = 120
    slack_timeout: float = 5.0
    """The Slack client's timeout (RetryPolicy's own default); only timeout tests lower it."""


class World:
    """Build it with `World.opened(...)` (a context manager) or the `world` fixtures."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, table_name: str, options: WorldOptions) -> None:
        self.options = options
        self.table_name = table_name
        self.clock = Clock()
        self.calls = CallFaults()
        self.greengrass = BulkDeploymentFake()
        self.receiver = SlackReceiver()
        self.published: list[Published] = []
        self.dead_letters: list[dict[str, Any]] = []
        self.slack_attempts: Counter[str] = Counter()
        self.slack_sleeps: list[float] = []
        self.lives: dict[str, _Life] = {}
        self.runs = self.crashes = self.deadlines = self.overlaps = 0
        self.failed_invocations: list[Exception] = []
        self.rendezvous_broken = False
        self._queues: dict[str, str] = {}
        self._environments: list[Poller] = []
        """Warm execution environments for overlapping runs, reused like Lambda reuses them."""
        self._monkeypatch = monkeypatch
        self._stack = ExitStack()
        self._aws = _session()
        self._sqs = self._aws.client("sqs")
        self._dynamodb = self._aws.client("dynamodb")
        self._poller = load_handler("poller")
        self._tracker = load_handler("tracker")
        self._slack = load_handler("slack_notifier")

    @classmethod
    def opened(
        cls, monkeypatch: pytest.MonkeyPatch, table_name: str, options: WorldOptions | None = None
    ) -> _Opened:
        return _Opened(cls(monkeypatch, table_name, options or WorldOptions()))

    # -- setting up and tearing down ------------------------------------------------------------------
    def _open(self) -> None:
        patch = self._monkeypatch
        server = self._stack.enter_context(GreengrassFakeServer(self.greengrass))
        self._stack.enter_context(self.receiver)
        patch.setenv("AWS_ENDPOINT_URL_GREENGRASS", server.endpoint_url)
        patch.setenv("TABLE_NAME", self.table_name)
        patch.setenv("TOPIC_ARN", self._topic())
        patch.setenv("CLAIM_LEASE_SECONDS", str(self.options.lease_seconds))
        patch.setenv("SLACK_WEBHOOKS_SECRET_ARN", self._secret())
        self._fast_sdk()
        handlers = _session()
        self.calls.install(handlers.events)
        patch.setattr(boto3, "DEFAULT_SESSION", handlers)
        patch.setattr(self._poller, "Poller", functools.partial(Poller, clock=self.clock.now))
        patch.setattr(
            self._slack,
            "DynamoDeliveryLedger",
            functools.partial(DynamoDeliveryLedger, clock=self.clock.epoch),
        )
        policy = RetryPolicy(
            max_attempts=3, timeout_seconds=self.options.slack_timeout, max_total_seconds=60.0
        )
        patch.setattr(
            self._slack,
            "SlackWebhookClient",
            lambda: SlackWebhookClient(policy, sleep=self.slack_sleeps.append),
        )
        self._cold_start()

    def _close(self) -> None:
        try:
            self._stack.close()
        finally:
            self._cold_start()

    def _cold_start(self) -> None:
        """Forget every handler's cached clients and settings, and the cached secret."""
        self._poller.poller.cache_clear()
        self._tracker.tracker.cache_clear()
        self._slack.slack_delivery.cache_clear()
        parameters.clear_caches()  # type: ignore[no-untyped-call]

    def _fast_sdk(self) -> None:
        """Fewer attempts, short timeouts and no backoff sleeps, so that faults cost milliseconds."""
        config = Config(
            retries={"mode": "standard", "total_max_attempts": self.options.sdk_attempts},
            connect_timeout=self.options.read_timeout,
            read_timeout=self.options.read_timeout,
        )
        for module in (greengrass_v1, sns, dynamodb, delivery_ledger):
            self._monkeypatch.setattr(module, "API_CONFIG", config)
        self._monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)

    def _topic(self) -> str:
        topic = self._aws.client("sns")
        topic_arn = topic.create_topic(Name="ggwatch-notifications")["TopicArn"]
        for name in ("automation", "slack"):
            url = self._sqs.create_queue(QueueName=f"ggwatch-{name}")["QueueUrl"]
            arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
            topic.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn["QueueArn"])
            self._queues[name] = url
        return topic_arn

    def _secret(self) -> str:
        webhooks = [
            {"name": "ops", "url": self.receiver.url(OPS_PATH)},
            {"name": "alerts", "url": self.receiver.url(ALERTS_PATH), "statuses": sorted(ALERT_STATUSES)},
        ]
        secrets = self._aws.client("secretsmanager")
        return secrets.create_secret(Name="ggwatch/slack-webhooks", SecretString=json.dumps(webhooks))["ARN"]

    # -- deployments --------------------------------------------------------------------------------
    def add(self, deployment_id: str, *life: Step) -> None:
        """A Greengrass deployment with a life moved only by `advance`, tracked like the CLI does."""
        self.greengrass.add(deployment_id, life)
        self.lives[deployment_id] = _Life(deployment_id, list(life))
        self.track(deployment_id)

    def add_unknown(self, deployment_id: str) -> None:
        """Tracked, but Greengrass has never heard of it."""
        self.lives[deployment_id] = _Life(deployment_id, [])
        self.track(deployment_id)

    def track(self, deployment_id: str) -> None:
        self._tracker.lambda_handler({"bulkDeploymentId": deployment_id}, LambdaContext())

    def advance(self, deployment_id: str, item: Mapping[str, Any] | None = None) -> str:
        """Move a life on one step, which the poller must have stored first (so it was observable)."""
        life = self.lives[deployment_id]
        stored = self.item(deployment_id) if item is None else item
        assert self.observed(deployment_id, stored), (
            f"{deployment_id}: the poller has not stored step {life.shown} ({life.current.status}) yet: {stored}"
        )
        status = self.greengrass.advance(deployment_id)
        life.shown += 1
        return status

    def observed(self, deployment_id: str, item: Mapping[str, Any]) -> bool:
        """Whether the stored item is the current step, committed (no claim pending)."""
        life = self.lives[deployment_id]
        if "pending" in item:
            return False
        if not life.known:
            return item.get("status") == TRACKING_FAILED
        step = life.current
        stored_metrics = item.get("metrics") or {}
        stored_details = tuple((d.get("code"), d.get("message")) for d in item.get("errorDetails") or [])
        return (
            item.get("status") == step.status
            and int(stored_metrics.get("recordsProcessed", -1)) == step.records_processed
            and int(stored_metrics.get("invalidInputRecords", -1)) == step.invalid_input_records
            and int(stored_metrics.get("retryAttempts", -1)) == step.retry_attempts
            and (item.get("errorMessage"), stored_details) == _errors_of(step)
        )

    def finished(self, deployment_id: str) -> bool:
        """Whether the fake shows the last step of the deployment's life (always, for an unknown ID)."""
        return self.lives[deployment_id].finished

    def settled(self) -> bool:
        """Every deployment's current step is stored, and nothing waits for Slack."""
        items = self.items(self.lives)
        return all(self.observed(d, items[d]) for d in self.lives) and self._queue_empty("slack")

    # -- running the handlers -----------------------------------------------------------------------
    def poll(self, context: LambdaContext | None = None) -> dict[str, Any] | None:
        """One scheduled poller invocation; None when it was killed (SimulatedCrash) or failed."""
        self.runs += 1
        try:
            summary: dict[str, Any] = self._poller.lambda_handler(
                {"source": "ggwatch.schedule"}, context or LambdaContext()
            )
        except SimulatedCrash:
            self.crashes += 1
            self._poller.poller.cache_clear()  # the next run starts in a fresh environment
            return None
        except Exception as error:  # the invocation failed; the next scheduled run is its retry
            self.failed_invocations.append(error)
            return None
        if summary["stoppedAtDeadline"]:
            self.deadlines += 1
        return summary

    def poll_elsewhere(self) -> PollReport:
        """A run in a second execution environment (own clients), e.g. from inside a paused call."""
        self.runs += 1
        report: PollReport = self._poller.poller.__wrapped__().run(
            LambdaContext().get_remaining_time_in_millis
        )
        return report

    def poll_overlapping(
        self, runs: int = 2, *, rendezvous: Stage = "status"
    ) -> list[PollReport | BaseException]:
        """`runs` poller runs in threads, each in its own execution environment, meeting at every
        `rendezvous` call ("status": every GetBulkDeploymentStatus, so both read the same version
        before either claims; "query": once after reading the active index)."""
        while len(self._environments) < runs:
            self._environments.append(self._poller.poller.__wrapped__())
        environments = self._environments[:runs]
        barrier = threading.Barrier(runs, timeout=SAFETY_TIMEOUT_S)

        def meet(call: Call) -> None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                self.rendezvous_broken = True
                raise

        label = "rendezvous"
        once = rendezvous == "query"
        self.calls.inject(
            rendezvous, meet, phase="after" if once else "before", times=runs if once else None, label=label
        )
        outcomes: list[PollReport | BaseException] = [RuntimeError("did not finish")] * runs

        def run(index: int) -> None:
            try:
                outcomes[index] = environments[index].run(LambdaContext().get_remaining_time_in_millis)
            except BaseException as error:  # a SimulatedCrash kills only its own run
                outcomes[index] = error

        # Powertools metrics are process-global and flush themselves at 100 values, which is not
        # thread-safe; two real environments never share them, so start the pair from none.
        metrics.clear_metrics()
        threads = [threading.Thread(target=run, args=(i,), name=f"poller-{i}") for i in range(runs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SAFETY_TIMEOUT_S * 2)
        self.calls.clear(label)
        assert not any(thread.is_alive() for thread in threads), "an overlapping run hung"
        assert not self.rendezvous_broken, (
            "the overlapping runs did not meet: the interleaving was not forced"
        )
        self.runs += runs
        self.overlaps += 1
        crashed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, SimulatedCrash)]
        self.crashes += len(crashed)
        for index in reversed(crashed):
            del self._environments[index]  # a killed environment is replaced by a cold one
        return outcomes

    def deliver_slack(self) -> None:
        """Invoke the Slack notifier for every message on its subscription, as Lambda would."""
        queue = self._queues["slack"]
        while True:
            messages = self._sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            done = [message for message in messages if self._invoke_slack(queue, message)]
            if done:
                self._sqs.delete_message_batch(
                    QueueUrl=queue,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )

    def _invoke_slack(self, queue: str, message: Mapping[str, Any]) -> bool:
        """One invocation; True when the message is done with (handled, or dead-lettered)."""
        envelope = json.loads(message["Body"])
        key = str(envelope.get("MessageId") or message["MessageId"])
        self.slack_attempts[key] += 1
        try:
            self._slack.lambda_handler(_lambda_sns_event(envelope), LambdaContext())
        except Exception:
            if self.slack_attempts[key] < LAMBDA_ATTEMPTS:
                self._sqs.change_message_visibility(
                    QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
                return False
            self.dead_letters.append(envelope)
        return True

    def drain(self) -> list[Published]:
        """Read what the automation subscriber received since the last drain (kept in `published`)."""
        received: list[Published] = []
        for body in self._receive_all("automation"):
            envelope = json.loads(body)
            received.append(
                Published(
                    message_id=str(envelope["MessageId"]),
                    body=json.loads(envelope["Message"]),
                    attributes={k: v["Value"] for k, v in (envelope.get("MessageAttributes") or {}).items()},
                )
            )
        self.published += received
        return received

    def tick(self, seconds: float = SCHEDULE_SECONDS) -> None:
        self.clock.advance(seconds)

    def run_until_quiet(self, max_runs: int = 10) -> None:
        """Scheduled runs (a minute apart) and Slack deliveries until every step is stored and sent."""
        for _ in range(max_runs):
            self.tick()
            self.poll()
            self.deliver_slack()
            if self.settled():
                self.drain()
                return
        raise AssertionError(f"not quiet after {max_runs} runs: {self.items(self.lives)}")

    # -- reading state ------------------------------------------------------------------------------
    def item(self, deployment_id: str) -> dict[str, Any]:
        answer = self._dynamodb.get_item(
            TableName=self.table_name, Key={"pk": {"S": _key(deployment_id)}}, ConsistentRead=True
        )
        return _plain(answer.get("Item", {}))

    def items(self, deployment_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored items by deployment id ({} for none), read in batches."""
        ids = list(deployment_ids)
        found: dict[str, dict[str, Any]] = {d: {} for d in ids}
        for start in range(0, len(ids), 100):
            keys: list[Any] = [{"pk": {"S": _key(d)}} for d in ids[start : start + 100]]
            request: Any = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                answer = self._dynamodb.batch_get_item(RequestItems=request)
                for raw in answer["Responses"].get(self.table_name, []):
                    item = _plain(raw)
                    found[str(item["deploymentId"])] = item
                request = answer.get("UnprocessedKeys") or None
        return found

    def put_item(self, item: Mapping[str, Any]) -> None:
        self._dynamodb.put_item(TableName=self.table_name, Item=dict(item))

    def send_to_slack_subscription(self, envelope: Mapping[str, Any]) -> None:
        """A message on the notifier's subscription that ggwatch did not publish."""
        self._sqs.send_message(QueueUrl=self._queues["slack"], MessageBody=json.dumps(envelope))

    def posts(self, path: str) -> list[SlackPost]:
        return [SlackPost.of(payload) for payload in self.receiver.messages_to(path)]

    def faults(self) -> int:
        """Faults actually served: Greengrass answers, AWS call rules, Slack replies, deadlines hit."""
        greengrass = sum(1 for call in self.greengrass.calls if call.fault is not None)
        slack = sum(1 for request in self.receiver.requests if not request.reply.accepted)
        return greengrass + self.calls.count(exclude="rendezvous") + slack + self.deadlines

    def _queue_empty(self, name: str) -> bool:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queues[name],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(int(value) == 0 for value in attributes.values())

    def _receive_all(self, name: str) -> Iterator[str]:
        queue = self._queues[name]
        while True:
            messages = self._sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            for message in messages:
                yield message["Body"]
            self._sqs.delete_message_batch(
                QueueUrl=queue,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    # -- the invariant ------------------------------------------------------------------------------
    def assert_honest(self, items: Mapping[str, Mapping[str, Any]]) -> None:
        """The stored state never claims a transition was notified when it was not: a stored status
        is the status of the published transition named by lastTransitionId."""
        published = {p.transition_id: p for p in self.published}
        for deployment_id, item in items.items():
            status, last = item.get("status"), item.get("lastTransitionId")
            if status is None and last is None:
                continue
            notice = published.get(str(last))
            assert notice is not None and notice.transition == (
                deployment_id,
                notice.body["previousStatus"],
                status,
            ), f"{deployment_id} is stored as {status} (transition {last}) but that was never published"

    def check(self, *, copies_allowed: Iterable[str] = ()) -> Figures:
        """Every expected transition exactly once per channel; raise AssertionError listing what is not.

        `copies_allowed`: deployments where a crash after SNS accepted a message was injected, so the
        automation subscriber may hold copies with one transitionId (which consumers drop)."""
        self.drain()
        allowed = set(copies_allowed)
        figures = Figures(
            runs=self.runs,
            faults=self.faults(),
            crashes=self.crashes,
            deadlines=self.deadlines,
            overlaps=self.overlaps,
            slack_attempts=sum(self.slack_attempts.values()),
        )
        problems = figures.problems
        expected: Counter[Transition] = Counter(t for life in self.lives.values() for t in life.expected())
        figures.transitions = sum(expected.values())

        by_id: dict[str, list[Published]] = {}
        for published in self.published:
            by_id.setdefault(published.transition_id, []).append(published)
        distinct = {transition_id: copies[0] for transition_id, copies in by_id.items()}
        for transition_id, copies in by_id.items():
            if len(copies) == 1:
                continue
            figures.duplicates_dropped += len(copies) - 1
            deployment_id = copies[0].body["deploymentId"]
            if deployment_id not in allowed:
                figures.duplicated += len(copies) - 1
                problems.append(f"automation: {len(copies)} copies of {transition_id} ({deployment_id})")
            if any(copy.body != copies[0].body for copy in copies):
                problems.append(f"automation: copies of {transition_id} differ")
        figures.delivered = len(distinct)
        _compare("automation", expected, Counter(n.transition for n in distinct.values()), figures)
        figures.ops = self._check_channel("ops", OPS_PATH, expected, distinct, figures)
        alerts = Counter({t: n for t, n in expected.items() if t[2] in ALERT_STATUSES})
        figures.alerts = self._check_channel("alerts", ALERTS_PATH, alerts, distinct, figures)
        if self.dead_letters:
            figures.lost += len(self.dead_letters)
            problems.append(
                f"slack: {len(self.dead_letters)} event(s) dead-lettered after {LAMBDA_ATTEMPTS} attempts"
            )
        if problems:
            raise AssertionError("delivery invariant broken:\n  " + "\n  ".join(problems))
        return figures

    def _check_channel(
        self,
        channel: str,
        path: str,
        expected: Counter[Transition],
        distinct: Mapping[str, Published],
        figures: Figures,
    ) -> int:
        """Compare one Slack channel with the expected transitions; return how many posts it shows."""
        got: Counter[Any] = Counter()
        posts = self.posts(path)
        for post in posts:
            published = distinct.get(str(post.transition_id))
            if published is None:
                got[("no such transitionId", post.transition_id, post.header)] += 1
                continue
            if f"{published.body['status']} · {published.body['deploymentId']}" not in post.header:
                figures.problems.append(f"{channel}: message for {post.transition_id} reads {post.header!r}")
            got[published.transition] += 1
        _compare(channel, expected, got, figures)
        return len(posts)


class _Opened:
    def __init__(self, world: World) -> None:
        self._world = world

    def __enter__(self) -> World:
        try:
            self._world._open()
        except BaseException:
            self._world._close()
            raise
        return self._world

    def __exit__(self, *exc: object) -> None:
        self._world._close()


def _compare(channel: str, want: Counter[Any], got: Counter[Any], figures: Figures) -> None:
    lost, extra = want - got, got - want
    figures.lost += sum(lost.values())
    figures.duplicated += sum(extra.values())
    if lost:
        figures.problems.append(f"{channel}: lost: {sorted(lost.elements(), key=str)}")
    if extra:
        figures.problems.append(f"{channel}: unexpected or duplicated: {sorted(extra.elements(), key=str)}")


def _lambda_sns_event(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The event Lambda hands a function subscribed to the topic, built from the SQS copy."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{envelope.get('TopicArn')}:slack-notifier",
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope.get("MessageId"),
                    "TopicArn": envelope.get("TopicArn"),
                    "Subject": envelope.get("Subject"),
                    "Message": envelope.get("Message"),
                    "Timestamp": envelope.get("Timestamp"),
                    "MessageAttributes": envelope.get("MessageAttributes") or {},
                },
            }
        ]
    }


def _key(deployment_id: str) -> str:
    return f"DEPLOYMENT#{KIND}#{deployment_id}"


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def steps(*statuses: Status) -> tuple[Step, ...]:
    """A plain life, e.g. steps("Initializing", "Running", "Completed"); records grow at each step."""
    return tuple(Step(status, records_processed=i) for i, status in enumerate(statuses))
