"""Poller Lambda: one polling pass over every active tracked deployment, on a schedule."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.adapters.greengrass_v1 import GreengrassV1BulkSource
from ggwatch.adapters.greengrass_v2_source import GreengrassV2Source
from ggwatch.adapters.sns import SnsNotificationPublisher
from ggwatch.observability import logger, metrics
from ggwatch.services.poller import Poller, PollerPolicy
from ggwatch.settings import PollerSettings


@cache
def poller() -> Poller:
    """Built on the first invocation (the cold start) and reused by every later one."""
    settings = PollerSettings.from_env()
    return Poller(
        DynamoDeploymentRepository(settings.TABLE_NAME),
        [GreengrassV1BulkSource(), GreengrassV2Source()],
        SnsNotificationPublisher(settings.TOPIC_ARN),
        PollerPolicy(
            retention_days=settings.RETENTION_DAYS,
            claim_lease=timedelta(seconds=settings.CLAIM_LEASE_SECONDS),
            safety_margin_ms=settings.SAFETY_MARGIN_MS,
        ),
    )


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    report = poller().run(context.get_remaining_time_in_millis)
    summary = {
        "polled": len(report.outcomes),
        "transitions": len(report.notifications),
        "unchanged": report.count("unchanged"),
        "failed": report.count("failed"),
        "corrupt": report.count("corrupt"),
        "skipped": report.count("skipped"),
        "stoppedAtDeadline": report.stopped_at_deadline,
    }
    metrics.add_metric(name="DeploymentsPolled", unit=MetricUnit.Count, value=len(report.outcomes))
    logger.info("poll finished", extra=summary)
    return summary
