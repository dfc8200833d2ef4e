"""One module per command group; each `register`s its subcommands and imports AWS code only when run.

Module scope here and in every command module holds argparse only, so that `ggwatch --help` and a
usage error answer at once, without loading boto3, pydantic or the layer.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Sequence

from ggwatch_cli.permissions import PERMISSIONS, REGIONAL_NOTE, REGIONAL_SERVICES, STACK_OUTPUTS

Run = Callable[[argparse.Namespace], int]
type Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_command(
    subparsers: Subparsers,
    name: str,
    *,
    summary: str,
    description: str,
    examples: Sequence[str],
    run: Run | None = None,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with examples and the IAM actions it needs; `run` is what main
    calls with the parsed args."""
    epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples)
    if name in PERMISSIONS:
        actions = ", ".join(PERMISSIONS[name])
        regional = any(action.split(":")[0] in REGIONAL_SERVICES for action in PERMISSIONS[name])
        where = f"; {REGIONAL_NOTE}" if regional else ""
        epilog += "\n\n" + paragraph(f"IAM permissions: {actions} (and {STACK_OUTPUTS} with --stack{where})")
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=paragraph(description),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=list(parents),
    )
    if run is not None:
        parser.set_defaults(run=run)
    return parser


def aws_options(*, topic: bool = False, deployment_region: bool = False) -> argparse.ArgumentParser:
    """The options of every command that talks to AWS; `--topic-arn` only where something publishes.

    With `deployment_region` (the commands that name deployments) `--region` is where they live and
    `--stack-region` where the stack is; elsewhere both name the stack's region (`--region` as before)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("AWS and configuration")
    group.add_argument("--profile", help="AWS profile to use (default: AWS_PROFILE, else the default chain)")
    stack_region = "AWS_REGION, AWS_DEFAULT_REGION or the profile's"
    if deployment_region:
        group.add_argument(
            "--region",
            dest="deployment_region",
            metavar="REGION",
            help="the region the deployments live in (default: the stack's region); the stack must poll "
            "it (its PollRegions parameter)",
        )
        group.add_argument(
            "--stack-region",
            dest="region",
            metavar="REGION",
            help=f"the region of the ggwatch stack (default: {stack_region}, else --region)",
        )
    else:
        group.add_argument(
            "--region",
            "--stack-region",
            dest="region",
            metavar="REGION",
            help=f"AWS region of the ggwatch stack (default: {stack_region})",
        )
    group.add_argument(
        "--stack",
        metavar="NAME",
        help="deployed ggwatch stack whose outputs name the table and topic (default: GGWATCH_STACK_NAME)",
    )
    group.add_argument(
        "--table",
        metavar="NAME",
        help="DynamoDB table of tracked deployments (default: GGWATCH_TABLE_NAME, TABLE_NAME, "
        "else the stack's TableName output)",
    )
    if topic:
        group.add_argument(
            "--topic-arn",
            metavar="ARN",
            help="SNS topic to publish to (default: GGWATCH_TOPIC_ARN, TOPIC_ARN, else the stack's "
            "TopicArn output)",
        )
    group.add_argument(
        "-v", "--verbose", action="store_true", help="show the ggwatch library's JSON logs on stderr"
    )
    return parent


def json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts instead of a table")


def paragraph(text: str) -> str:
    """Wrap prose for --help; the raw formatter (kept for the examples' layout) would not."""
    return textwrap.fill(text, width=88)


KINDS = ("greengrass-v1-bulk", "greengrass-v2")
"""ggwatch.domain.models.DeploymentKind's values, spelled out so that --help loads no pydantic
(tests/unit/test_cli_kinds.py keeps the two the same)."""
DEFAULT_KIND = "greengrass-v1-bulk"


def kind_option(parser: argparse.ArgumentParser) -> None:
    """`--kind`: which kind of deployment an ID names (an ID alone does not say)."""
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default=DEFAULT_KIND,
        help=f"the kind of deployment the IDs name (default: {DEFAULT_KIND})",
    )
