"""The `ggwatch` command: parse the arguments, run one command, turn expected failures into one line.

Exit codes, the same for every command: 0 success, 1 the operation failed (AWS refused, throttled or
unreachable; a deployment unknown or not polled), 2 a usage or configuration error (bad arguments,
no credentials, region, table, topic or stack), 130 interrupted. Command modules are imported here
only for their argparse definitions; each loads boto3 and the layer when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from ggwatch_cli import MAX_ECHOED_CHARS, CliError
from ggwatch_cli.commands import discover, listing, local, notify, paragraph, poll, status, tracking

COMMAND_GROUPS = (tracking, listing, status, poll, discover, notify, local)


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, like every other ggwatch error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"ggwatch: error: {_capped(message)} (see '{self.prog} --help')\n")


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print ggwatch's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("ggwatch")
        except PackageNotFoundError:
            installed = "unknown (not installed: pip install -e .)"
        print(f"ggwatch {installed}")
        parser.exit(0)


def _capped(message: str) -> str:
    """One line, every word of it short: a value echoed back (by argparse, or by AWS in its own
    error text) is cut, so pasting a 3,000-character blob never floods the terminal."""
    limit = 3 * MAX_ECHOED_CHARS
    return " ".join(
        word if len(word) <= limit else f"{word[:MAX_ECHOED_CHARS]}…({len(word)} characters)"
        for word in message.split()
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ggwatch",
        description=paragraph(
            "Operate ggwatch, which notifies every status transition of AWS IoT Greengrass V2 "
            "deployments and V1 bulk deployments: track deployments, inspect them, poll by hand, or "
            "run the local stack."
        ),
        epilog="examples:\n  ggwatch track --kind greengrass-v2 a3f1c2d4-7b8e-4f9a-8c1d-2e3f4a5b6c7d\n"
        "  ggwatch track --stack ggwatch 6f9b3c2e-1d4a-4b8e-9c7f-2a1e5d6b8c90\n"
        "  ggwatch list\n  ggwatch status --json bd-1\n  ggwatch local up\n\n"
        "'ggwatch COMMAND --help' describes each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ggwatch with `argv` (default: the process arguments) and return the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already reported by the parser
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return int(args.run(args))
    except CliError as error:
        print(f"ggwatch: error: {_capped(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("ggwatch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
