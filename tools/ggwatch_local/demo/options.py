"""The demo's command line: how many deployments, how fast, for how long, and how it looks."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ggwatch_local.number_options import number


@dataclass(frozen=True)
class DemoOptions:
    deployments: int = 6
    speed: float = 1.0
    seconds: float = 60.0
    color: bool = True
    message_lines: int = 2


def parse_args(argv: list[str] | None) -> DemoOptions:
    defaults = DemoOptions()
    parser = argparse.ArgumentParser(
        prog="make demo",
        usage='make demo ARGS="[--deployments N] [--speed X] [--seconds S] [--no-color] [--message-lines N]"',
        description="The whole ggwatch loop, live, on a local stack (Ctrl-C stops it).",
        epilog='example: make demo ARGS="--deployments 10 --speed 2"',
    )
    parser.add_argument(
        "--deployments",
        metavar="N",
        type=number(int, minimum=0, inclusive=False),
        default=defaults.deployments,
        help="bulk deployments to start (default: %(default)s)",
    )
    parser.add_argument(
        "--speed",
        metavar="X",
        type=number(float, minimum=0.0, inclusive=False),
        default=defaults.speed,
        help="time scale, 2 = twice as fast (default: %(default)s)",
    )
    parser.add_argument(
        "--seconds",
        metavar="S",
        type=number(float, minimum=0.0, inclusive=False),
        default=defaults.seconds,
        help="stop after this long at most (default: %(default)s)",
    )
    parser.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    parser.add_argument(
        "--message-lines",
        metavar="N",
        type=number(int, minimum=0),
        default=defaults.message_lines,
        help="lines of each Slack message to show, 0 for all (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    return DemoOptions(args.deployments, args.speed, args.seconds, not args.no_color, args.message_lines)
