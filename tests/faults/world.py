"""A small world for fault tests: the real handlers, wired as in AWS, with faults at every seam.

- DynamoDB, SNS, SQS and Secrets Manager are moto, in process (aws.py); the table comes from
  template.yaml and is read through table.py.
- The topic's subscribers and the Slack channels are channels.py; Greengrass (V1 bulk deployments, and
  V2 deployments with their IoT jobs) is the project's fake over loopback HTTP.
- `calls` plays faults and pauses inside the handlers' own AWS calls (faults.py); overlapping runs
  meet there (overlap.py).
- Time: the poller, the delivery ledger and the Slack client read `clock` (tests/clock.py), which moves only
  when a test says so, when the Slack client waits, or when Lambda waits before retrying the notifier.
- `check` and `assert_honest` are invariant.py, against the transitions the lives owe (lives.py).

The world is one object so that a test reads as a story: add deployments, inject faults, run, check.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from ggwatch.adapters.delivery_ledger import DynamoDeliveryLedger
from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.adapters.slack_webhook import RetryPolicy, SlackWebhookClient
from ggwatch.domain.models import DeploymentKind
from ggwatch.services.poller import Poller, PollReport
from ggwatch_local.greengrass import BulkDeploymentFake, Step
from ggwatch_local.greengrass_v2 import FleetFake, FleetFakeServer, FleetLife
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from ggwatch_local.slack_receiver import SlackReceiver, no_service
from tests.clock import START, Clock
from tests.conftest import context_with
from tests.faults import aws, invariant, overlap
from tests.faults.channels import (
    BROKEN_PATH,
    KillablePoster,
    Published,
    SlackPost,
    Subscribers,
    webhooks_secret,
)
from tests.faults.faults import CallFaults, SimulatedCrash, Stage
from tests.faults.invariant import Figures
from tests.faults.lives import AnyLife, FleetRecord, Life
from tests.faults.table import Table

SCHEDULE_SECONDS = 61
"""A little more than the poller's rate(1 minute): two ticks pass the default claim lease."""


@dataclass(frozen=True)
class WorldOptions:
    sdk_attempts: int = 3
    """botocore's total_max_attempts for every adapter (the code's own: sdk_config.ATTEMPTS), with
    no backoff sleep."""
    read_timeout: float = 1.0
    lease_seconds: int = 120
    slack_timeout: float = 4.0
    """The Slack client's timeout (RetryPolicy's own default); only timeout tests lower it."""
    broken_statuses: frozenset[str] = frozenset()
    """Statuses a third webhook, `broken`, wants and Slack always refuses: those notifications must
    end in the DLQ (and still reach ops and alerts)."""
    poll_concurrency: int = 4
    """POLL_CONCURRENCY: the poller runs its deployments concurrently, as in production (small worlds
    of a few deployments need no more than 4 to overlap every one of them)."""
    slack_min_interval: float = 1.0
    """Slack refuses (429, Retry-After) a second message to one webhook within this many seconds of
    the world's clock, as it does for more than about one a second."""


class World:
    """Build it with `World.opened(...)` (a context manager) or the `world` fixtures."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, table_name: str, options: WorldOptions) -> None:
        self.options = options
        self.clock = Clock()
        self.calls = CallFaults()
        self.greengrass = BulkDeploymentFake()
        self.fleet = FleetFake(clock=self.clock.epoch)
        self.receiver = SlackReceiver(min_interval_seconds=options.slack_min_interval, clock=self.clock.epoch)
        self.slack_sleeps: list[float] = []
        self.slack_kills: list[str] = []
        """Webhook names: the notifier is killed while posting to each, once, before Slack has it."""
        self.lives: dict[str, AnyLife] = {}
        self.runs = self.crashes = self.deadlines = self.overlaps = 0
        self._environments: list[Poller] = []
        """Warm execution environments for overlapping runs, reused like Lambda reuses them."""
        self._monkeypatch = monkeypatch
        self._stack = ExitStack()
        self._aws = aws.session()
        self._table = Table(self._aws, table_name)
        self._poller = load_handler("poller")
        self._tracker = load_handler("tracker")
        self._slack = load_handler("slack_notifier")
        self._subscribers = Subscribers(self._aws, self._slack.lambda_handler, wait=self.clock.advance)

    @classmethod
    def opened(
        cls, monkeypatch: pytest.MonkeyPatch, table_name: str, options: WorldOptions | None = None
    ) -> _Opened:
        return _Opened(cls(monkeypatch, table_name, options or WorldOptions()))

    # -- setting up and tearing down ------------------------------------------------------------------
    def _open(self) -> None:
        patch = self._monkeypatch
        server = self._stack.enter_context(FleetFakeServer(self.fleet, bulk=self.greengrass))
        self._stack.enter_context(self.receiver)
        for service in ("GREENGRASS", "GREENGRASSV2", "IOT"):
            patch.setenv(f"AWS_ENDPOINT_URL_{service}", server.endpoint_url)
        patch.setenv("TABLE_NAME", self._table.name)
        patch.setenv("TOPIC_ARN", self._subscribers.create_topic())
        patch.setenv("CLAIM_LEASE_SECONDS", str(self.options.lease_seconds))
        for rate in (
            "GET_BULK_DEPLOYMENT_STATUS",
            "GET_DEPLOYMENT",
            "DESCRIBE_JOB",
            "LIST_JOB_EXECUTIONS_FOR_JOB",
        ):
            # The client-side rate limit waits on the real clock, the world's time is simulated: rates
            # far above what the world calls keep runs fast (the limit has tests on a controlled clock).
            patch.setenv(f"RATE_{rate}", "1000")
        patch.setenv("POLL_CONCURRENCY", str(self.options.poll_concurrency))
        broken = self.options.broken_statuses
        patch.setenv("SLACK_WEBHOOKS_SECRET_ARN", webhooks_secret(self._aws, self.receiver, broken))
        if broken:
            self.receiver.refuse(BROKEN_PATH, no_service())
        aws.fast_sdk(patch, attempts=self.options.sdk_attempts, timeout=self.options.read_timeout)
        handlers = aws.session()
        self.calls.install(handlers.events)
        patch.setattr(boto3, "DEFAULT_SESSION", handlers)
        patch.setattr(self._poller, "Poller", functools.partial(Poller, clock=self.clock))
        patch.setattr(
            self._slack,
            "DynamoDeliveryLedger",
            functools.partial(DynamoDeliveryLedger, clock=self.clock.epoch),
        )
        policy = RetryPolicy(timeout_seconds=self.options.slack_timeout)
        patch.setattr(
            self._slack,
            "SlackWebhookClient",
            lambda: KillablePoster(
                SlackWebhookClient(policy, sleep=self._slack_sleep, clock=self.clock.epoch), self.slack_kills
            ),
        )
        self._cold_start()

    def _slack_sleep(self, seconds: float) -> None:
        """The Slack client waits (backoff, Retry-After, pace) on the world's clock."""
        self.slack_sleeps.append(seconds)
        self.clock.advance(seconds)

    def _close(self) -> None:
        try:
            self._stack.close()
        finally:
            self._cold_start()

    def _cold_start(self) -> None:
        """Forget every handler's cached clients and settings, and the cached secret."""
        self._poller.cold_start.cache_clear()
        self._tracker.tracker.cache_clear()
        self._slack.slack_delivery.cache_clear()
        parameters.clear_caches()  # type: ignore[no-untyped-call]

    # -- deployments --------------------------------------------------------------------------------
    def add(self, deployment_id: str, *life: Step) -> None:
        """A Greengrass deployment with a life moved only by `advance`, tracked like the CLI does."""
        self.greengrass.add(deployment_id, life)
        self.lives[deployment_id] = Life(deployment_id, list(life))
        self.track(deployment_id)

    def add_fleet(self, life: FleetLife) -> str:
        """A Greengrass V2 deployment moved only by `advance`, tracked (as the CLI would) by its ID."""
        deployment_id = self.fleet.add(life)
        self.lives[deployment_id] = FleetRecord(deployment_id, life)
        self._table.kinds[deployment_id] = DeploymentKind.GREENGRASS_V2.value
        DynamoDeploymentRepository(self._table.name).track(
            DeploymentKind.GREENGRASS_V2, deployment_id, tracked_by="test", now=START
        )
        return deployment_id

    @property
    def fleet_ids(self) -> set[str]:
        """The Greengrass V2 deployments of this world."""
        return {d for d, life in self.lives.items() if isinstance(life, FleetRecord)}

    def add_unknown(self, deployment_id: str) -> None:
        """Tracked, but Greengrass has never heard of it."""
        self.lives[deployment_id] = Life(deployment_id, [])
        self.track(deployment_id)

    def track(self, deployment_id: str) -> None:
        self._tracker.lambda_handler({"bulkDeploymentId": deployment_id}, context_with())

    def advance(self, deployment_id: str, item: Mapping[str, Any] | None = None) -> str:
        """Move a life on one step, which the poller must have stored first (so it was observable)."""
        life = self.lives[deployment_id]
        stored = self.item(deployment_id) if item is None else item
        assert life.observed(stored), (
            f"{deployment_id}: the poller has not stored step {life.shown} ({life.current.status}) yet: {stored}"
        )
        fleet = isinstance(life, FleetRecord)
        status = self.fleet.advance(deployment_id) if fleet else self.greengrass.advance(deployment_id)
        life.shown += 1
        return status

    def observed(self, deployment_id: str, item: Mapping[str, Any]) -> bool:
        """Whether the stored item is the current step, committed (no claim pending)."""
        return self.lives[deployment_id].observed(item)

    def finished(self, deployment_id: str) -> bool:
        """Whether the fake shows the last step of the deployment's life (always, for an unknown ID)."""
        return self.lives[deployment_id].finished

    def settled(self) -> bool:
        """Every deployment's current step is stored, and nothing waits for Slack."""
        items = self.items(self.lives)
        return all(self.observed(d, items[d]) for d in self.lives) and self._subscribers.slack_empty()

    # -- running the handlers -----------------------------------------------------------------------
    def poll(self, context: LambdaContext | None = None) -> dict[str, Any] | None:
        """One scheduled poller invocation; None when it was killed (SimulatedCrash) or failed."""
        self.runs += 1
        try:
            summary: dict[str, Any] = self._poller.lambda_handler(
                {"source": "ggwatch.schedule"}, context or context_with()
            )
        except SimulatedCrash:
            self.crashes += 1
            self._poller.cold_start.cache_clear()  # the next run starts in a fresh environment
            return None
        except Exception:  # the invocation failed; the next scheduled run is its retry
            return None
        if summary["stoppedAtDeadline"]:
            self.deadlines += 1
        return summary

    def poll_elsewhere(self) -> PollReport:
        """A run in a second execution environment (own clients), e.g. from inside a paused call."""
        self.runs += 1
        report: PollReport = self._poller.cold_start.__wrapped__().poller.run(
            context_with().get_remaining_time_in_millis
        )
        return report

    def poll_overlapping(
        self, runs: int = 2, *, rendezvous: Stage = "status"
    ) -> list[PollReport | BaseException]:
        """`runs` poller runs, each in its own warm execution environment, forced to interleave at every
        `rendezvous` call (see overlap.run_together)."""
        while len(self._environments) < runs:
            self._environments.append(self._poller.cold_start.__wrapped__().poller)
        outcomes = overlap.run_together(self._environments[:runs], self.calls, rendezvous)
        self.runs += runs
        self.overlaps += 1
        crashed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, SimulatedCrash)]
        self.crashes += len(crashed)
        for index in reversed(crashed):
            del self._environments[index]  # a killed environment is replaced by a cold one
        return outcomes

    def deliver_slack(self) -> None:
        """Invoke the Slack notifier for every message on its subscription, as Lambda would."""
        self._subscribers.deliver_slack()

    def drain(self) -> list[Published]:
        """Read what the automation subscriber received since the last drain (kept in `published`)."""
        return self._subscribers.drain()

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
    @property
    def published(self) -> list[Published]:
        return self._subscribers.published

    @property
    def dead_letters(self) -> list[dict[str, Any]]:
        return self._subscribers.dead_letters

    @property
    def slack_attempts(self) -> Counter[str]:
        return self._subscribers.slack_attempts

    def item(self, deployment_id: str) -> dict[str, Any]:
        return self._table.item(deployment_id)

    def items(self, deployment_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored items by deployment id ({} for none), read in batches."""
        return self._table.items(deployment_ids)

    def put_item(self, item: Mapping[str, Any]) -> None:
        self._table.put(item)

    def send_to_slack_subscription(self, envelope: Mapping[str, Any]) -> None:
        """A message on the notifier's subscription that ggwatch did not publish."""
        self._subscribers.send_to_slack(envelope)

    def posts(self, path: str) -> list[SlackPost]:
        return [SlackPost.of(payload) for payload in self.receiver.messages_to(path)]

    def faults(self) -> int:
        """Faults actually served: Greengrass answers, AWS call rules, Slack replies, deadlines hit."""
        greengrass = sum(1 for call in [*self.greengrass.calls, *self.fleet.calls] if call.fault is not None)
        slack = sum(1 for request in self.receiver.requests if not request.reply.accepted)
        return greengrass + self.calls.count(exclude=overlap.RENDEZVOUS) + slack + self.deadlines

    # -- the invariant ------------------------------------------------------------------------------
    def assert_honest(self, items: Mapping[str, Mapping[str, Any]]) -> None:
        """See invariant.assert_honest: a stored status was published under its lastTransitionId."""
        invariant.assert_honest(self.published, items)

    def check(self, *, copies_allowed: Iterable[str] = ()) -> Figures:
        """See invariant.check: every expected transition exactly once per channel."""
        self.drain()
        figures = Figures(
            runs=self.runs,
            faults=self.faults(),
            crashes=self.crashes,
            deadlines=self.deadlines,
            overlaps=self.overlaps,
            slack_attempts=sum(self.slack_attempts.values()),
        )
        return invariant.check(
            figures,
            lives=self.lives.values(),
            published=self.published,
            posts=self.posts,
            dead_letters=self.dead_letters,
            copies_allowed=copies_allowed,
            refused_statuses=self.options.broken_statuses,
        )


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
