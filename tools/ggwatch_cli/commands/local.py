"""`ggwatch local up`: the local stack on its own, to try the CLI and the handlers by hand.

It prints `export` lines for another shell and serves until Ctrl-C (or SIGTERM), then stops the stack
and exits 0: stopping is the normal end of this command, not a failure.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ggwatch_cli.commands import Subparsers, add_command
from ggwatch_local.number_options import number

READY = "# ggwatch local stack is up; Ctrl-C here stops it"
"""The last line printed once the stack serves (a shell comment, so pasting it is harmless)."""


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
        description="Start the local stack alone, print 'export NAME=value' lines to paste into another "
        "shell (endpoints, dummy credentials, region, table, topic), and serve until Ctrl-C. The "
        "Greengrass fake is seeded with self-running bulk deployments that take turns through its realistic lives "
        "(completes, fails, stopped, ...); deployments started through its API get lives too.",
        examples=[
            "ggwatch local up",
            "ggwatch local up --deployments 6 --step-seconds 10",
            "# then, in another shell, paste the export lines and try:",
            "ggwatch discover && ggwatch poll && ggwatch list",
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
        stack = LocalStack(fake=fake)
        try:
            stack.start()
        except OSError as error:
            raise CliError(f"cannot start the local stack: {error}") from error
        try:
            lines = [
                f"export {name}={shlex.quote(value)}" for name, value in sorted(stack.environment().items())
            ]
            lines += [
                f"# bulk deployment {view.deployment_id}: {' -> '.join(step.status for step in view.life)}"
                for view in fake.deployments()
            ]
            print("\n".join([*lines, READY]), flush=True)
            stopped.wait()
        finally:
            stack.stop()
    print("local stack stopped", file=sys.stderr)
    return 0


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
