"""Tracking and untracking deployments: the only way items enter the deployments table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import overload

from ggwatch.domain.commands import IgnoredEvent, TrackRequest, TrackResult
from ggwatch.domain.regions import RegionPolicy
from ggwatch.observability import count, logger
from ggwatch.ports import DeploymentRepository


class Tracker:
    """Applies track/untrack requests; repeating a request changes nothing. A deployment in a region
    the stack does not poll is refused: tracked, it would never be polled nor notified."""

    def __init__(
        self,
        repository: DeploymentRepository,
        regions: RegionPolicy,
        retention_days: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repository = repository
        self._regions = regions
        self._retention = timedelta(days=retention_days)
        self._clock = clock

    @overload
    def apply(self, request: TrackRequest) -> TrackResult: ...

    @overload
    def apply(self, request: IgnoredEvent) -> IgnoredEvent: ...

    @overload
    def apply(self, request: TrackRequest | IgnoredEvent) -> TrackResult | IgnoredEvent: ...

    def apply(self, request: TrackRequest | IgnoredEvent) -> TrackResult | IgnoredEvent:
        """Carry out one request and say what changed (an ignored event changes nothing)."""
        if isinstance(request, IgnoredEvent):
            logger.info("event ignored", reason=request.reason)
            return request
        if request.action == "track" and not self._regions.allows(request.region):
            return self._refuse(request, self._regions.refusal(str(request.region)))
        now = self._clock()
        if request.action == "track":
            changed = self._repository.track(
                request.kind,
                request.deployment_id,
                tracked_by=request.source,
                now=now,
                deployment_arn=request.deployment_arn,
                region=self._regions.stored(request.region),
                discovered_status=request.discovered_status,
            )
        else:
            changed = self._repository.untrack(
                request.kind,
                request.deployment_id,
                now=now,
                expires_at=int((now + self._retention).timestamp()),
            )
        logger.info(
            "tracking request applied" if changed else "tracking request changed nothing",
            deployment_id=request.deployment_id,
            deployment_kind=request.kind.value,
            action=request.action,
            source=request.source,
            region=request.region or self._regions.home,
        )
        return TrackResult(deployment_id=request.deployment_id, action=request.action, changed=changed)

    def _refuse(self, request: TrackRequest, reason: str) -> TrackResult:
        logger.warning(
            "tracking request refused",
            deployment_id=request.deployment_id,
            deployment_kind=request.kind.value,
            source=request.source,
            region=request.region,
            reason=reason,
        )
        count("TrackRefused")
        return TrackResult(
            deployment_id=request.deployment_id, action=request.action, changed=False, refused=reason
        )
