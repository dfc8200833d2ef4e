"""Poller Lambda: one polling pass over every active tracked deployment, on a schedule; or, on a
Greengrass V2 device event, a check of that one deployment.

With PollRegions set, the scheduled run starts a region run (this function, invoked asynchronously)
for each other region and polls the stack's own region, plus any region whose run Lambda did not
accept: each region then has a vCPU of its own (services/scope.py)."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import boto3
from botocore.config import Config

from ggwatch.adapters import rate_limit, sdk_config
from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.adapters.greengrass_v1 import GreengrassV1BulkSource
from ggwatch.adapters.greengrass_v2 import GreengrassV2Deployments
from ggwatch.adapters.greengrass_v2_source import GreengrassV2Source
from ggwatch.adapters.publishing import notification_publisher
from ggwatch.adapters.region_runs import RegionRunStarter
from ggwatch.domain.models import DeploymentKind, StuckReason
from ggwatch.domain.pace import PacePolicy
from ggwatch.domain.regions import RegionPolicy
from ggwatch.inbound.device_events import device_status_change, is_device_event
from ggwatch.inbound.region_runs import is_region_run, region_of
from ggwatch.observability import logger, metrics
from ggwatch.services.lanes import Lane, SourcesByRegion
from ggwatch.services.poller import Poller, PollerPolicy, PollReport
from ggwatch.services.scope import PollScope
from ggwatch.settings import ConfigurationError
from ggwatch.settings.poller import PollerSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from ggwatch.adapters.fanout import FanOutPublisher
    from ggwatch.adapters.sns import SnsNotificationPublisher
    from ggwatch.ports import DeploymentSource

KINDS = [DeploymentKind.GREENGRASS_V1_BULK, DeploymentKind.GREENGRASS_V2]


class ColdStart(NamedTuple):
    """What the first invocation builds (settings validated, clients created) and later ones reuse.
    (A NamedTuple, not a dataclass: this module may be loaded without being registered in
    sys.modules, as `make bench` loads each handler.)"""

    poller: Poller
    other_regions: frozenset[str] = frozenset()
    """The regions polled besides the stack's own (PollRegions), each by a region run."""
    region_runs: RegionRunStarter | None = None
    """Starts those regions' runs; None when there are none."""


@cache
def cold_start() -> ColdStart:
    settings = PollerSettings.from_env()
    poller = _poller(settings)
    if not settings.POLL_REGIONS:
        return ColdStart(poller)
    client = boto3.client("lambda", config=sdk_config.HURRIED_CONFIG)  # the stack's own region
    others = RegionPolicy.of(client.meta.region_name, settings.POLL_REGIONS).others
    return ColdStart(poller, others, RegionRunStarter(client) if others else None)


def _poller(settings: PollerSettings) -> Poller:
    limits = rate_limit.poller_rate_limits(settings)  # both lanes' calls count against the same quotas
    return Poller(
        [
            _lane(settings, limits, sdk_config.API_CONFIG, sdk_config.FULL),
            _lane(settings, limits, sdk_config.HURRIED_CONFIG, sdk_config.HURRIED),
        ],
        PollerPolicy(
            retention_days=settings.RETENTION_DAYS,
            claim_lease=timedelta(seconds=settings.CLAIM_LEASE_SECONDS),
            end_of_run_reserve_ms=settings.END_OF_RUN_RESERVE_MS,
            check_debounce=timedelta(seconds=settings.DEVICE_EVENT_DEBOUNCE_SECONDS),
            settled_poll_interval=timedelta(minutes=settings.SETTLED_POLL_MINUTES) or None,
            pace=_pace_policy(settings),
            concurrency=settings.POLL_CONCURRENCY,
        ),
    )


def _pace_policy(settings: PollerSettings) -> PacePolicy:
    """The stuck thresholds per kind and reason (0 minutes: that check is off) and the progress step."""
    minutes: dict[tuple[DeploymentKind, StuckReason], int] = {
        (DeploymentKind.GREENGRASS_V1_BULK, "status"): settings.STUCK_V1_STATUS_MINUTES,
        (DeploymentKind.GREENGRASS_V1_BULK, "progress"): settings.STUCK_V1_PROGRESS_MINUTES,
        (DeploymentKind.GREENGRASS_V2, "status"): settings.STUCK_V2_STATUS_MINUTES,
        (DeploymentKind.GREENGRASS_V2, "progress"): settings.STUCK_V2_PROGRESS_MINUTES,
    }
    return PacePolicy(
        stuck_after={key: timedelta(minutes=value) for key, value in minutes.items() if value},
        progress_step=settings.PROGRESS_STEP_PERCENT or None,
    )


HOME_POOL_REGIONS = 4
"""DynamoDB and SNS take the calls of every region's workers: their connection pools keep this many
regions' worth (a pool caps only the connections kept for reuse; more are opened and closed as needed)."""


def _lane(
    settings: PollerSettings, limits: rate_limit.RateLimits, config: Config, budget: sdk_config.CallBudget
) -> Lane:
    """The adapters on clients built with one SDK configuration (see sdk_config); each region's
    Greengrass and IoT clients are built the first time a deployment there is polled, behind the
    client-side rate limit with the budget's token wait."""
    concurrency = settings.POLL_CONCURRENCY
    home = config.merge(Config(max_pool_connections=concurrency * HOME_POOL_REGIONS))
    regional = config.merge(Config(max_pool_connections=concurrency))
    limited = partial(limits.attach, max_wait_seconds=budget.token_wait_seconds)

    def client(service: Literal["greengrass", "greengrassv2", "iot"], region: str | None) -> Any:
        return limited(boto3.client(service, region_name=region, config=regional))

    def sources(region: str | None) -> list[DeploymentSource]:
        return [
            GreengrassV1BulkSource(client=client("greengrass", region)),
            GreengrassV2Source(
                GreengrassV2Deployments(greengrass=client("greengrassv2", region), iot=client("iot", region))
            ),
        ]

    return Lane(
        DynamoDeploymentRepository(settings.TABLE_NAME, client=boto3.client("dynamodb", config=home)),
        SourcesByRegion(KINDS, sources, home_region=os.environ.get("AWS_REGION")),
        _publisher(settings, home),
        budget.worst_case_ms,
    )


def _publisher(settings: PollerSettings, config: Config) -> SnsNotificationPublisher | FanOutPublisher:
    """The topic and, when a bus is set, the bus: a transition counts as published once both took it."""
    return notification_publisher(
        settings.TOPIC_ARN,
        settings.EVENT_BUS_NAME,
        sns=boto3.client("sns", config=config),
        events=lambda: boto3.client("events", config=config),
    )


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    built = cold_start()
    run = built.poller
    timeout_ms = context.get_remaining_time_in_millis()
    if timeout_ms < run.minimum_run_ms:
        raise ConfigurationError(
            f"the poller's timeout ({timeout_ms} ms) cannot fit one deployment even with the shortest "
            f"SDK settings ({run.minimum_run_ms} ms): raise the function's Timeout"
        )
    if is_device_event(event):
        return _check(run, event, context)
    if is_region_run(event):
        return _region_run(run, built.other_regions, event, context)
    started: frozenset[str] = frozenset()
    if built.region_runs is not None:
        function_arn = context.invoked_function_arn
        started = built.region_runs.start(function_arn, built.other_regions, _scheduled_time(event))
    not_started = sorted(built.other_regions - started)  # polled here, after the stack's own region
    scopes = [PollScope(), *(PollScope(region) for region in not_started)]
    report = run.run(context.get_remaining_time_in_millis, scopes)
    return _summary(report, regionRuns=sorted(started), regionsPolledHere=not_started)


def _region_run(
    run: Poller, other_regions: frozenset[str], event: dict[str, Any], context: LambdaContext
) -> dict[str, Any]:
    """One region's share of a scheduled pass, started by the scheduled run."""
    region = region_of(event)
    if region is None or region not in other_regions:
        logger.error("region run refused: not a region this stack polls", region=str(region)[:64])
        return {"region": None, "result": "refused"}
    report = run.run(context.get_remaining_time_in_millis, [PollScope(region)])
    return _summary(report, region=region)


def _scheduled_time(event: Any) -> object:
    return event.get("scheduledTime") if isinstance(event, dict) else None


def _summary(report: PollReport, **scope: Any) -> dict[str, Any]:
    summary = {
        **scope,
        "polled": len(report.outcomes),
        "transitions": len(report.notifications),
        "unchanged": report.count("unchanged"),
        "failed": report.count("failed"),
        "corrupt": report.count("corrupt"),
        "skipped": report.count("skipped"),
        "deferred": report.count("deferred"),
        "stoppedAtDeadline": report.stopped_at_deadline,
    }
    logger.info("poll finished", extra=summary)
    return summary


def _check(run: Poller, event: Any, context: LambdaContext) -> dict[str, Any]:
    """A device reported on a deployment: check that one now rather than at the next scheduled pass."""
    change = device_status_change(event)
    if change is None:
        return {"checked": None, "result": "malformed"}
    logger.info(
        "device event",
        deployment_id=change.deployment_id,
        core_device_arn=change.core_device_arn,
        execution_status=change.execution_status,
    )
    outcome = run.check(
        DeploymentKind.GREENGRASS_V2, change.deployment_id, context.get_remaining_time_in_millis
    )
    summary = {
        "checked": change.deployment_id,
        "result": outcome.result,
        "transitions": len(outcome.notifications),
    }
    logger.info("check finished", extra=summary)
    return summary
