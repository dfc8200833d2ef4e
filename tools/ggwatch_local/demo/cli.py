"""The entry point: options in, the demo run, the summary out (always, even after Ctrl-C), an exit status.

Exit status: 0 all done, 1 limit reached or something failed, 130 interrupted.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from ggwatch_local.stack import SLACK_CHANNELS

from .options import parse_args
from .run import Demo
from .summary import print_summary
from .timeline import Console


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
