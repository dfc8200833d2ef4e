"""`ggwatch status ID`: what Greengrass says now, beside what ggwatch has stored."""

from __future__ import annotations

import argparse

from ggwatch_cli.commands import Subparsers, add_command, aws_options, json_option


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "status",
        summary="ask Greengrass about a bulk deployment now",
        description="Ask Greengrass for a bulk deployment's status now (GetBulkDeploymentStatus) and show "
        "it beside the state ggwatch has stored, to see whether the poller is behind. Needs the table.",
        examples=[
            "ggwatch status 6f9b3c2e-1d4a-4b8e-9c7f-2a1e5d6b8c90",
            "ggwatch status --stack ggwatch --json bd-1",
        ],
        run=run,
        parents=[aws_options()],
    )
    parser.add_argument("id", metavar="ID", help="bulk deployment ID")
    json_option(parser)


def run(args: argparse.Namespace) -> int:
    from ggwatch.exceptions import DeploymentNotFoundError
    from ggwatch_cli import CliError, shown
    from ggwatch_cli.commands.context import aws_command, track_request
    from ggwatch_cli.output import dumps, status_json, status_report

    request = track_request(args.id)
    with aws_command(args) as aws:
        stored = aws.repository.get(request.kind, request.deployment_id)
        try:
            observation = aws.source.get_status(request.deployment_id)
        except DeploymentNotFoundError as error:
            kept = f" (ggwatch has it stored as {stored.status})" if stored else ""
            raise CliError(
                f"Greengrass does not know bulk deployment {shown(args.id)}{kept}: {error}"
            ) from error
    print(dumps(status_json(observation, stored)) if args.json else status_report(observation, stored))
    return 0
