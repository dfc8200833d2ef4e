"""What every AWS-facing command shares: one boto3 session, the services wired on it as the Lambdas
wire them, and the translation of every expected failure into one CliError line.

Clients are created the ordinary way from the session, so `--profile`, `--region`, the credential
chain and the `AWS_ENDPOINT_URL*` variables all work as they do for the AWS CLI; no endpoint is
ever chosen here.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from functools import cached_property
from typing import Any, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from pydantic import ValidationError

from ggwatch.adapters.aws_errors import error_code, error_message
from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.adapters.greengrass_v1 import GreengrassV1BulkSource
from ggwatch.adapters.greengrass_v2 import GreengrassV2Deployments
from ggwatch.adapters.greengrass_v2_source import GreengrassV2Source
from ggwatch.adapters.publishing import notification_publisher
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.domain.commands import TrackRequest
from ggwatch.domain.models import DeploymentKind, Observation
from ggwatch.domain.regions import RegionPolicy, checked_region
from ggwatch.exceptions import GgwatchError, RepositoryError, SourceThrottledError
from ggwatch.observability import logger, metrics
from ggwatch.ports import DeploymentRepository, DeploymentSource, NotificationPublisher
from ggwatch.services.lanes import Lane, SourcesByRegion
from ggwatch.services.poller import Poller, PollerPolicy, PollReport
from ggwatch.services.scope import PollScope
from ggwatch.services.tracker import Tracker
from ggwatch.validation import describe
from ggwatch_cli import CliError, UsageError, shown
from ggwatch_cli.config import TABLE, TOPIC, Configuration
from ggwatch_cli.dry_run import ReadOnlyRepository, UnsentPublisher

NO_CREDENTIALS = (
    "no AWS credentials found: run 'aws configure' or 'aws sso login', pass --profile, "
    "or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)
NO_REGION = "no AWS region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or give your profile one"


class Runtime:
    """The CLI's composition root: the same adapters and services as functions/*/app.py, built lazily
    so that a command asks only for the settings and AWS access it needs."""

    def __init__(self, args: argparse.Namespace, environ: Mapping[str, str]) -> None:
        self._profile: str | None = getattr(args, "profile", None)
        self._region: str | None = getattr(args, "region", None)
        self.deployment_region = deployment_region(args)
        """Where the deployments of this command live (--region of the commands that name deployments);
        None: the stack's region."""
        self.config = Configuration(
            flags={TABLE.flag: getattr(args, "table", None), TOPIC.flag: getattr(args, "topic_arn", None)},
            environ=environ,
            stack=getattr(args, "stack", None),
            stack_outputs=self.stack_outputs,
        )

    @cached_property
    def session(self) -> boto3.Session:
        """Checked up front, so a missing profile, credentials or region is named before any call."""
        try:
            session = boto3.Session(profile_name=self._profile, region_name=self._region)
            if not session.region_name and self.deployment_region:  # one region: the stack's is --region
                session = boto3.Session(profile_name=self._profile, region_name=self.deployment_region)
            credentials = session.get_credentials()
        except ProfileNotFound as error:
            raise UsageError(f"{error} (check --profile and AWS_PROFILE)") from error
        except BotoCoreError as error:
            raise UsageError(f"cannot load AWS credentials: {error}") from error
        if credentials is None:
            raise UsageError(NO_CREDENTIALS)
        if not session.region_name:
            raise UsageError(NO_REGION)
        return session

    @cached_property
    def repository(self) -> DynamoDeploymentRepository:
        table = self.config.tracker_settings().TABLE_NAME
        return DynamoDeploymentRepository(table, client=self.session.client("dynamodb", config=API_CONFIG))

    @cached_property
    def source(self) -> GreengrassV1BulkSource:
        """V1 bulk deployments in the command's deployment region."""
        return self._v1_source(self.deployment_region)

    @cached_property
    def v2_deployments(self) -> GreengrassV2Deployments:
        """Greengrass V2 deployments in the command's deployment region."""
        return self._v2_deployments(self.deployment_region)

    @cached_property
    def v2_source(self) -> GreengrassV2Source:
        return GreengrassV2Source(self.v2_deployments)

    def observe(self, kind: DeploymentKind, deployment_id: str, region: str | None = None) -> Observation:
        """What the kind's service in `region` (None: the command's) says about one deployment now
        (raises DeploymentNotFoundError)."""
        if region is None or region == self.deployment_region:
            source = self.source if kind == DeploymentKind.GREENGRASS_V1_BULK else self.v2_source
        elif kind == DeploymentKind.GREENGRASS_V1_BULK:
            source = self._v1_source(region)
        else:
            source = GreengrassV2Source(self._v2_deployments(region))
        return source.get_status(deployment_id)

    def _v1_source(self, region: str | None, *, results: bool = False) -> GreengrassV1BulkSource:
        """Look-ups (status, discover) do not read a finished deployment's group reports; `poll` does,
        for the notifications it publishes."""
        return GreengrassV1BulkSource(client=self._client("greengrass", region), results=results)

    def _v2_deployments(self, region: str | None) -> GreengrassV2Deployments:
        return GreengrassV2Deployments(
            greengrass=self._client("greengrassv2", region), iot=self._client("iot", region)
        )

    def _client(self, service: Literal["greengrass", "greengrassv2", "iot"], region: str | None) -> Any:
        """A client in `region` (None: the stack's), built the ordinary way from the session."""
        return self.session.client(service, region_name=region or self.session.region_name, config=API_CONFIG)

    @cached_property
    def regions(self) -> RegionPolicy:
        """The stack's own region (the session's: where its table is) and the others it polls."""
        return RegionPolicy.of(str(self.session.region_name), self.config.poll_regions())

    def check_polled(self, region: str | None) -> None:
        """Refuse, before anything is written, a region the stack does not poll (exit 2)."""
        if not self.regions.allows(region):
            raise UsageError(self.regions.refusal(str(region)))

    @cached_property
    def tracker(self) -> Tracker:
        settings = self.config.tracker_settings()
        return Tracker(self.repository, self.regions, retention_days=settings.RETENTION_DAYS)

    def poll(self, *, dry_run: bool, verbose: bool) -> PollReport:
        """One pass of the real Poller; a dry run needs no topic, and neither writes nor publishes.

        It publishes as the poller Lambda does: to the topic, and to the stack's bus when one is known
        (EVENT_BUS_NAME or the stack's EventBusName output); to the topic alone when none is."""
        repository: DeploymentRepository
        publisher: NotificationPublisher
        if dry_run:
            retention_days = self.config.tracker_settings().RETENTION_DAYS
            repository, publisher = ReadOnlyRepository(self.repository), UnsentPublisher()
        else:
            settings = self.config.poller_settings()
            retention_days = settings.RETENTION_DAYS
            repository = self.repository
            publisher = notification_publisher(
                settings.TOPIC_ARN,
                settings.EVENT_BUS_NAME,
                sns=self.session.client("sns", config=API_CONFIG),
                events=lambda: self.session.client("events", config=API_CONFIG),
            )
        poller = Poller(
            [
                Lane(
                    repository,
                    SourcesByRegion(list(DeploymentKind), self._polled_sources, self.session.region_name),
                    publisher,
                )
            ],
            PollerPolicy(retention_days=retention_days),
        )
        # powertools prints its metrics to stdout once a metric holds 100 values; stdout is ours.
        with redirect_stdout(sys.stderr if verbose else io.StringIO()):
            return poller.run(scopes=[PollScope(region) for region in (None, *sorted(self.regions.others))])

    def _polled_sources(self, region: str | None) -> list[DeploymentSource]:
        """Each kind's source in one region, as `poll` asks it (a deployment is polled where it lives)."""
        return [self._v1_source(region, results=True), GreengrassV2Source(self._v2_deployments(region))]

    def stack_outputs(self, stack: str) -> dict[str, str]:
        """A deployed stack's outputs by key; an unknown stack is a configuration error (exit 2)."""
        client = self.session.client("cloudformation", config=API_CONFIG)
        try:
            answer = client.describe_stacks(StackName=stack)
        except ClientError as error:
            if error_code(error) == "ValidationError" and "does not exist" in error_message(error):
                raise UsageError(
                    f"stack {shown(stack)} does not exist in {self.session.region_name} "
                    "(check --stack, --region and --profile)"
                ) from error
            raise CliError(f"CloudFormation answered {error_code(error)}: {error_message(error)}") from error
        except BotoCoreError as error:
            raise CliError(f"CloudFormation call failed: {error}") from error
        stacks = answer.get("Stacks", [])
        outputs = stacks[0].get("Outputs", []) if stacks else []
        return {
            output["OutputKey"]: output["OutputValue"]
            for output in outputs
            if "OutputKey" in output and "OutputValue" in output
        }

    def explain(self, error: GgwatchError) -> CliError:
        """The adapters' error, with what only the CLI knows: which table, where it came from."""
        cause = error.__cause__
        if isinstance(cause, NoCredentialsError):
            return UsageError(NO_CREDENTIALS)
        missing = isinstance(cause, ClientError) and error_code(cause) == "ResourceNotFoundException"
        if isinstance(error, RepositoryError) and missing:
            table = self.config.resolve(TABLE)
            return CliError(
                f"DynamoDB table {shown(table.value)} (from {table.origin}) does not exist "
                f"in {self.session.region_name}"
            )
        if isinstance(error, SourceThrottledError):
            return CliError(f"{error} (still throttled after the SDK's retries: try again in a minute)")
        return CliError(str(error))


@contextmanager
def aws_command(args: argparse.Namespace) -> Iterator[Runtime]:
    """Run a command's AWS work: library logs kept off stdout, expected failures made CliErrors."""
    runtime = Runtime(args, os.environ)
    with _library_logs(verbose=bool(getattr(args, "verbose", False))):
        try:
            yield runtime
        except GgwatchError as error:
            raise runtime.explain(error) from error
        except ClientError as error:
            raise CliError(f"AWS answered {error_code(error)}: {error_message(error)}") from error
        except BotoCoreError as error:
            raise CliError(f"AWS call failed: {error}") from error


@contextmanager
def _library_logs(*, verbose: bool) -> Iterator[None]:
    """The layer logs JSON to stdout for CloudWatch; here that would mix with the CLI's own output.

    Quiet by default; `--verbose` shows the logs on stderr. The previous level and stream are put
    back afterwards (the logger is shared with anything else in the process, such as tests).
    """
    shared = logging.getLogger(logger.name)
    handler = logger.registered_handler
    level = shared.level
    stream = handler.setStream(sys.stderr) if isinstance(handler, logging.StreamHandler) else None
    shared.setLevel(logging.INFO if verbose else logging.CRITICAL + 1)
    try:
        yield
    finally:
        shared.setLevel(level)
        if stream is not None and isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
        metrics.clear_metrics()


def deployment_region(args: argparse.Namespace) -> str | None:
    """`--region` of the commands that name deployments, checked as the tracker checks a region (exit 2
    if it is not one)."""
    region: str | None = getattr(args, "deployment_region", None)
    if region is None:
        return None
    try:
        return checked_region(region)
    except ValueError as error:
        raise UsageError(f"invalid --region {shown(region)}: {error}") from None


def track_request(
    deployment_id: str,
    action: str = "track",
    deployment_arn: str | None = None,
    source: str = "manual",
    kind: str = DeploymentKind.GREENGRASS_V1_BULK.value,
    region: str | None = None,
    discovered_status: str | None = None,
) -> TrackRequest:
    """Validate an ID exactly as the tracker Lambda does; an invalid one is a usage error (exit 2).
    `region` is checked already (deployment_region)."""
    try:
        return TrackRequest.model_validate(
            {
                "deployment_id": deployment_id,
                "action": action,
                "kind": kind,
                "deployment_arn": deployment_arn,
                "source": source,
                "region": region,
                "discovered_status": discovered_status,
            }
        )
    except ValidationError as error:
        if any(problem["loc"] == ("deployment_id",) for problem in error.errors()):
            raise UsageError(f"invalid deployment ID {shown(deployment_id)}: {DEPLOYMENT_ID_RULE}") from None
        # what a listing answered about it (its ARN) does not fit: say so rather than blame the ID
        raise CliError(f"cannot track {shown(deployment_id)}: {describe(error)}") from None


def _id_length_limit() -> int:
    """The longest ID the tracker accepts, read from its model rather than repeated here."""
    limits = [
        m.max_length for m in TrackRequest.model_fields["deployment_id"].metadata if hasattr(m, "max_length")
    ]
    return int(limits[0])


DEPLOYMENT_ID_RULE = (
    "deployment IDs use letters, digits and _ . : - (starting with a letter or digit), "
    f"at most {_id_length_limit()} characters"
)
