"""Poller Lambda: one polling pass over every active tracked deployment, on a schedule; or, on a
Greengrass V2 device event, a check of that one deployment."""

from __future__ import annotations

from datetime import timedelta
from functools import cache, partial
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from ggwatch.adapters import rate_limit, sdk_config
from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.adapters.greengrass_v1 import GreengrassV1BulkSource
from ggwatch.adapters.greengrass_v2 import GreengrassV2Deployments
from ggwatch.adapters.greengrass_v2_source import GreengrassV2Source
from ggwatch.adapters.publishing import notification_publisher
from ggwatch.domain.models import DeploymentKind, StuckReason
from ggwatch.domain.pace import PacePolicy
from ggwatch.inbound.device_events import device_status_change, is_device_event
from ggwatch.observability import logger, metrics
from ggwatch.services.lanes import Lane
from ggwatch.services.poller import Poller, PollerPolicy
from ggwatch.settings import ConfigurationError, PollerSettings

if TYPE_CHECKING:
    from botocore.config import Config

    from ggwatch.adapters.fanout import FanOutPublisher
    from ggwatch.adapters.sns import SnsNotificationPublisher


@cache
def poller() -> Poller:
    """Built on the first invocation (the cold start) and reused by every later one."""
    settings = PollerSettings.from_env()
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


def _lane(
    settings: PollerSettings, limits: rate_limit.RateLimits, config: Config, budget: sdk_config.CallBudget
) -> Lane:
    """The adapters on clients built with one SDK configuration (see sdk_config), the polled APIs
    behind the client-side rate limit with the budget's token wait."""
    limited = partial(limits.attach, max_wait_seconds=budget.token_wait_seconds)
    return Lane(
        DynamoDeploymentRepository(settings.TABLE_NAME, client=boto3.client("dynamodb", config=config)),
        [
            GreengrassV1BulkSource(client=limited(boto3.client("greengrass", config=config))),
            GreengrassV2Source(
                GreengrassV2Deployments(
                    greengrass=limited(boto3.client("greengrassv2", config=config)),
                    iot=limited(boto3.client("iot", config=config)),
                )
            ),
        ],
        _publisher(settings, config),
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
    run = poller()
    timeout_ms = context.get_remaining_time_in_millis()
    if timeout_ms < run.minimum_run_ms:
        raise ConfigurationError(
            f"the poller's timeout ({timeout_ms} ms) cannot fit one deployment even with the shortest "
            f"SDK settings ({run.minimum_run_ms} ms): raise the function's Timeout"
        )
    if is_device_event(event):
        return _check(run, event, context)
    report = run.run(context.get_remaining_time_in_millis)
    summary = {
        "polled": len(report.outcomes),
        "transitions": len(report.notifications),
        "unchanged": report.count("unchanged"),
        "failed": report.count("failed"),
        "corrupt": report.count("corrupt"),
        "skipped": report.count("skipped"),
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
