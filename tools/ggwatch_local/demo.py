"""`make demo`: the whole ggwatch loop, live, offline, on this machine.

An operator starts bulk deployments through a real boto3 Greengrass client (their lives come from the
simulator: some complete, some fail, some are stopped, one completes with invalid records and
retries) and tracks one unknown ID by hand. Each start reaches the tracker as its CloudTrail event;
the poller runs on a fast schedule; every message SNS delivers is handed to the Slack notifier; and
the terminal shows each transition and each Slack message as it happens, then a summary.

It stops by itself as soon as every deployment is terminal and every message delivered, or at the
time limit; Ctrl-C stops it cleanly. Exit status: 0 all done, 1 limit reached or something failed,
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import queue
import signal
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TextIO

try:  # a second or so of imports: Ctrl-C during them ends the demo like Ctrl-C after them
    import boto3

    from ggwatch_local.greengrass import BulkDeploymentFake, Life, lives
    from ggwatch_local.lambda_runtime import (
        ACCOUNT_ID,
        Delivery,
        Invocation,
        LambdaRuntime,
        SnsQueueDelivery,
        cloudtrail_start_event,
    )
    from ggwatch_local.slack_receiver import render_for_terminal
    from ggwatch_local.stack import SLACK_CHANNELS, LocalStack, LocalStackInfo, SlackChannel
except KeyboardInterrupt:
    raise SystemExit(130) from None

TERMINAL = frozenset({"Completed", "Failed", "Stopped", "TrackingFailed"})
UNKNOWN_LIFE = "unknown-id"
"""The life column of the deployment tracked by hand that Greengrass has never heard of."""
QUIET_HANDLERS = {"POWERTOOLS_LOG_LEVEL": "WARNING"}
"""The handlers' logs go to their local log streams anyway; this keeps those to what went wrong."""

STEP_SECONDS = 3.0
POLL_SECONDS = 1.0
START_GAP_SECONDS = 0.5
STOP_AFTER_STEPS = 1.5
"""Times at speed 1: how long each step of a life lasts, the schedule, the gap between two starts,
and when the operator stops a deployment that is to be stopped (mid-Running)."""


# -- options --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoOptions:
    deployments: int = 6
    speed: float = 1.0
    seconds: float = 60.0
    color: bool = True
    message_lines: int = 2


def parse_args(argv: list[str] | None) -> DemoOptions:
    parser = argparse.ArgumentParser(
        prog="python -m ggwatch_local.demo",
        description="The whole ggwatch loop, live, on a local stack (Ctrl-C stops it).",
    )
    parser.add_argument("--deployments", type=_positive(int), default=6, help="bulk deployments to start")
    parser.add_argument("--speed", type=_positive(float), default=1.0, help="time scale (2 = twice as fast)")
    parser.add_argument("--seconds", type=_positive(float), default=60.0, help="stop after this long at most")
    parser.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    parser.add_argument(
        "--message-lines", type=int, default=2, help="lines of each Slack message to show (0: all)"
    )
    args = parser.parse_args(argv)
    return DemoOptions(args.deployments, args.speed, args.seconds, not args.no_color, args.message_lines)


def _positive[T: (int, float)](kind: Callable[[str], T]) -> Callable[[str], T]:
    def parse(text: str) -> T:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


# -- the plan -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Planned:
    """One deployment the operator will start: its life, when to start it, and whether to stop it."""

    life_name: str
    life: Life
    start_at: float
    stop_after: float | None


def plan(options: DemoOptions) -> list[Planned]:
    """The named lives in turn, so every kind of ending shows up from four deployments on."""
    step = STEP_SECONDS / options.speed
    names = list(lives.NAMED_LIVES)
    planned = []
    for index in range(options.deployments):
        name = names[index % len(names)]
        life = lives.NAMED_LIVES[name](step_seconds=step)
        stop_after = STOP_AFTER_STEPS * step if "Stopping" in {s.status for s in life} else None
        planned.append(Planned(name, life, index * START_GAP_SECONDS / options.speed, stop_after))
    return planned


# -- what happened --------------------------------------------------------------------------------
@dataclass
class Tracked:
    """One deployment as the demo saw it: its transitions and the Slack messages they caused."""

    deployment_id: str
    life_name: str
    transitions: list[tuple[str | None, str]] = field(default_factory=list)
    transition_ids: set[str] = field(default_factory=set)
    messages: Counter[str] = field(default_factory=Counter)

    @property
    def status(self) -> str | None:
        return self.transitions[-1][1] if self.transitions else None

    @property
    def chain(self) -> str:
        statuses = [self.transitions[0][0] or "new"] if self.transitions else []
        return " → ".join([*statuses, *(status for _, status in self.transitions)])


@dataclass
class DemoReport:
    deployments: dict[str, Tracked] = field(default_factory=dict)
    duplicates: int = 0
    failed_deliveries: int = 0
    failed_invocations: list[Invocation] = field(default_factory=list)
    finished: bool = False
    interrupted: bool = False
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.finished and not (self.duplicates or self.failed_deliveries or self.failed_invocations)


# -- the terminal ---------------------------------------------------------------------------------
_STYLES = {
    "dim": "2",
    "bold": "1",
    "operator": "34",
    "tracker": "35",
    "poller": "2",
    "sns": "36",
    "slack": "32",
    "warn": "33",
    "error": "31",
}
_STATUS_STYLES = {
    "Completed": "32",
    "Failed": "31",
    "TrackingFailed": "35",
    "Stopped": "33",
    "Stopping": "33",
}


class Console:
    """Timestamped lines, coloured only when asked to; survives a terminal that cannot show emoji."""

    WHO_WIDTH = 10

    def __init__(self, out: TextIO, color: bool) -> None:
        self._out = out
        self._color = color

    def paint(self, text: str, style: str) -> str:
        code = _STYLES.get(style) or _STATUS_STYLES.get(style, "36")
        return f"\033[{code}m{text}\033[0m" if self._color else text

    def status(self, status: str | None) -> str:
        return self.paint(status or "new", status or "dim")

    def event(
        self, who: str, text: str, *, style: str, more: list[str] | None = None, at: float | None = None
    ) -> None:
        stamp = datetime.fromtimestamp(time.time() if at is None else at).strftime("%H:%M:%S.%f")[:-5]
        lines = [f"{self.paint(stamp, 'dim')}  {self.paint(who.ljust(self.WHO_WIDTH), style)}  {text}"]
        indent = " " * (len(stamp) + self.WHO_WIDTH + 4)
        lines += [f"{indent}{line}" for line in more or []]
        self.line("\n".join(lines))

    def line(self, text: str = "") -> None:
        try:
            self._out.write(text + "\n")
        except UnicodeEncodeError:
            encoding = getattr(self._out, "encoding", None) or "ascii"
            self._out.write(text.encode(encoding, "replace").decode(encoding) + "\n")
        self._out.flush()


def short(deployment_id: str) -> str:
    return deployment_id[:8]


# -- the demo -------------------------------------------------------------------------------------
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
        self._lives: deque[Life] = deque(p.life for p in self._plan)
        self._actions: list[_Action] = []
        self._order = 0
        self._inbox: queue.Queue[tuple[float, str, dict[str, Any]]] = queue.Queue()
        self._current: Tracked | None = None
        self._region = ""
        self._expected = len(self._plan) + 1

    # -- setting up -------------------------------------------------------------------------------
    def run(self) -> DemoReport:
        step = STEP_SECONDS / self.options.speed
        fake = BulkDeploymentFake(
            chooser=self._lives.popleft, stopping_duration=step, allow_concurrent_starts=True
        )
        stack = LocalStack(fake=fake, on_slack_message=lambda ch, p: self._inbox.put((time.time(), ch, p)))
        started = time.monotonic()
        try:
            with stack:
                self._header(stack.info, stack.channels)
                with LambdaRuntime(stack.environment(), overrides=QUIET_HANDLERS) as runtime:
                    self._loop(stack.info, runtime)
        finally:
            self.report.elapsed = time.monotonic() - started
        return self.report

    def _header(self, info: LocalStackInfo, channels: tuple[SlackChannel, ...]) -> None:
        o, c = self.options, self.console
        every = f"polled every {POLL_SECONDS / o.speed:g} s (speed {o.speed:g}, limit {o.seconds:g} s)"
        c.line(
            f"{c.paint('ggwatch demo', 'bold')} — {o.deployments} bulk deployments and 1 unknown ID, {every}"
        )
        c.line(f"  AWS (moto)   {info.aws_endpoint_url}   table {info.table_name}")
        c.line(f"  Greengrass   {info.greengrass_endpoint_url}")
        names = [
            f"#{ch.name} ({', '.join(ch.statuses) if ch.statuses else 'every status'})" for ch in channels
        ]
        c.line(f"  Slack        {'   '.join(names)}")
        if o.message_lines > 0:
            c.line(
                c.paint(
                    f"  (each Slack message: its first {o.message_lines} lines; --message-lines 0 shows all)",
                    "dim",
                )
            )
        c.line()

    # -- the loop ---------------------------------------------------------------------------------
    def _loop(self, info: LocalStackInfo, runtime: LambdaRuntime) -> None:
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
        return len(tracked) == self._expected and all(t.status in TERMINAL for t in tracked)

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
            self.console.event(who, success, style=who if who in _STYLES else "dim")
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
            tracked.transitions.append((body["previousStatus"], body["status"]))
        c = self.console
        text = (
            f"{short(tracked.deployment_id)}  {c.status(body['previousStatus'])} → {c.status(body['status'])}"
        )
        if body.get("errorMessage"):
            text += f"  {body['errorMessage']}"
            if body.get("errorDetails"):
                text += f" ({len(body['errorDetails'])} error details)"
        self.console.event("sns", text + ("  (duplicate!)" if duplicate else ""), style="sns")

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


# -- the summary ----------------------------------------------------------------------------------
SUMMARY_COLUMNS = ("deployment", "life", "final", "transitions")


def print_summary(report: DemoReport, channels: tuple[SlackChannel, ...], console: Console) -> None:
    """One row per deployment; columns are separated by at least two spaces, for eyes and for tests."""
    names = [channel.name for channel in channels]
    rows = [
        [
            short(t.deployment_id),
            t.life_name,
            t.status or "-",
            t.chain or "-",
            *(str(t.messages[n]) for n in names),
        ]
        for t in report.deployments.values()
    ]
    header = [*SUMMARY_COLUMNS, *(f"#{n}" for n in names)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    console.line()
    console.line(
        console.paint("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), "bold")
    )
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        cells[2] = console.paint(cells[2], row[2])
        console.line("  ".join(cells).rstrip())
    totals = Counter[str]()
    for tracked in report.deployments.values():
        totals.update(tracked.messages)
    transitions = sum(len(t.transitions) for t in report.deployments.values())
    messages = ", ".join(f"#{n} {totals[n]}" for n in names)
    ending = "interrupted" if report.interrupted else "done" if report.finished else "time limit reached"
    console.line(
        f"{ending} after {report.elapsed:.1f} s: {len(report.deployments)} deployments, {transitions} transitions, "
        f"messages {messages}; {report.duplicates} duplicates, {report.failed_deliveries} failed deliveries, "
        f"{len(report.failed_invocations)} failed invocations"
    )


# -- entry point ----------------------------------------------------------------------------------
@contextmanager
def _ctrl_c_requests_stop() -> Iterator[Callable[[], bool]]:
    """The first Ctrl-C asks the loop to stop (it finishes the call in hand); a second one interrupts."""
    requested: list[bool] = []

    def handle(signum: int, frame: Any) -> None:
        if requested:
            raise KeyboardInterrupt
        requested.append(True)

    try:
        previous = signal.signal(signal.SIGINT, handle)
    except ValueError:  # not the main thread: Ctrl-C cannot reach us anyway
        yield lambda: False
        return
    try:
        yield lambda: bool(requested)
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    options = parse_args(argv)
    stream = out if out is not None else sys.stdout
    console = Console(stream, color=options.color and stream.isatty())
    try:
        with _ctrl_c_requests_stop() as stop_requested:
            demo = Demo(options, console, stop_requested)
            try:
                report = demo.run()
            finally:
                print_summary(demo.report, SLACK_CHANNELS, console)
    except KeyboardInterrupt:
        return 130
    if report.interrupted:
        return 130
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
