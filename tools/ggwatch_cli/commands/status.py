"""`ggwatch status ID`: what Greengrass says now, beside what ggwatch has stored."""

from __future__ import annotations

import argparse

from ggwatch_cli.commands import Subparsers, add_command, aws_options, json_option, kind_option


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "status",
        summary="ask Greengrass about a deployment now",
        description="Ask Greengrass for a deployment's status now and show it beside the state ggwatch "
        "has stored, to see whether the poller is behind. A Greengrass V2 deployment (--kind "
        "greengrass-v2: GetDeployment and its IoT job) shows its name, target and device counts; a V1 "
        "bulk deployment (the default: GetBulkDeploymentStatus) its record counts. Greengrass is asked in "
        "the deployment's region: --region, else the region ggwatch stored, else the stack's. Needs the "
        "table.",
        examples=[
            "ggwatch status --kind greengrass-v2 a3f1c2d4-7b8e-4f9a-8c1d-2e3f4a5b6c7d",
            "ggwatch status 6f9b3c2e-1d4a-4b8e-9c7f-2a1e5d6b8c90",
            "ggwatch status --stack ggwatch --json bd-1",
            "ggwatch status --region eu-west-1 bd-1",
        ],
        run=run,
        parents=[aws_options(deployment_region=True)],
    )
    parser.add_argument("id", metavar="ID", help="deployment ID")
    kind_option(parser)
    json_option(parser)


def run(args: argparse.Namespace) -> int:
    from ggwatch.exceptions import DeploymentNotFoundError
    from ggwatch_cli import CliError, shown
    from ggwatch_cli.commands.context import aws_command, track_request
    from ggwatch_cli.output import KIND_NOUNS, dumps, status_json, status_report

    request = track_request(args.id, kind=args.kind)
    with aws_command(args) as aws:
        stored = aws.repository.get(request.kind, request.deployment_id)
        region = aws.deployment_region or (stored.region if stored else None) or aws.session.region_name
        try:
            observation = aws.observe(request.kind, request.deployment_id, region)
        except DeploymentNotFoundError as error:
            kept = f" (ggwatch has it stored as {stored.status})" if stored else ""
            raise CliError(
                f"Greengrass in {region} does not know {KIND_NOUNS[request.kind]} {shown(args.id)}{kept}: {error}"
            ) from error
        home = aws.session.region_name
    if args.json:
        print(dumps(status_json(observation, stored, region, home)))
    else:
        print(status_report(observation, stored, region))
    return 0
