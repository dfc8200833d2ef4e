"""`ggwatch track` and `ggwatch untrack`: what the tracker Lambda does, by hand, one line per ID.

`--kind` says which kind the IDs name: V1 bulk deployments by default (as before), or Greengrass V2.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ggwatch_cli.commands import Subparsers, add_command, aws_options, kind_option

if TYPE_CHECKING:
    from ggwatch.domain.models import TrackedDeployment


def register(subparsers: Subparsers) -> None:
    track = add_command(
        subparsers,
        "track",
        summary="start tracking deployments",
        description="Start tracking Greengrass V2 deployments (--kind greengrass-v2) or V1 bulk "
        "deployments (the default): the poller then notifies each of their status transitions. "
        "Tracking an ID twice changes nothing.",
        examples=[
            "ggwatch track --kind greengrass-v2 a3f1c2d4-7b8e-4f9a-8c1d-2e3f4a5b6c7d",
            "ggwatch track --kind greengrass-v2 --region eu-west-1 a3f1c2d4-7b8e-4f9a-8c1d-2e3f4a5b6c7d",
            "ggwatch track 6f9b3c2e-1d4a-4b8e-9c7f-2a1e5d6b8c90",
            "ggwatch track --stack ggwatch bd-1 bd-2",
        ],
        run=run_track,
        parents=[aws_options(deployment_region=True)],
    )
    track.add_argument("ids", nargs="+", metavar="ID", help="deployment ID")
    kind_option(track)
    untrack = add_command(
        subparsers,
        "untrack",
        summary="stop tracking deployments",
        description="Stop polling deployments of one kind (--kind, default greengrass-v1-bulk); their "
        "stored state is kept until the table's TTL removes it. Untracking an ID that is not tracked "
        "changes nothing.",
        examples=[
            "ggwatch untrack --kind greengrass-v2 a3f1c2d4-7b8e-4f9a-8c1d-2e3f4a5b6c7d",
            "ggwatch untrack 6f9b3c2e-1d4a-4b8e-9c7f-2a1e5d6b8c90",
            "ggwatch untrack --table ggwatch-dev bd-1",
        ],
        run=run_untrack,
        parents=[aws_options(deployment_region=True)],
    )
    untrack.add_argument("ids", nargs="+", metavar="ID", help="deployment ID")
    kind_option(untrack)


def run_track(args: argparse.Namespace) -> int:
    return _apply(args, "track")


def run_untrack(args: argparse.Namespace) -> int:
    return _apply(args, "untrack")


def _apply(args: argparse.Namespace, action: str) -> int:
    """Validate every ID and the region before changing anything, then apply one request per ID through
    the Tracker."""
    from ggwatch_cli.commands.context import aws_command, deployment_region, track_request

    region = deployment_region(args)
    requests = [
        track_request(deployment_id, action, kind=args.kind, region=region)
        for deployment_id in dict.fromkeys(args.ids)
    ]
    with aws_command(args) as aws:
        if action == "track":
            aws.check_polled(region)
        tracker, repository = aws.tracker, aws.repository
        for request in requests:
            changed = tracker.apply(request).changed
            if action == "untrack":
                outcome = "untracked" if changed else "not tracked"
            elif changed:
                outcome = "tracked" if region is None else f"tracked in {region}"
            else:
                stored = repository.get(request.kind, request.deployment_id)
                outcome = _already_tracked(stored, aws.regions.stored(region))
            print(f"{request.deployment_id}: {outcome}", flush=True)
    return 0


def _already_tracked(stored: TrackedDeployment | None, region: str | None) -> str:
    """A finished deployment is tracked but no longer polled, and a tracked one keeps its first region:
    say so, or re-tracking looks broken."""
    from ggwatch_cli.output import state_of

    elsewhere = f" in {stored.region or 'the stack region'}" if stored and stored.region != region else ""
    if stored is None or stored.active:
        return f"already tracked{elsewhere}"
    return f"already tracked{elsewhere} ({state_of(stored)}: {stored.status})"
