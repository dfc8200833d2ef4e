"""Tracker Lambda: starts or stops tracking a deployment, from CloudTrail or a direct invocation."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.commands import IgnoredEvent, TrackResult
from ggwatch.exceptions import InvalidEventError
from ggwatch.inbound.tracker import parse_tracker_event
from ggwatch.observability import logger
from ggwatch.services.tracker import Tracker
from ggwatch.settings import TrackerSettings


@cache
def tracker() -> Tracker:
    """Built on the first invocation (the cold start) and reused by every later one."""
    settings = TrackerSettings.from_env()
    return Tracker(DynamoDeploymentRepository(settings.TABLE_NAME), retention_days=settings.RETENTION_DAYS)


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
    return {"deploymentId": result.deployment_id, "action": result.action, "changed": result.changed}
