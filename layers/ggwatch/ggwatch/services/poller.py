"""One polling pass: ask each source about each active deployment, publish transitions, store state.

The order of steps is what makes delivery safe. A transition is first *claimed* (stored as pending with
a conditional write), then published, then *committed*. A run whose publish failed releases its claim,
and the next run publishes it again with the same transitionId; a run that died holding its claim leaves
it to the first run after the claim's lease. A run that loses a conditional write to an overlapping run
does nothing, so overlapping runs notify once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count as count_from
from itertools import islice
from typing import Literal

from pydantic import ValidationError

from ggwatch.domain.fleet_rules import is_settled
from ggwatch.domain.models import (
    DeploymentKind,
    Observation,
    PendingTransition,
    TrackedDeployment,
    is_terminal,
)
from ggwatch.domain.notification import Notification
from ggwatch.domain.pace import PacePolicy, paced
from ggwatch.domain.pace_events import pace_event
from ggwatch.domain.transitions import assess, bounded, build_notification, tracking_failure
from ggwatch.exceptions import (
    ConflictError,
    CorruptItemError,
    DeadlineReachedError,
    DeploymentNotFoundError,
    GgwatchError,
    PublishError,
    SourceThrottledError,
    SourceUnavailableError,
)
from ggwatch.observability import count, logger
from ggwatch.ports import ActiveItem, Deadline
from ggwatch.services.dispatch import Dispatcher
from ggwatch.services.lanes import Lane, Lanes
from ggwatch.services.publish_batches import DEFAULT_LINGER_SECONDS, PublishBatcher
from ggwatch.services.scope import PollScope

Publish = Callable[[Notification], object]
"""Publishes one claimed notification or raises PublishError: through a run's batcher, or one call."""

Result = Literal["unchanged", "stored", "notified", "skipped", "deferred", "failed", "corrupt"]
"""`deferred`: the source needed a call the run had no time left for; the next run polls it first."""


@dataclass(frozen=True)
class PollOutcome:
    """What happened to one deployment in one run."""

    key: str
    deployment_id: str | None
    result: Result
    notifications: tuple[Notification, ...] = ()
    detail: str | None = None


@dataclass
class PollReport:
    """A run's outcomes, in the order the deployments were visited."""

    outcomes: list[PollOutcome] = field(default_factory=list)
    stopped_at_deadline: bool = False

    @property
    def notifications(self) -> list[Notification]:
        return [n for outcome in self.outcomes for n in outcome.notifications]

    def count(self, result: Result) -> int:
        return sum(1 for outcome in self.outcomes if outcome.result == result)


@dataclass(frozen=True)
class _RetryLater:
    """The source could not answer this time; the deployment is polled again on the next run."""

    reason: str
    deferred: bool = False
    """The run's deadline stopped the source, not a failure of the source's."""


@dataclass(frozen=True)
class _Step:
    """What observing one deployment led to."""

    result: Result
    notifications: tuple[Notification, ...] = ()
    detail: str | None = None


@dataclass(frozen=True)
class _Claim:
    """A stored claim as a later run needs it: the message to publish again and the facts to commit."""

    pending: PendingTransition
    notification: Notification
    observation: Observation


@dataclass(frozen=True)
class PollerPolicy:
    """The poller's tunables (see PollerSettings)."""

    retention_days: int = 30
    claim_lease: timedelta = timedelta(seconds=120)
    end_of_run_reserve_ms: int = 1_000
    """Kept free after the last call a run may make, for the handler's own closing work."""
    check_debounce: timedelta = timedelta(seconds=10)
    """Device events for one deployment within this window lead to one check (see Poller.check)."""
    settled_poll_interval: timedelta | None = None
    """How often a full run polls a settled continuous deployment; None: every run."""
    pace: PacePolicy = field(default_factory=PacePolicy)
    """When a deployment is stuck, and the progress steps notified (off unless set)."""
    concurrency: int = 1
    """Deployments polled at once in each region (POLL_CONCURRENCY)."""
    publish_linger_seconds: float = DEFAULT_LINGER_SECONDS
    """How long a claimed notification may wait for others to share its PublishBatch call."""


class Poller:
    """Detects and publishes transitions of every active tracked deployment.

    `lanes` go from the most patient to the most hurried (e.g. full SDK retries, then one short
    attempt): each step of a run goes through the most patient lane whose slowest call still leaves
    time to write the cursor through the most hurried one, so a run with only seconds left still polls
    what fits, and stops, with the cursor written, before its deadline.
    """

    def __init__(
        self,
        lanes: Sequence[Lane],
        policy: PollerPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._policy = policy or PollerPolicy()
        self._lanes = Lanes(lanes, self._policy.end_of_run_reserve_ms)
        self._clock = clock

    @property
    def minimum_run_ms(self) -> int:
        """The least time in which a run polls one deployment (see Lanes.minimum_run_ms)."""
        return self._lanes.minimum_run_ms

    def run(
        self, remaining_ms: Callable[[], int] = lambda: 2**31, scopes: Sequence[PollScope] = (PollScope(),)
    ) -> PollReport:
        """Poll every kind's deployments in each of `scopes` (the stack's own region's by default), the
        scopes in parallel, each until done or until not even the most hurried lane fits in the time left.

        Every run that finishes emits `DeploymentsPolled`, 0 included: the heartbeat alarm reads its
        absence as a poller that does not run, or whose every run fails.
        """
        if len(scopes) == 1:
            reports = [self._poll_scope(scopes[0], remaining_ms)]
        else:  # one scope's slow region must not hold up the others'
            with ThreadPoolExecutor(max_workers=len(scopes), thread_name_prefix="scope") as pool:
                reports = list(pool.map(lambda scope: self._poll_scope(scope, remaining_ms), scopes))
        report = PollReport(
            [outcome for part in reports for outcome in part.outcomes],
            stopped_at_deadline=any(part.stopped_at_deadline for part in reports),
        )
        count("DeploymentsPolled", len(report.outcomes))
        return report

    def _poll_scope(self, scope: PollScope, remaining_ms: Callable[[], int]) -> PollReport:
        report = PollReport()
        for kind in self._lanes.kinds:
            if not self._poll_kind(kind, remaining_ms, report, scope):
                report.stopped_at_deadline = True
                count("DeadlineReached")
                break
        return report

    def check(self, kind: DeploymentKind, deployment_id: str, remaining_ms: Callable[[], int]) -> PollOutcome:
        """Check one deployment now (a device reported on it), through the same step as a full run.

        Device events come duplicated, out of order and in bursts: a conditional write lets one check
        through per `check_debounce` window, and the claim/commit protocol decides whether what the
        source answers is new, so an event never causes a duplicate or backwards notification.
        """
        key = f"{kind.value}#{deployment_id}"
        lane = self._lanes.for_calls(2, remaining_ms()) if kind in self._lanes.kinds else None
        if lane is None:
            reason = "no time left" if kind in self._lanes.kinds else f"no source polls {kind.value}"
            logger.warning("device event not checked", deployment_id=deployment_id, reason=reason)
            return PollOutcome(key, deployment_id, "skipped", detail=reason)
        try:
            stored = lane.repository.request_check(
                kind, deployment_id, now=self._clock(), window=self._policy.check_debounce
            )
        except CorruptItemError as error:
            return self._poll_item(ActiveItem(key, None, str(error)), lane)
        except GgwatchError as error:
            count("PollErrors")
            logger.error("could not request a check", deployment_id=deployment_id, error=str(error))
            return PollOutcome(key, deployment_id, "failed", detail=str(error))
        if stored is None:
            count("DeviceEventsDebounced")
            logger.info(
                "device event needs no check: not tracked, finished, or checked within the window",
                deployment_id=deployment_id,
            )
            return PollOutcome(key, deployment_id, "skipped", detail="no check due")
        count("DeviceEventChecks")
        return self._poll_item(ActiveItem(key, stored), lane, deadline=self._deadline(lane, remaining_ms))

    def _poll_kind(
        self, kind: DeploymentKind, remaining_ms: Callable[[], int], report: PollReport, scope: PollScope
    ) -> bool:
        """Poll one kind's deployments in `scope`, starting where a cut-short run of the same scope
        stopped; False when cut short.

        Deployments start in key order, `concurrency` at once per region (see Dispatcher), each only if
        the time left lets it finish through some lane; every started one finishes in the run, or is
        deferred when its source has no time left for a call it can do without (the first started
        answers in part instead). The cursor is the first deployment deferred or not started, in the
        run's order: the next run starts there, then wraps round.
        """
        lane = self._lanes.for_calls(2, remaining_ms())
        if lane is None:
            logger.warning("deadline near: stopping before reading the next kind", kind=kind.value)
            return False
        cursor = lane.repository.cursor(kind, scope.region)
        batchers: dict[int, PublishBatcher] = {}
        starts = count_from(0)  # start() is called in turn, on the dispatching thread

        def start(item: ActiveItem) -> Callable[[], PollOutcome] | None:
            lane = self._lanes.for_calls(1, remaining_ms())
            if lane is None:
                return None
            batcher = batchers.get(id(lane))
            if batcher is None:
                linger = self._policy.publish_linger_seconds
                batcher = batchers[id(lane)] = PublishBatcher(lane.publisher, linger_seconds=linger)
            batcher.started()

            # the first deployment answers with what fits rather than be deferred: no later run would
            # give it more time, and each run thus finishes at least one
            deadline = self._deadline(lane, remaining_ms, partial=next(starts) == 0)

            def work() -> PollOutcome:
                try:
                    return self._resting(item, lane) or self._poll_item(item, lane, batcher.publish, deadline)
                finally:
                    batcher.finished()
                    if scope.region is None:
                        _relocate(item, lane)

            return work

        reading = _Reading(kind, cursor, scope)
        items = self._read_pages(reading, lane, remaining_ms)
        dispatched = Dispatcher[ActiveItem, PollOutcome](self._policy.concurrency).run(items, _region, start)
        report.outcomes.extend(dispatched.results)
        deferred = [outcome.key for outcome in dispatched.results if outcome.result == "deferred"]
        if dispatched.not_started is not None or reading.cut_short or deferred:
            next_key = dispatched.not_started.key if dispatched.not_started else reading.stopped_at
            if deferred:  # the next run starts with the first of them, in this run's order
                not_reached = [next_key] if dispatched.not_started or reading.cut_short else []
                next_key = reading.first_in_order([*deferred, *not_reached])
            logger.warning("deadline near: stopped before the next deployment", next_key=next_key)
            self._lanes.for_closing(remaining_ms()).repository.set_cursor(kind, next_key, scope.region)
            return False
        if cursor is not None:
            self._lanes.for_closing(remaining_ms()).repository.set_cursor(kind, None, scope.region)
        return True

    def _read_pages(
        self, reading: _Reading, lane: Lane, remaining_ms: Callable[[], int]
    ) -> Iterator[ActiveItem]:
        """Active items of the scope's region from the cursor on, then those before it (deployments a
        cut-short run did not reach go first), READ_PAGE at a time: each page is a call, read through
        the lane the time left allows (the first was allowed for before reading began); with no time
        for one, reading stops and `reading.stopped_at` is where."""
        first = True
        for from_key, before_key in reading.ranges():
            after_key: str | None = None
            while True:
                if not first:
                    next_lane = self._lanes.for_calls(1, remaining_ms())
                    if next_lane is None:
                        # the last key read (a cursor on it polls that deployment once more), or the
                        # start of the range not read at all
                        reading.cut_short, reading.stopped_at = True, after_key or from_key
                        return
                    lane = next_lane
                first = False
                items = lane.repository.active(
                    reading.kind,
                    region=reading.scope.region,
                    from_key=from_key,
                    after_key=after_key,
                    before_key=before_key,
                )
                page = list(islice(items, READ_PAGE))
                yield from page
                if len(page) < READ_PAGE:
                    break
                after_key = page[-1].key

    def _resting(self, item: ActiveItem, lane: Lane) -> PollOutcome | None:
        """A settled continuous deployment skips the run (the outcome says so): it is polled once per
        `settled_poll_interval` (the same conditional write as a device event's check, so a run right
        after a check skips it too), and a device event checks it at once in between."""
        stored, interval = item.deployment, self._policy.settled_poll_interval
        if interval is None or stored is None or stored.pending is not None or not is_settled(stored):
            return None
        try:
            due = lane.repository.request_check(
                stored.kind, stored.deployment_id, now=self._clock(), window=interval
            )
        except GgwatchError as error:
            logger.warning(
                "polling a settled deployment anyway", deployment_id=stored.deployment_id, error=str(error)
            )
            return None
        if due is not None:
            return None
        return PollOutcome(item.key, stored.deployment_id, "unchanged", detail="settled")

    def _deadline(self, lane: Lane, remaining_ms: Callable[[], int], *, partial: bool = False) -> Deadline:
        """A source polling through `lane` may make one more call while the time left still fits one
        of the lane's calls at its slowest, the cursor write and the end-of-run reserve."""
        return Deadline(lambda: self._lanes.fits(lane, 1, remaining_ms()), partial=partial)

    def _poll_item(
        self, item: ActiveItem, lane: Lane, publish: Publish | None = None, deadline: Deadline | None = None
    ) -> PollOutcome:
        if item.deployment is None:
            count("MalformedItems")
            logger.error("skipping garbled tracked deployment item", key=item.key, problem=item.problem)
            return PollOutcome(item.key, None, "corrupt", detail=item.problem)
        stored = item.deployment
        try:
            return self._poll(stored, lane, item.key, publish or lane.publisher.publish, deadline)
        except ConflictError as error:
            count("ConcurrentUpdatesSkipped")
            logger.info("another run changed the deployment first", deployment_id=stored.deployment_id)
            return PollOutcome(item.key, stored.deployment_id, "skipped", detail=str(error))
        except Exception as error:  # one deployment's failure must never stop the others
            count("PollErrors")
            logger.exception("polling a deployment failed", deployment_id=stored.deployment_id)
            return PollOutcome(item.key, stored.deployment_id, "failed", detail=str(error))

    def _poll(
        self, stored: TrackedDeployment, lane: Lane, key: str, publish: Publish, deadline: Deadline | None
    ) -> PollOutcome:
        """Finish a claim its run left behind, then observe the deployment and record what changed."""
        claim = _readable_claim(stored)
        if stored.pending is not None and claim is None:
            stored = stored.model_copy(update={"pending": None})  # observing afresh re-creates it
        if stored.pending is not None and not self._abandoned(stored.pending):
            return PollOutcome(key, stored.deployment_id, "skipped", detail="claimed by another run")
        republished: tuple[Notification, ...] = ()
        if claim is not None:
            stored, republished = self._take_over(stored, claim, lane, publish), (claim.notification,)
        if is_terminal(stored.status):
            step = _Step("unchanged")
        else:
            step = self._observe_and_record(stored, lane, publish, deadline)
        result = "notified" if republished and step.result != "deferred" else step.result
        return PollOutcome(
            key, stored.deployment_id, result, (*republished, *step.notifications), step.detail
        )

    def _abandoned(self, pending: PendingTransition) -> bool:
        """Whether no run owns the claim any more: released after a failed publish, or its lease is over."""
        return pending.released or self._clock() - pending.claimed_at >= self._policy.claim_lease

    def _take_over(
        self, stored: TrackedDeployment, claim: _Claim, lane: Lane, publish: Publish
    ) -> TrackedDeployment:
        """Publish an abandoned claim again and commit the facts it stored.

        The claim is first taken over with a conditional write: of several runs that found it, only one
        may publish it again.
        """
        taken = claim.pending.model_copy(update={"claimed_at": self._clock(), "released": False})
        stored = lane.repository.claim(stored, taken)
        return self._publish_and_commit(stored, claim.notification, claim.observation, lane, publish)

    def _observe_and_record(
        self, stored: TrackedDeployment, lane: Lane, publish: Publish, deadline: Deadline | None
    ) -> _Step:
        """Ask the source, then store what changed: claim, publish and commit a transition."""
        observation = self._observe(stored, lane, deadline)
        if isinstance(observation, _RetryLater):
            return _Step("deferred" if observation.deferred else "failed", detail=observation.reason)
        now = self._clock()
        region = _source_region(stored, lane)
        event = pace_event(stored, observation, now=now, policy=self._policy.pace, region=region)
        before: tuple[Notification, ...] = ()
        if event is not None:  # first: its commit keeps the stored facts, so a crash loses nothing
            stored = self._claim_publish_commit(
                stored, event.notification, event.observation, lane, now, publish
            )
            before = (event.notification,)
            count(event.notification.event_type)  # DeploymentStuck, DeploymentRecovered, DeploymentProgress
        observation = paced(stored, observation, now)
        assessment = assess(stored, observation)
        if not assessment.state_changed:
            return _Step("notified", before) if before else _Step("unchanged")
        if not assessment.notify:
            lane.repository.commit(stored, observation, now=now, expires_at=self._expiry(now))
            return _Step("notified", before) if before else _Step("stored")
        notification = build_notification(
            stored, observation, assessment.changes, observed_at=now, region=region
        )
        self._claim_publish_commit(stored, notification, observation, lane, now, publish)
        return _Step("notified", (*before, notification))

    def _claim_publish_commit(
        self,
        stored: TrackedDeployment,
        notification: Notification,
        observation: Observation,
        lane: Lane,
        now: datetime,
        publish: Publish,
    ) -> TrackedDeployment:
        pending = PendingTransition(
            transition_id=notification.transition_id,
            message=notification.to_json(),
            observation=observation,
            claimed_at=now,
        )
        return self._publish_and_commit(
            lane.repository.claim(stored, pending), notification, observation, lane, publish
        )

    def _observe(
        self, stored: TrackedDeployment, lane: Lane, deadline: Deadline | None
    ) -> Observation | _RetryLater:
        """The answer of the source in the deployment's region, ggwatch's tracking failure for an
        unknown ID, or why to retry later."""
        try:
            source = lane.source(stored.kind, stored.region)
            return bounded(source.get_status(stored.deployment_id, deadline))
        except DeadlineReachedError as error:
            count("DeploymentsDeferred")
            logger.warning(
                "deadline near: the deployment is polled first by the next run",
                deployment_id=stored.deployment_id,
                reason=str(error),
            )
            return _RetryLater(str(error), deferred=True)
        except DeploymentNotFoundError as error:
            logger.error(
                "the source does not know this deployment: notifying once and no longer polling it",
                deployment_id=stored.deployment_id,
                reason=str(error),
            )
            count("UnknownDeployments")
            return bounded(tracking_failure(stored, str(error)))
        except SourceThrottledError as error:
            count("SourceThrottled")
            logger.warning(
                "throttled: will retry on the next run", deployment_id=stored.deployment_id, error=str(error)
            )
            return _RetryLater(f"throttled: {error}")
        except SourceUnavailableError as error:
            count("PollErrors")
            logger.error(
                "source failed: will retry on the next run",
                deployment_id=stored.deployment_id,
                error=str(error),
            )
            return _RetryLater(str(error))

    def _publish_and_commit(
        self,
        stored: TrackedDeployment,
        notification: Notification,
        observation: Observation,
        lane: Lane,
        publish: Publish,
    ) -> TrackedDeployment:
        """Publish a claimed transition, then store the state it describes and clear the claim."""
        try:
            publish(notification)
        except PublishError:
            count("PublishFailures")
            self._release(stored, lane)
            raise
        count("TransitionsPublished")
        logger.info(
            "transition published",
            event_type=notification.event_type,
            deployment_id=notification.deployment_id,
            transition_id=notification.transition_id,
            previous_status=notification.previous_status,
            status=notification.status,
            changes=list(notification.changes),
        )
        now = self._clock()
        return lane.repository.commit(
            stored,
            observation,
            now=now,
            expires_at=self._expiry(now),
            transition_id=notification.transition_id,
        )

    def _release(self, stored: TrackedDeployment, lane: Lane) -> None:
        """Give up a claim whose publish failed, so that the next run publishes it at once rather than
        after the lease; only a run that died holding its claim leaves it for the lease."""
        try:
            lane.repository.release(stored)
        except GgwatchError as error:
            logger.warning(
                "could not release the claim: it is published again once its lease is over",
                deployment_id=stored.deployment_id,
                error=str(error),
            )

    def _expiry(self, now: datetime) -> int:
        return int((now + timedelta(days=self._policy.retention_days)).timestamp())


def _readable_claim(stored: TrackedDeployment) -> _Claim | None:
    """The deployment's claim, or None when it has none or one that cannot be published again."""
    if stored.pending is None:
        return None
    try:
        notification = Notification.model_validate_json(stored.pending.message)
    except ValidationError:
        notification = None
    if notification is None or stored.pending.observation is None:
        # Only a hand-edited item, or a claim stored before claims kept their facts, gets here.
        count("MalformedItems")
        logger.error("dropping an unreadable claimed transition", deployment_id=stored.deployment_id)
        return None
    return _Claim(stored.pending, notification, stored.pending.observation)


READ_PAGE = 100
"""Deployments read from the active index per call: a run holds about a page beyond what is in flight."""


@dataclass
class _Reading:
    """One kind's read of the active index in a run: from the cursor to the end, then up to it."""

    kind: DeploymentKind
    cursor: str | None
    scope: PollScope
    cut_short: bool = False
    """The run had no time left to read the next page."""
    stopped_at: str | None = None
    """Where the next run is to start reading when cut short (None: at the first key)."""

    def ranges(self) -> list[tuple[str | None, str | None]]:
        return [(self.cursor, None), (None, self.cursor)] if self.cursor else [(None, None)]

    def first_in_order(self, keys: Sequence[str | None]) -> str | None:
        """Of `keys` (None: the first key of all), the one this reading reaches first: from the cursor
        to the end, then from the first key up to the cursor."""

        def position(key: str | None) -> tuple[bool, str]:
            return (self.cursor is not None and (key is None or key < self.cursor), key or "")

        return min(keys, key=position)


def _region(item: ActiveItem) -> str | None:
    """The region whose clients and limits poll the item (a garbled item: the home region's)."""
    return item.deployment.region if item.deployment is not None else None


def _relocate(item: ActiveItem, lane: Lane) -> None:
    """A deployment of another region found in the stack's own partition was tracked before regions had
    partitions of their own: once moved (one write, once), its region's runs poll it."""
    stored = item.deployment
    if stored is None or stored.region is None:
        return
    try:
        moved = lane.repository.relocate(stored.kind, stored.deployment_id, stored.region)
    except GgwatchError as error:  # polled here again next run, and moved then
        logger.warning(
            "could not move a deployment to its region's partition",
            deployment_id=stored.deployment_id,
            error=str(error),
        )
        return
    if moved:
        count("DeploymentsRelocated")
        logger.info(
            "deployment moved to its region's partition",
            deployment_id=stored.deployment_id,
            region=stored.region,
        )


def _source_region(stored: TrackedDeployment, lane: Lane) -> str | None:
    """The region a notification names: that of the source that answered for the deployment."""
    return lane.source(stored.kind, stored.region).region
