"""`ggwatch poll`: one polling pass from the terminal, with the real Poller, printing each transition."""

from __future__ import annotations

import argparse

from ggwatch_cli.commands import Subparsers, add_command, aws_options, json_option


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "poll",
        summary="run one polling pass now",
        description="Run one pass of the poller: ask Greengrass about every active tracked deployment, "
        "publish each transition to the topic (and to the stack's EventBridge bus when GGWATCH_EVENT_BUS_NAME, "
        "EVENT_BUS_NAME or the stack's EventBusName output names one) and store it, exactly as the "
        "scheduled poller does. "
        "Exits 1 when a deployment could not be polled (it is retried on the next pass).",
        examples=["ggwatch poll --stack ggwatch", "ggwatch poll --dry-run", "ggwatch poll --json"],
        run=run,
        parents=[aws_options(topic=True)],
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="detect and print transitions, but publish and store nothing (needs no topic)",
    )
    json_option(parser)


def run(args: argparse.Namespace) -> int:
    from ggwatch_cli import CliError
    from ggwatch_cli.commands.context import aws_command
    from ggwatch_cli.output import FAILED, dumps, poll_json, poll_report

    with aws_command(args) as aws:
        report = aws.poll(dry_run=args.dry_run, verbose=args.verbose)
    print(dumps(poll_json(report, args.dry_run)) if args.json else poll_report(report, args.dry_run))
    failed = sum(report.count(result) for result in FAILED)
    if failed:
        raise CliError(f"{failed} of {len(report.outcomes)} deployments could not be polled (see above)")
    return 0
