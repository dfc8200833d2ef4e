"""The demo's command line: how many deployments, how fast, for how long, and how it looks."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


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
