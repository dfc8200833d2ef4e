"""In-memory implementations of the ports that record what they were given, for fast service tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from ggwatch.domain.models import (
    DeploymentKind,
    Observation,
    PendingTransition,
    TrackedDeployment,
    is_terminal,
)
from ggwatch.domain.notification import Notification
from ggwatch.domain.state import claimed, committed, released
from ggwatch.exceptions import ConflictError, DeadlineReachedError, PublishError
from ggwatch.ports import PUBLISH_BATCH_MAX, ActiveItem, Deadline, DeploymentSummary


class InMemoryRepository:
    """Versioned storage with the same rules as the DynamoDB adapter (tests/integration/
    test_repository_contract.py runs the same tests against both)."""

    def __init__(self) -> None:
        self.items: dict[str, TrackedDeployment] = {}
        self.corrupt: dict[str, str] = {}
        self.in_own_partition: set[str] = set()
        """Keys of deployments of other regions stored as before regions had partitions of their own."""
        self.cursors: dict[tuple[DeploymentKind, str | None], str | None] = {}
        self.untracked: set[str] = set()
        self.expiries: dict[str, int] = {}
        """When DynamoDB's TTL would delete an item (`expiresAt`), by key."""
        self.check_requested_at: dict[str, datetime] = {}
        self.writes = 0
        self._lock = threading.RLock()
        """The poller's workers write concurrently: each conditional write is atomic, as in DynamoDB."""

    @staticmethod
    def key(kind: DeploymentKind, deployment_id: str) -> str:
        return f"DEPLOYMENT#{kind.value}#{deployment_id}"

    def active(
        self,
        kind: DeploymentKind,
        *,
        region: str | None = None,
        from_key: str | None = None,
        after_key: str | None = None,
        before_key: str | None = None,
    ) -> Iterator[ActiveItem]:
        keys = sorted([*self.items, *self.corrupt])
        keys = [
            k
            for k in keys
            if (from_key is None or k >= from_key)
            and (after_key is None or k > after_key)
            and (before_key is None or k < before_key)
        ]
        for key in keys:
            if key in self.corrupt:
                if region is None:  # a garbled item's partition: the stack's own region's, say
                    yield ActiveItem(key=key, deployment=None, problem=self.corrupt[key])
            elif (
                (stored := self.items[key]).active and stored.kind == kind and self._partition(key) == region
            ):
                yield ActiveItem(key=key, deployment=stored)

    def _partition(self, key: str) -> str | None:
        return None if key in self.in_own_partition else self.items[key].region

    def relocate(self, kind: DeploymentKind, deployment_id: str, region: str) -> bool:
        key = self.key(kind, deployment_id)
        with self._lock:
            stored = self.items.get(key)
            if stored is None or not stored.active or key not in self.in_own_partition:
                return False
            self.in_own_partition.discard(key)
            self.writes += 1
            return True

    def all(self) -> Iterator[ActiveItem]:
        return iter([ActiveItem(key=k, deployment=v) for k, v in sorted(self.items.items())])

    def get(self, kind: DeploymentKind, deployment_id: str) -> TrackedDeployment | None:
        return self.items.get(self.key(kind, deployment_id))

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
        """Create the item, or re-activate one that was untracked before it finished."""
        key = self.key(kind, deployment_id)
        current = self.items.get(key)
        if current is None:
            current = TrackedDeployment(
                kind=kind,
                deployment_id=deployment_id,
                tracked_at=now,
                tracked_by=tracked_by,
                version=0,
                region=region,
            )
        elif key not in self.untracked or current.active:
            return False
        self.items[key] = current.model_copy(
            update={
                "active": True,
                "version": current.version + 1,
                "deployment_arn": current.deployment_arn or deployment_arn,
                "discovered_status": discovered_status or current.discovered_status,
            }
        )
        self.untracked.discard(key)
        self.expiries.pop(key, None)
        self.writes += 1
        return True

    def untrack(self, kind: DeploymentKind, deployment_id: str, *, now: datetime, expires_at: int) -> bool:
        current = self.get(kind, deployment_id)
        if current is None or not current.active:
            return False
        self._store(current, current.model_copy(update={"active": False, "version": current.version + 1}))
        self.untracked.add(self.key(kind, deployment_id))
        self.expiries[self.key(kind, deployment_id)] = expires_at
        return True

    def claim(self, stored: TrackedDeployment, pending: PendingTransition) -> TrackedDeployment:
        return self._store(stored, claimed(stored, pending))

    def release(self, stored: TrackedDeployment) -> TrackedDeployment:
        if stored.pending is None:
            raise ConflictError(f"{stored.deployment_id} has no claim to release")
        return self._store(stored, released(stored))

    def commit(
        self,
        stored: TrackedDeployment,
        observation: Observation,
        *,
        now: datetime,
        expires_at: int | None,
        transition_id: str | None = None,
    ) -> TrackedDeployment:
        new = self._store(stored, committed(stored, observation, now=now, transition_id=transition_id))
        if is_terminal(observation.status) and expires_at is not None:
            self.expiries[self.key(stored.kind, stored.deployment_id)] = expires_at
        return new

    def request_check(
        self, kind: DeploymentKind, deployment_id: str, *, now: datetime, window: timedelta
    ) -> TrackedDeployment | None:
        key = self.key(kind, deployment_id)
        with self._lock:
            current = self.items.get(key)
            if current is None or not current.active:
                return None
            last = self.check_requested_at.get(key)
            if last is not None and now - last < window:
                return None
            self.check_requested_at[key] = now
            self.writes += 1
            return current

    def cursor(self, kind: DeploymentKind, region: str | None = None) -> str | None:
        return self.cursors.get((kind, region))

    def set_cursor(self, kind: DeploymentKind, key: str | None, region: str | None = None) -> None:
        self.cursors[(kind, region)] = key

    def _store(self, stored: TrackedDeployment, new: TrackedDeployment) -> TrackedDeployment:
        """Write `new` only if the item is still at the version `stored` was read at."""
        key = self.key(stored.kind, stored.deployment_id)
        with self._lock:
            current = self.items.get(key)
            if current is None or current.version != stored.version:
                raise ConflictError(f"{stored.deployment_id} moved on")
            self.items[key] = new
            self.writes += 1
            return new


class ScriptedSource:
    """A deployment source whose answers (or exceptions) tests set per deployment."""

    def __init__(
        self, region: str | None = "us-east-1", kind: DeploymentKind = DeploymentKind.GREENGRASS_V1_BULK
    ) -> None:
        self.answers: dict[str, Observation | Exception] = {}
        self.calls: list[str] = []
        self.extra_calls: dict[str, int] = {}
        """Calls an answer needs after its first (a V2 deployment's failed devices), each asked of
        `may_call` first, as the real sources do."""
        self.on_call: Callable[[str], None] = lambda deployment_id: None
        """Runs at each call (a test's clock advancing by the call's time)."""
        self.partial: set[str] = set()
        """The deployments last answered without all their extra calls (a partial answer)."""
        self._region = region
        self._kind = kind

    @property
    def kind(self) -> DeploymentKind:
        return self._kind

    @property
    def region(self) -> str | None:
        return self._region

    def set(self, deployment_id: str, status: str | Exception, **fields: Any) -> None:
        if isinstance(status, Exception):
            self.answers[deployment_id] = status
        else:
            self.answers[deployment_id] = Observation.model_validate(
                {"kind": self.kind, "deployment_id": deployment_id, "status": status, **fields}
            )

    def get_status(self, deployment_id: str, deadline: Deadline | None = None) -> Observation:
        self.calls.append(deployment_id)
        self.on_call(deployment_id)
        self.partial.discard(deployment_id)
        for _ in range(self.extra_calls.get(deployment_id, 0)):
            if deadline is not None and not deadline.may_call():
                if not deadline.partial:
                    raise DeadlineReachedError(f"no time left in this run for {deployment_id}'s next call")
                self.partial.add(deployment_id)
                break
            self.on_call(deployment_id)
        answer = self.answers[deployment_id]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def list_deployments(self) -> Iterator[DeploymentSummary]:
        return iter([])


class RecordingPublisher:
    """Keeps every published notification; `fail_next` makes the next publishes raise PublishError
    (in a batch: the next entries fail, each on its own). Thread-safe, as the poller's workers share it."""

    def __init__(self) -> None:
        self.published: list[Notification] = []
        self.fail_next = 0
        self.before_publish: Callable[[Notification], None] | None = None
        self.batches: list[list[Notification]] = []
        """Every publish_batch call's notifications, in the order the calls were made."""
        self._lock = threading.RLock()

    def publish(self, notification: Notification) -> str:
        if self.before_publish is not None:
            self.before_publish(notification)
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise PublishError("SNS answered InternalError: injected")
            self.published.append(notification)
            return f"msg-{len(self.published)}"

    def publish_batch(self, notifications: Sequence[Notification]) -> list[PublishError | None]:
        assert 0 < len(notifications) <= PUBLISH_BATCH_MAX, len(notifications)
        with self._lock:
            self.batches.append(list(notifications))
        results: list[PublishError | None] = []
        for notification in notifications:
            try:
                self.publish(notification)
            except PublishError as error:
                results.append(error)
            else:
                results.append(None)
        return results
