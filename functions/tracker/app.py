"""Tracker Lambda: starts or stops tracking a deployment, from CloudTrail or a direct invocation."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.domain.commands import IgnoredEvent, TrackResult
from ggwatch.domain.regions import RegionPolicy
from ggwatch.exceptions import InvalidEventError
from ggwatch.inbound.tracker import parse_tracker_event
from ggwatch.observability import logger, metrics
from ggwatch.services.tracker import Tracker
from ggwatch.settings.tracker import TrackerSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@cache
def tracker() -> Tracker:
    """Built on the first invocation (the cold start) and reused by every later one. The stack's own
    region is its table's."""
    settings = TrackerSettings.from_env()
    client = boto3.client("dynamodb", config=API_CONFIG)
    return Tracker(
        DynamoDeploymentRepository(settings.TABLE_NAME, client=client),
        RegionPolicy.of(client.meta.region_name, settings.POLL_REGIONS),
        retention_days=settings.RETENTION_DAYS,
    )


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    service = tracker()
    try:
        request = parse_tracker_event(event)
    except InvalidEventError as error:
        logger.error("invalid tracker event", problem=str(error))
        raise
    return response(service.apply(request))


def response(result: TrackResult | IgnoredEvent) -> dict[str, Any]:
    """The invocation's answer: what changed, or why the event was ignored."""
    if isinstance(result, IgnoredEvent):
        return {"ignored": True, "reason": result.reason}
    answer = {"deploymentId": result.deployment_id, "action": result.action, "changed": result.changed}
    return answer if result.refused is None else answer | {"refused": result.refused}
