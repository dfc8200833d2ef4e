"""`ggwatch discover`: track deployments started before ggwatch was installed (or while it was down).

CloudTrail only tells the tracker about deployments started after the stack existed; this fills the gap
from each kind's listing. Greengrass V2: ListDeployments (the latest revision per target) and its
ACTIVE ones. V1: ListBulkDeployments, asking each unknown deployment's status so that finished ones
stay untracked. Deployments ggwatch already knows, including untracked ones, are left as they are.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from ggwatch_cli.commands import KINDS, Subparsers, add_command, aws_options

if TYPE_CHECKING:
    from ggwatch.domain.models import DeploymentKind
    from ggwatch_cli.commands.context import Runtime


class Found(NamedTuple):
    """One listed deployment ggwatch does not know: its status, and why it is skipped (None: track it)."""

    deployment_id: str
    status: str | None
    deployment_arn: str | None = None
    skipped: str | None = None


Known = Callable[[str], bool]


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "discover",
        summary="track running deployments that ggwatch does not know yet",
        description="List Greengrass V2 deployments (ListDeployments: the latest revision per target) "
        "and V1 bulk deployments (ListBulkDeployments), and track each one that ggwatch has no record "
        "of and that has not finished: an ACTIVE V2 deployment, or a V1 one whose "
        "GetBulkDeploymentStatus is not final. Deployments ggwatch knows, including untracked ones, "
        "are left as they are. --region discovers the deployments of another region the stack polls.",
        examples=[
            "ggwatch discover --dry-run",
            "ggwatch discover --kind greengrass-v2 --stack ggwatch",
            "ggwatch discover --region eu-west-1",
        ],
        run=run,
        parents=[aws_options(deployment_region=True)],
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would be tracked; track nothing")
    parser.add_argument("--kind", choices=KINDS, help="discover only this kind (default: every kind)")


def run(args: argparse.Namespace) -> int:
    """With --kind, a failure is the command's failure. Without it, a kind whose service refuses or
    cannot be reached (V1 is no longer reachable at AWS) is one warning, and the other kinds are still
    discovered: the command fails only when no kind could be."""
    from ggwatch.domain.models import DeploymentKind
    from ggwatch.exceptions import SourceThrottledError, SourceUnavailableError
    from ggwatch_cli.commands.context import aws_command
    from ggwatch_cli.output import KIND_NOUNS

    kinds = [DeploymentKind(args.kind)] if args.kind else list(DeploymentKind)
    tracked = failed = 0
    with aws_command(args) as aws:
        aws.check_polled(aws.deployment_region)
        for kind in kinds:
            try:
                tracked += _discover(aws, kind, dry_run=args.dry_run)
            except (SourceThrottledError, SourceUnavailableError) as error:
                if args.kind or failed == len(kinds) - 1:
                    raise
                failed += 1
                problem = aws.explain(error)
                print(f"ggwatch: warning: cannot discover {KIND_NOUNS[kind]}s: {problem}", file=sys.stderr)
    if tracked:
        print("the next poll stores and notifies the status of each deployment tracked now")
    return 0


def _discover(aws: Runtime, kind: DeploymentKind, *, dry_run: bool) -> int:
    """Track the kind's unknown unfinished deployments, one line each, then a summary; returns how
    many were tracked."""
    from ggwatch_cli.commands.context import track_request
    from ggwatch_cli.output import KIND_NOUNS

    repository, tracker = aws.repository, aws.tracker
    counts: Counter[str] = Counter()

    def known(deployment_id: str) -> bool:
        if repository.get(kind, deployment_id) is None:
            return False
        counts["already known"] += 1
        return True

    for found in _LISTINGS[kind](aws, known):
        if found.skipped:
            counts[found.skipped] += 1
            continue
        request = track_request(
            found.deployment_id,
            deployment_arn=found.deployment_arn,
            source="discover",
            kind=kind.value,
            region=aws.deployment_region,
            discovered_status=found.status,
        )
        if dry_run:
            outcome = "would track"
        else:
            outcome = "tracked" if tracker.apply(request).changed else "already tracked"
        counts[outcome] += 1
        print(f"{found.deployment_id}: {outcome} ({found.status})", flush=True)
    total = sum(counts.values())
    details = ", ".join(f"{count} {what}" for what, count in sorted(counts.items()))
    noun = KIND_NOUNS[kind] + ("" if total == 1 else "s")
    print(f"found {total} {noun}" + (f": {details}" if details else ""), flush=True)
    return counts["tracked"]


def _v1_bulk(aws: Runtime, known: Known) -> Iterator[Found]:
    from ggwatch.domain.models import is_terminal
    from ggwatch.exceptions import DeploymentNotFoundError

    source = aws.source
    for summary in source.list_deployments():
        if known(summary.deployment_id):
            continue
        try:
            status = source.get_status(summary.deployment_id).status
        except DeploymentNotFoundError:
            yield Found(summary.deployment_id, None, skipped="gone")  # deleted since the listing
            continue
        skipped = "finished" if is_terminal(status) else None
        yield Found(summary.deployment_id, status, summary.deployment_arn, skipped)


def _v2(aws: Runtime, known: Known) -> Iterator[Found]:
    """The latest revision of each target (ListDeployments LATEST_ONLY); only an ACTIVE one is still
    rolling out or watching its group, the others have ended."""
    from ggwatch.domain.arns import v2_deployment_arn
    from ggwatch.domain.models import V2DeploymentStatus

    for summary in aws.v2_deployments.list_deployments():
        if known(summary.deployment_id):
            continue
        active = (
            summary.deployment_status == V2DeploymentStatus.ACTIVE
            and summary.is_latest_for_target is not False
        )
        yield Found(
            summary.deployment_id,
            summary.deployment_status,
            v2_deployment_arn(summary.target_arn, summary.deployment_id),
            None if active else "not active",
        )


_LISTINGS: dict[str, Callable[[Runtime, Known], Iterator[Found]]] = {
    "greengrass-v1-bulk": _v1_bulk,
    "greengrass-v2": _v2,
}
