"""`ggwatch discover`: track bulk deployments started before ggwatch was installed (or while it was down).

CloudTrail only tells the tracker about deployments started after the stack existed; this fills the gap
from ListBulkDeployments, asking each unknown deployment's status so that finished ones stay untracked.
"""

from __future__ import annotations

import argparse
from collections import Counter

from ggwatch_cli.commands import Subparsers, add_command, aws_options


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "discover",
        summary="track running bulk deployments that ggwatch does not know yet",
        description="List bulk deployments (ListBulkDeployments) and track each one that ggwatch has no "
        "record of and that has not finished (asking GetBulkDeploymentStatus to decide). Deployments "
        "ggwatch knows, including untracked ones, are left as they are.",
        examples=["ggwatch discover --dry-run", "ggwatch discover --stack ggwatch"],
        run=run,
        parents=[aws_options()],
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would be tracked; track nothing")


def run(args: argparse.Namespace) -> int:
    from ggwatch.domain.models import is_terminal
    from ggwatch.exceptions import DeploymentNotFoundError
    from ggwatch_cli.commands.context import aws_command, track_request

    counts: Counter[str] = Counter()
    with aws_command(args) as aws:
        repository, source, tracker = aws.repository, aws.source, aws.tracker
        for summary in source.list_deployments():
            if repository.get(summary.kind, summary.deployment_id) is not None:
                counts["already known"] += 1
                continue
            try:
                observation = source.get_status(summary.deployment_id)
            except DeploymentNotFoundError:
                counts["gone"] += 1  # deleted between the listing and the question
                continue
            if is_terminal(observation.status):
                counts["finished"] += 1
                continue
            request = track_request(
                summary.deployment_id, deployment_arn=summary.deployment_arn, source="discover"
            )
            if args.dry_run:
                outcome = "would track"
            else:
                outcome = "tracked" if tracker.apply(request).changed else "already tracked"
            counts[outcome] += 1
            print(f"{summary.deployment_id}: {outcome} ({observation.status})", flush=True)
    found = sum(counts.values())
    details = ", ".join(f"{count} {what}" for what, count in sorted(counts.items()))
    print(f"found {found} bulk deployment{'' if found == 1 else 's'}" + (f": {details}" if details else ""))
    if counts["tracked"]:
        print("the next poll stores and notifies the status of each deployment tracked now")
    return 0
