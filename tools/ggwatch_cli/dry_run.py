"""`ggwatch poll --dry-run`: the real Poller, given a repository that never writes and a publisher that
never sends, so that it reports exactly what a real pass would do and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from ggwatch.domain.models import DeploymentKind, Observation, PendingTransition, TrackedDeployment
from ggwatch.domain.notification import Notification
from ggwatch.domain.state import claimed, committed, released
from ggwatch.exceptions import PublishError
from ggwatch.ports import ActiveItem, DeploymentRepository


class ReadOnlyRepository:
    """Reads pass through to the real repository; each write is recorded in `writes`, not made, and
    answers with the state it would have stored (so a pass goes on as it would)."""

    def __init__(self, repository: DeploymentRepository) -> None:
        self._repository = repository
        self.writes: list[str] = []

    def active(
        self,
        kind: DeploymentKind,
        *,
        region: str | None = None,
        from_key: str | None = None,
        after_key: str | None = None,
        before_key: str | None = None,
    ) -> Iterator[ActiveItem]:
        return self._repository.active(
            kind, region=region, from_key=from_key, after_key=after_key, before_key=before_key
        )

    def get(self, kind: DeploymentKind, deployment_id: str) -> TrackedDeployment | None:
        return self._repository.get(kind, deployment_id)

    def all(self) -> Iterator[ActiveItem]:
        return self._repository.all()

    def cursor(self, kind: DeploymentKind, region: str | None = None) -> str | None:
        return self._repository.cursor(kind, region)

    def track(
        self,
        kind: DeploymentKind,
        deployment_id: str,
        *,
        tracked_by: str,
        now: datetime,
        deployment_arn: str | None = None,
        region: str | None = None,
        discovered_status: str | None = None,
    ) -> bool:
        self.writes.append(f"track {deployment_id}")
        return False

    def untrack(self, kind: DeploymentKind, deployment_id: str, *, now: datetime, expires_at: int) -> bool:
        self.writes.append(f"untrack {deployment_id}")
        return False

    def claim(self, stored: TrackedDeployment, pending: PendingTransition) -> TrackedDeployment:
        self.writes.append(f"claim {stored.deployment_id}")
        return claimed(stored, pending)

    def release(self, stored: TrackedDeployment) -> TrackedDeployment:
        self.writes.append(f"release {stored.deployment_id}")
        return released(stored)

    def commit(
        self,
        stored: TrackedDeployment,
        observation: Observation,
        *,
        now: datetime,
        expires_at: int | None,
        transition_id: str | None = None,
    ) -> TrackedDeployment:
        self.writes.append(f"commit {stored.deployment_id}")
        return committed(stored, observation, now=now, transition_id=transition_id)

    def request_check(
        self, kind: DeploymentKind, deployment_id: str, *, now: datetime, window: timedelta
    ) -> TrackedDeployment | None:
        self.writes.append(f"request check {deployment_id}")
        stored = self._repository.get(kind, deployment_id)
        return stored if stored is not None and stored.active else None

    def relocate(self, kind: DeploymentKind, deployment_id: str, region: str) -> bool:
        self.writes.append(f"relocate {deployment_id} to {region}'s partition")
        return False

    def set_cursor(self, kind: DeploymentKind, key: str | None, region: str | None = None) -> None:
        self.writes.append(f"set cursor {kind.value} {key}" + (f" ({region})" if region else ""))


class UnsentPublisher:
    """Keeps what a real pass would have published, in `unsent`, and sends nothing."""

    def __init__(self) -> None:
        self.unsent: list[Notification] = []

    def publish(self, notification: Notification) -> str:
        self.unsent.append(notification)
        return f"dry-run-{len(self.unsent)}"

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        self.unsent.extend(notifications)
        return [None] * len(notifications)
