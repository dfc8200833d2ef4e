"""`ggwatch local up`: the local stack on its own, to try the CLI and the handlers by hand.

It prints the lines to paste into another shell and serves until Ctrl-C (or SIGTERM), then stops the
stack and exits 0: stopping is the normal end of this command, not a failure. Meanwhile it plays the
topic's Slack subscription as Lambda would (the real notifier, fed from the queue that stands in for
it) and prints every message the local Slack channels receive, and every event put on the stack's
EventBridge bus (as a rule's target receives it), so a `ggwatch poll` or `ggwatch test-notify` in the
other shell shows where its notifications went.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

from ggwatch_cli.commands import Subparsers, add_command
from ggwatch_local.number_options import number

if TYPE_CHECKING:
    from ggwatch_local.event_capture import CapturedEvent
    from ggwatch_local.lambda_runtime import Delivery
    from ggwatch_local.stack import LocalStack

READY = "# ggwatch local stack is up; Ctrl-C here stops it"
"""The last line printed once the stack serves (a shell comment, so pasting it is harmless)."""
HIDDEN_PROFILES = (
    "# note: AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point at /dev/null so that nothing in that\n"
    "# shell reaches real AWS; your profiles are hidden there until you open a new shell or run\n"
    "# unset AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_GREENGRASS"
    " AWS_ENDPOINT_URL_GREENGRASSV2 AWS_ENDPOINT_URL_IOT"
)
DELIVERIES = (
    "# Slack messages posted by the local notifier, and EventBridge events put on the bus, are printed\n"
    "# here as they arrive"
)
EVENT_PREFIX = "eventbridge: "
DELIVERY_INTERVAL_SECONDS = 0.5
"""How often the topic's Slack subscription queue and the bus's capture queue are drained (SNS and
EventBridge deliver within moments, too)."""


def register(subparsers: Subparsers) -> None:
    local = subparsers.add_parser(
        "local",
        help="run ggwatch's local stack",
        description="Local stand-ins for AWS (DynamoDB, SNS, Secrets Manager, Greengrass) to try ggwatch.",
    )
    commands = local.add_subparsers(dest="local_command", metavar="COMMAND", required=True)
    up = add_command(
        commands,
        "up",
        summary="start the local stack and print its environment",
        description="Start the local stack alone, print 'unset' and 'export NAME=value' lines to paste "
        "into another shell (endpoints, dummy credentials, region, table, topic; they hide your AWS "
        "profiles in that shell), and serve until Ctrl-C, printing each message the local Slack "
        "channels receive and each event put on the local EventBridge bus. The Greengrass fake is seeded with self-running bulk deployments that take "
        "turns through its realistic lives (completes, fails, stopped, ...); deployments started "
        "through its API get lives too.",
        examples=[
            "ggwatch local up",
            "ggwatch local up --deployments 6 --step-seconds 10",
            "# then, in another shell, paste the unset and export lines and try:",
            "ggwatch discover && ggwatch poll && ggwatch list   # Slack messages and events show in the first shell",
        ],
        run=run_up,
    )
    up.add_argument(
        "--deployments",
        type=number(int, minimum=0),
        default=4,
        metavar="N",
        help="bulk deployments to seed (default: 4, one of each life)",
    )
    up.add_argument(
        "--step-seconds",
        type=number(float, minimum=0.0, inclusive=False),
        default=5.0,
        metavar="S",
        help="how long each step of a seeded deployment's life lasts (default: 5)",
    )


def run_up(args: argparse.Namespace) -> int:
    from ggwatch_cli import CliError, UsageError

    try:
        from ggwatch_local.greengrass import assign_lives
        from ggwatch_local.stack import LocalStack, default_fake
    except ImportError as error:
        raise UsageError(
            f"the local stack needs the dev dependencies (pip install -e '.[dev]'): {error}"
        ) from error

    fake = default_fake(step_seconds=args.step_seconds)
    for life in assign_lives(args.deployments, fake.chooser):
        fake.add(life=life)
    with _until_signalled() as stopped:
        # The runtime sends what a function prints to its log stream, and a Slack message arrives while
        # the notifier runs: the terminal is bound now.
        stack = LocalStack(fake=fake, on_slack_message=partial(_print_slack_message, sys.stdout))
        try:
            stack.start()
        except OSError as error:
            raise CliError(f"cannot start the local stack: {error}") from error
        try:
            print("\n".join([*_shell_lines(stack), READY]), flush=True)
            _deliver_until(stopped, stack)
        finally:
            stack.stop()
    print("local stack stopped", file=sys.stderr)
    return 0


def _shell_lines(stack: LocalStack) -> list[str]:
    """What to paste into another shell, with comments on what it does to that shell."""
    from ggwatch_local.lambda_runtime import STRAY_VARIABLES

    unset = [
        "GGWATCH_STACK_NAME",
        "GGWATCH_TABLE_NAME",
        "GGWATCH_TOPIC_ARN",
        "GGWATCH_EVENT_BUS_NAME",
        *STRAY_VARIABLES,
    ]
    lines = [f"unset {' '.join(unset)}"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in sorted(stack.environment().items())]
    lines += [
        f"# bulk deployment {view.deployment_id}: {' -> '.join(step.status for step in view.life)}"
        for view in stack.fake.deployments()
    ]
    return [*lines, HIDDEN_PROFILES, DELIVERIES]


def _deliver_until(stopped: threading.Event, stack: LocalStack) -> None:
    """Hand each message on the topic to the real Slack notifier, as its SNS subscription would, and
    print each event the bus's capture rule received."""
    from ggwatch_local.demo.run import QUIET_HANDLERS
    from ggwatch_local.lambda_runtime import LambdaRuntime, SnsQueueDelivery

    subscription = stack.info.subscriptions["SlackNotifierFunction"]
    events = stack.event_capture()
    with LambdaRuntime(stack.environment(), overrides=QUIET_HANDLERS) as runtime:
        delivery = SnsQueueDelivery(
            stack.client("sqs"),
            subscription.queue_url,
            subscription.subscription_arn,
            runtime.function("SlackNotifierFunction"),
        )
        while not stopped.wait(DELIVERY_INTERVAL_SECONDS):
            delivery.deliver_ready(on_delivery=_print_failed_delivery)
            events.drain(on_event=partial(_print_event, sys.stdout))


def _print_slack_message(out: TextIO, channel: str, payload: Any) -> None:
    text = payload.get("text") if isinstance(payload, dict) else None
    print(f"slack #{channel}: {text or payload}", file=out, flush=True)


def _print_event(out: TextIO, event: CapturedEvent) -> None:
    from ggwatch_local.event_capture import event_line

    print(f"{EVENT_PREFIX}{event_line(event)}", file=out, flush=True)


def _print_failed_delivery(delivery: Delivery) -> None:
    if not delivery.invocation.ok:
        then = "will retry" if delivery.outcome == "retrying" else "gave up"
        print(
            f"slack notifier: attempt {delivery.attempt} failed ({then}): {delivery.invocation.error_text}",
            flush=True,
        )


@contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM, instead of KeyboardInterrupt unwinding from anywhere.

    The previous handlers come back afterwards; a signal during start-up makes the command stop as
    soon as the stack is up.
    """
    stopped = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda *_: stopped.set()) for signum in signals}
    try:
        yield stopped
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
