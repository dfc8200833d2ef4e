"""`ggwatch list`: the tracked deployments and what ggwatch last stored about each."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ggwatch_cli.commands import Subparsers, add_command, aws_options, json_option

if TYPE_CHECKING:
    from ggwatch.domain.models import TrackedDeployment
    from ggwatch.ports import ActiveItem


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "list",
        summary="show tracked deployments and their stored state",
        description="Show every tracked deployment with its stored status, record metrics, last change "
        "and whether it is still polled (active), finished, or untracked. Active ones come first, "
        "then the most recently tracked.",
        examples=[
            "ggwatch list",
            "ggwatch list --active",
            "ggwatch list --stack ggwatch --json | jq '.[].status'",
        ],
        run=run,
        parents=[aws_options()],
    )
    parser.add_argument("--active", action="store_true", help="only deployments that are still polled")
    json_option(parser)


def run(args: argparse.Namespace) -> int:
    from ggwatch_cli.commands.context import aws_command
    from ggwatch_cli.output import deployment_json, deployments_table, dumps

    with aws_command(args) as aws:
        repository = aws.repository
        items = [
            item
            for item in repository.all()
            if not args.active or item.deployment is None or item.deployment.active
        ]
        home = aws.session.region_name  # where the table is: the region of a deployment stored without one
    deployments = _readable(items)
    if args.json:
        print(dumps([deployment_json(d, home) for d in deployments]))
    elif deployments:
        print(deployments_table(deployments, home))
    else:
        print("no active deployments" if args.active else "no tracked deployments")
    return 0


def _readable(items: list[ActiveItem]) -> list[TrackedDeployment]:
    """The deployments in display order; a garbled item is named on stderr, not silently dropped."""
    for item in items:
        if item.deployment is None:
            print(f"ggwatch: warning: skipping unreadable item {item.key}: {item.problem}", file=sys.stderr)
    deployments = [item.deployment for item in items if item.deployment is not None]
    return sorted(deployments, key=lambda d: (not d.active, -d.tracked_at.timestamp(), d.deployment_id))
