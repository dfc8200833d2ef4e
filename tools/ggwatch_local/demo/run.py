"""The demo itself: the plan played against a local stack, and every step shown as it happens.

One loop in one thread drives everything (the operator's calls, the poller's schedule, SNS's
deliveries, the events a rule on the bus captured), so what the terminal shows is in the order it
happened and nothing needs a lock.
"""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import boto3

from ggwatch_local.event_capture import CAPTURE_PATTERN, CapturedEvent, EventCapture
from ggwatch_local.greengrass import BulkDeploymentFake, Life
from ggwatch_local.greengrass_v2 import FleetFake
from ggwatch_local.lambda_runtime import (
    ACCOUNT_ID,
    Delivery,
    Invocation,
    LambdaRuntime,
    SnsQueueDelivery,
    cloudtrail_start_event,
)
from ggwatch_local.slack_receiver import render_for_terminal
from ggwatch_local.stack import LocalStack, LocalStackInfo, SlackChannel

from .options import DemoOptions
from .plan import (
    POLL_SECONDS,
    START_GAP_SECONDS,
    STEP_SECONDS,
    UNKNOWN_LIFE,
    Planned,
    PlannedV2,
    plan,
    plan_v2,
)
from .report import V2, DemoReport, Tracked, device_progress, results_summary
from .timeline import STYLES, Console, short

QUIET_HANDLERS = {"POWERTOOLS_LOG_LEVEL": "WARNING"}
"""The handlers' logs go to their local log streams anyway; this keeps those to what went wrong."""


@dataclass(order=True)
class _Action:
    due: float
    order: int
    run: Callable[[], None] = field(compare=False)


class Demo:
    """Runs the plan against a local stack and reports what it saw."""

    def __init__(self, options: DemoOptions, console: Console, stop_requested: Callable[[], bool]) -> None:
        self.options = options
        self.console = console
        self.report = DemoReport()
        self._stop_requested = stop_requested
        self._plan = plan(options)
        self._plan_v2 = plan_v2(options)
        self._fleet = FleetFake()
        self._polls = 0
        self._lives: deque[Life] = deque(p.life for p in self._plan)
        self._actions: list[_Action] = []
        self._order = 0
        self._inbox: queue.Queue[tuple[float, str, dict[str, Any]]] = queue.Queue()
        self._current: Tracked | None = None
        self._region = ""
        self._expected = len(self._plan) + len(self._plan_v2) + 1

    # -- setting up -------------------------------------------------------------------------------
    def run(self) -> DemoReport:
        step = STEP_SECONDS / self.options.speed
        fake = BulkDeploymentFake(
            chooser=self._lives.popleft, stopping_duration=step, allow_concurrent_starts=True
        )
        stack = LocalStack(
            fake=fake, fleet=self._fleet, on_slack_message=lambda ch, p: self._inbox.put((time.time(), ch, p))
        )
        started = time.monotonic()
        try:
            with stack:
                self._header(stack.info, stack.channels)
                with LambdaRuntime(stack.environment(), overrides=QUIET_HANDLERS) as runtime:
                    self._loop(stack.info, runtime, stack.event_capture())
        finally:
            self.report.elapsed = time.monotonic() - started
        return self.report

    def _header(self, info: LocalStackInfo, channels: tuple[SlackChannel, ...]) -> None:
        o, c = self.options, self.console
        every = f"polled every {POLL_SECONDS / o.speed:g} s (speed {o.speed:g}, limit {o.seconds:g} s)"
        c.line(
            f"{c.paint('ggwatch demo', 'bold')} — {o.deployments} V1 bulk deployments, "
            f"{len(self._plan_v2)} V2 deployments and 1 unknown ID, {every}"
        )
        c.line(f"  AWS (moto)   {info.aws_endpoint_url}   table {info.table_name}")
        c.line(f"  Greengrass   {info.greengrass_endpoint_url}")
        names = [
            f"#{ch.name} ({', '.join(ch.statuses) if ch.statuses else 'every status'})" for ch in channels
        ]
        c.line(f"  Slack        {'   '.join(names)}")
        c.line(f"  EventBridge  bus {info.event_bus_name}, a rule capturing {json.dumps(CAPTURE_PATTERN)}")
        if o.message_lines > 0:
            c.line(
                c.paint(
                    f"  (each Slack message: its first {o.message_lines} lines; --message-lines 0 shows all)",
                    "dim",
                )
            )
        c.line()

    # -- the loop ---------------------------------------------------------------------------------
    def _loop(self, info: LocalStackInfo, runtime: LambdaRuntime, events: EventCapture) -> None:
        session = boto3.session.Session()  # reads the stack's environment, as any AWS client would
        self._region = info.region
        greengrass = session.client("greengrass")
        subscription = info.subscriptions["SlackNotifierFunction"]
        sns = SnsQueueDelivery(
            session.client("sqs"),
            subscription.queue_url,
            subscription.subscription_arn,
            runtime.function("SlackNotifierFunction"),
        )
        t0 = time.monotonic()
        for index, planned in enumerate(self._plan):
            self._schedule(t0 + planned.start_at, partial(self._start, greengrass, runtime, planned, index))
        unknown_at = t0 + len(self._plan) * START_GAP_SECONDS / self.options.speed
        self._schedule(unknown_at, partial(self._track_unknown, runtime))
        for planned_v2 in self._plan_v2:
            self._schedule(t0 + planned_v2.start_at, partial(self._create_v2, runtime, planned_v2))
        interval = POLL_SECONDS / self.options.speed
        next_poll = t0 + interval
        while not self._stop_requested():
            now = time.monotonic()
            if now - t0 >= self.options.seconds:
                self.console.event("demo", f"time limit of {self.options.seconds:g} s reached", style="warn")
                return
            self._run_due_actions(now)
            if now >= next_poll:
                self._poll(runtime)
                # A fixed rate, like the schedule; a run that overran it is not made up for.
                next_poll = max(next_poll + interval, time.monotonic())
            sns.deliver_ready(on_message=self._announce, on_delivery=self._delivered)
            events.drain(on_event=self._on_bus)  # PutEvents has sent them to the queue before it returned
            if self._all_terminal() and not self._actions and sns.idle():
                self.report.finished = True
                return
            wake = min([next_poll, *(a.due for a in self._actions[:1])])
            time.sleep(min(max(wake - time.monotonic(), 0.0), 0.05))
        self.report.interrupted = True

    def _schedule(self, due: float, run: Callable[[], None]) -> None:
        self._order += 1
        self._actions.append(_Action(due, self._order, run))
        self._actions.sort()

    def _run_due_actions(self, now: float) -> None:
        while self._actions and self._actions[0].due <= now:
            self._actions.pop(0).run()

    def _all_terminal(self) -> bool:
        tracked = self.report.deployments.values()
        return len(tracked) == self._expected and all(t.done for t in tracked)

    # -- the operator -----------------------------------------------------------------------------
    def _start(self, greengrass: Any, runtime: LambdaRuntime, planned: Planned, index: int) -> None:
        request = {
            "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/GreengrassBulkDeploymentRole",
            "InputFileUri": f"s3://ggwatch-demo/bulk/{planned.life_name}-{index + 1}.jsonl",
            "AmznClientToken": str(uuid.uuid4()),
        }
        answer = greengrass.start_bulk_deployment(**request, tags={"demo-life": planned.life_name})
        deployment_id = answer["BulkDeploymentId"]
        self.report.deployments[deployment_id] = Tracked(deployment_id, planned.life_name)
        self.console.event(
            "operator",
            f"StartBulkDeployment → {short(deployment_id)}  ({planned.life_name})",
            style="operator",
        )
        parameters = {key[0].lower() + key[1:]: value for key, value in request.items()}
        event = cloudtrail_start_event(
            answer, region=greengrass.meta.region_name, request_parameters=parameters
        )
        self._invoked(
            runtime.invoke("TrackerFunction", event), f"tracking {short(deployment_id)} (CloudTrail event)"
        )
        if planned.stop_after is not None:
            self._schedule(
                time.monotonic() + planned.stop_after, partial(self._stop, greengrass, deployment_id)
            )

    def _stop(self, greengrass: Any, deployment_id: str) -> None:
        try:
            greengrass.stop_bulk_deployment(BulkDeploymentId=deployment_id)
        except greengrass.exceptions.BadRequestException as error:
            reason = error.response.get("Error", {}).get("Message", "refused")
            self.console.event(
                "operator", f"StopBulkDeployment {short(deployment_id)}: {reason}", style="warn"
            )
            return
        self.console.event("operator", f"StopBulkDeployment {short(deployment_id)}", style="operator")

    def _create_v2(self, runtime: LambdaRuntime, planned: PlannedV2) -> None:
        """What CreateDeployment does, then the tracker told by direct invocation, as an operator would."""
        deployment_id = self._fleet.add(planned.life, tags={"demo-life": planned.life_name})
        tracked = Tracked(deployment_id, planned.life_name, kind=V2)
        self.report.deployments[deployment_id] = tracked
        target = planned.life.target
        text = (
            f"CreateDeployment → {short(deployment_id)}  ({planned.life_name}: {target.kind} {target.name})"
        )
        self.console.event("operator", text, style="operator")
        request = {"deploymentId": deployment_id, "kind": "greengrass-v2"}
        self._invoked(
            runtime.invoke("TrackerFunction", request), f"tracking {short(deployment_id)} (direct invocation)"
        )
        self._schedule(
            time.monotonic() + STEP_SECONDS / self.options.speed,
            partial(self._next_v2_step, tracked, planned, self._polls),
        )

    def _next_v2_step(self, tracked: Tracked, planned: PlannedV2, polls_at_entry: int) -> None:
        """Move a V2 life on one step, once a poll has seen the step it is in (so no step goes unseen,
        at any speed); at its last step, mark it over."""
        now = time.monotonic()
        if self._polls == polls_at_entry:
            retry = partial(self._next_v2_step, tracked, planned, polls_at_entry)
            self._schedule(now + POLL_SECONDS / self.options.speed, retry)
            return
        index = self._fleet.get(tracked.deployment_id).step_index
        if index + 1 >= len(planned.life.steps):
            tracked.life_over = True
            return
        if planned.life.steps[index + 1].status == "CANCELED":
            self.console.event(
                "operator", f"CancelDeployment {short(tracked.deployment_id)}", style="operator"
            )
        self._fleet.advance(tracked.deployment_id)
        last = index + 2 >= len(planned.life.steps)
        due = now if last else now + STEP_SECONDS / self.options.speed
        self._schedule(due, partial(self._next_v2_step, tracked, planned, self._polls))

    def _track_unknown(self, runtime: LambdaRuntime) -> None:
        deployment_id = str(uuid.uuid4())
        self.report.deployments[deployment_id] = Tracked(deployment_id, UNKNOWN_LIFE)
        text = f"tracks {short(deployment_id)} by hand (an ID Greengrass never saw)"
        self.console.event("operator", text, style="operator")
        self._invoked(
            runtime.invoke("TrackerFunction", {"bulkDeploymentId": deployment_id}),
            f"tracking {short(deployment_id)} (direct invocation)",
        )

    # -- the app ----------------------------------------------------------------------------------
    def _poll(self, runtime: LambdaRuntime) -> None:
        event = {  # the Input that template.yaml gives the schedule
            "source": "ggwatch.schedule",
            "scheduleArn": f"arn:aws:scheduler:{self._region}:{ACCOUNT_ID}:schedule/default/ggwatch-local-poller",
            "scheduledTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "executionId": str(uuid.uuid4()),
            "attemptNumber": "1",
        }
        invocation = runtime.invoke("PollerFunction", event)
        self._polls += 1
        result = invocation.result if invocation.ok and isinstance(invocation.result, dict) else {}
        if invocation.ok and not (result.get("transitions") or result.get("failed")):
            return
        summary = f"{result.get('polled', 0)} polled, {result.get('transitions', 0)} transition(s) published"
        if result.get("failed"):
            summary += f", {result['failed']} failed"
        self._invoked(invocation, summary)

    def _invoked(self, invocation: Invocation, success: str) -> None:
        who = invocation.function.removesuffix("Function").lower()
        if invocation.ok:
            self.console.event(who, success, style=who if who in STYLES else "dim")
            return
        self.report.failed_invocations.append(invocation)
        self.console.event(who, f"invocation failed: {invocation.error_text}", style="error")

    def _announce(self, message_id: str, message: str, attempt: int) -> None:
        """A message SNS delivered, about to be handed to the notifier: the transition, once."""
        body: dict[str, Any] = json.loads(message)
        tracked = self.report.deployments.setdefault(
            body["deploymentId"], Tracked(body["deploymentId"], "(not started here)")
        )
        self._current = tracked
        if attempt > 1:
            self.console.event("sns", f"redelivering {message_id[:8]} (attempt {attempt})", style="warn")
            return
        duplicate = body["transitionId"] in tracked.transition_ids
        if duplicate:
            self.report.duplicates += 1
        else:
            tracked.transition_ids.add(body["transitionId"])
            tracked.transitions.append((body["previousStatus"], body["status"], tuple(body["changes"])))
        c = self.console
        status = c.paint(tracked.shown(body["status"], tuple(body["changes"])), body["status"])
        text = f"{short(tracked.deployment_id)}  {c.status(body['previousStatus'])} → {status}"
        if body.get("deploymentKind") == "greengrass-v2":
            tracked.devices = device_progress(body["metrics"])
            text += f"  [{tracked.devices}]"
        results = results_summary(body.get("results"))
        if results:
            tracked.results = results
            text += f"  results: {results}"
        if body.get("errorMessage"):
            text += f"  {body['errorMessage']}"
            if body.get("errorDetails"):
                text += f" ({len(body['errorDetails'])} error details)"
        self.console.event("sns", text + ("  (duplicate!)" if duplicate else ""), style="sns")

    def _on_bus(self, event: CapturedEvent) -> None:
        """An event the rule on the bus captured: counted against the transition SNS carried."""
        tracked = self.report.deployments.setdefault(
            event.deployment_id, Tracked(event.deployment_id, "(not started here)")
        )
        tracked.events[event.transition_id] += 1
        again = tracked.events[event.transition_id] > 1
        status = self.console.paint(event.status, event.status)
        text = (
            f'{short(event.deployment_id)}  {status}  "{event.detail_type}"  '
            f"transitionId {event.transition_id[:8]}"
        )
        self.console.event("events", text + ("  (duplicate!)" if again else ""), style="events")

    def _delivered(self, delivery: Delivery) -> None:
        """Show what reached Slack during the delivery, then how the delivery itself ended."""
        tracked = self._current
        while not self._inbox.empty():
            at, channel, payload = self._inbox.get_nowait()
            if tracked is not None:
                tracked.messages[channel] += 1
            first, *more = self._message_lines(payload) or [""]
            self.console.event(f"#{channel}", first, style="slack", at=at, more=more)
        if delivery.invocation.ok:
            return
        then = "will retry" if delivery.outcome == "retrying" else "gave up"
        self.console.event(
            "notifier",
            f"attempt {delivery.attempt} failed ({then}): {delivery.invocation.error_text}",
            style="error",
        )
        if delivery.outcome == "failed":
            self.report.failed_deliveries += 1

    def _message_lines(self, payload: dict[str, Any]) -> list[str]:
        lines = [line for line in render_for_terminal(payload).splitlines() if line and set(line) != {"="}]
        limit = self.options.message_lines
        return lines[:limit] if limit > 0 else lines
