"""The concurrent poller against in-memory ports: bounded work per region, regions in parallel, the
cursor of a run cut short while work was in flight, streamed reads of the active index, and bursts
published in batches without weakening claim -> publish -> commit."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from ggwatch.domain.models import DeploymentKind, Observation
from ggwatch.exceptions import SourceUnavailableError
from ggwatch.ports import ActiveItem, Deadline, DeploymentSource
from ggwatch.services.lanes import Lane, SourcesByRegion
from ggwatch.services.poller import Poller, PollerPolicy
from ggwatch.services.scope import PollScope
from tests.clock import START, Clock
from tests.fakes import InMemoryRepository, RecordingPublisher, ScriptedSource
from tests.waiting import wait_until

KIND = DeploymentKind.GREENGRASS_V1_BULK
NO_LINGER_LIMIT = 3600.0
"""A linger no test waits out: batches leave only when full or when no worker could add to them."""


def key(deployment_id: str) -> str:
    return InMemoryRepository.key(KIND, deployment_id)


def track(repository: InMemoryRepository, ids: Sequence[str], region: str | None = None) -> None:
    for deployment_id in ids:
        repository.track(KIND, deployment_id, tracked_by="manual", now=START, region=region)


class GatedSource(ScriptedSource):
    """Answers once `gate` is open; counts the calls in flight at once."""

    def __init__(self, region: str | None) -> None:
        super().__init__(region=region)
        self.gate = threading.Event()
        self.gate.set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.release_at: int | None = None
        """Open the gate once this many calls wait at it (they were all in flight together)."""
        self._lock = threading.Lock()

    def get_status(self, deployment_id: str, deadline: Deadline | None = None) -> Observation:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if self.release_at is not None and self.in_flight >= self.release_at:
                self.gate.set()
        try:
            if not self.gate.wait(timeout=10):
                raise AssertionError(f"{deployment_id}: the gate never opened")
            return super().get_status(deployment_id, deadline)
        finally:
            with self._lock:
                self.in_flight -= 1


@dataclass
class Regions:
    """One gated source per region, each region's built on first use like the poller's clients."""

    sources: dict[str | None, GatedSource] = field(default_factory=dict)
    broken: set[str | None] = field(default_factory=set)
    """Regions whose clients cannot be built at all."""

    def build(self, region: str | None) -> list[DeploymentSource]:
        if region in self.broken:
            raise SourceUnavailableError(f"no endpoint for {region}")
        return [self.sources.setdefault(region, GatedSource(region))]

    def source(self, region: str | None) -> GatedSource:
        return self.sources.setdefault(region, GatedSource(region))


def regional_poller(
    repository: InMemoryRepository,
    regions: Regions,
    publisher: RecordingPublisher,
    clock: Clock,
    concurrency: int,
    worst_call_ms: int = 0,
    linger_seconds: float = NO_LINGER_LIMIT,
) -> Poller:
    sources = SourcesByRegion([KIND], regions.build)
    policy = PollerPolicy(
        concurrency=concurrency, end_of_run_reserve_ms=1_000, publish_linger_seconds=linger_seconds
    )
    return Poller([Lane(repository, sources, publisher, worst_call_ms)], policy, clock=clock)


def set_running(source: ScriptedSource, ids: Sequence[str]) -> None:
    for deployment_id in ids:
        source.set(deployment_id, "Running")


def track_running(
    repository: InMemoryRepository, regions: Regions, by_region: dict[str | None, list[str]]
) -> None:
    """Each region's deployments tracked in it, and Running at its source."""
    for region, region_ids in by_region.items():
        track(repository, region_ids, region)
        set_running(regions.source(region), region_ids)


def scopes(*regions: str | None) -> list[PollScope]:
    """A run over these regions' deployments, each from its own partition, the regions in parallel."""
    return [PollScope(region) for region in regions]


def ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{index:03d}" for index in range(count)]


def test_each_region_polls_up_to_its_bound_at_once_and_never_more() -> None:
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    east, west = ids("e", 9), ids("w", 9)
    track(repository, east, "us-east-1")
    track(repository, west, "eu-west-1")
    for region, region_ids in (("us-east-1", east), ("eu-west-1", west)):
        source = regions.source(region)
        set_running(source, region_ids)
        # Each call waits until three calls of its region are in flight together
        source.gate.clear()
        source.release_at = 3
    report = regional_poller(repository, regions, publisher, clock, concurrency=3).run(
        scopes=scopes("us-east-1", "eu-west-1")
    )
    assert report.count("notified") == 18
    assert [regions.source(r).most_in_flight for r in ("us-east-1", "eu-west-1")] == [3, 3]


def test_a_stuck_region_does_not_keep_the_others_from_being_notified() -> None:
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    # Given deployments of two regions interleaved in key order, and one region whose calls hang
    stuck, moving = ids("d-a", 5), ids("d-b", 5)
    track(repository, stuck, "ap-south-1")
    track(repository, moving, "us-east-1")
    set_running(regions.source("ap-south-1"), stuck)
    set_running(regions.source("us-east-1"), moving)
    regions.source("ap-south-1").gate.clear()
    # (a transition waits for others to share its PublishBatch call no longer than the linger: the
    # hanging workers could still add one)
    poller = regional_poller(repository, regions, publisher, clock, concurrency=2, linger_seconds=0.0)
    run = threading.Thread(target=poller.run, kwargs={"scopes": scopes("ap-south-1", "us-east-1")})
    run.start()
    # Then the other region's deployments are all notified while it hangs
    wait_until(
        lambda: sorted(n.deployment_id for n in publisher.published) == moving,
        "the moving region's transitions",
    )
    assert regions.source("ap-south-1").in_flight == 2
    regions.source("ap-south-1").gate.set()
    run.join(timeout=10)
    assert sorted(n.deployment_id for n in publisher.published) == sorted(stuck + moving)


def test_a_region_whose_clients_fail_does_not_stop_the_others() -> None:
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    broken, home = ids("x", 4), ids("y", 4)
    track(repository, broken, "me-central-1")
    track(repository, home)
    set_running(regions.source(None), home)
    regions.broken.add("me-central-1")
    report = regional_poller(repository, regions, publisher, clock, concurrency=4).run(
        scopes=scopes(None, "me-central-1")
    )
    assert sorted(n.deployment_id for n in publisher.published) == home
    assert report.count("failed") == 4
    # The broken region's deployments stay active, to be polled again next run
    still = list(repository.active(KIND, region="me-central-1"))
    assert len(still) == 4 and all(item.deployment and item.deployment.active for item in still)


class Budget:
    """Time left as the poller reads it: plenty for reading and for `starts` deployments, then too
    little to start another (7 s are needed with 3 s calls and 1 s reserve) but enough for the cursor."""

    def __init__(self, starts: int) -> None:
        self.looks = 0
        self.starts = starts

    def __call__(self) -> int:
        self.looks += 1
        return 50_000 if self.looks <= self.starts + 1 else 6_999


def test_a_run_cut_short_with_work_in_flight_writes_the_first_not_started_and_the_next_run_reaches_it() -> (
    None
):
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    everything = ids("bd", 10)
    track(repository, everything)
    source = regions.source(None)
    set_running(source, everything)
    poller = regional_poller(repository, regions, publisher, clock, concurrency=4, worst_call_ms=3_000)
    # Given a run with time to start 6 deployments, 4 at a time
    report = poller.run(Budget(starts=6))
    # Then the 6 first in key order were polled to the end (published and committed), none other
    assert report.stopped_at_deadline
    assert sorted(source.calls) == everything[:6]
    assert sorted(n.deployment_id for n in publisher.published) == everything[:6]
    assert all(repository.items[key(d)].status == "Running" for d in everything[:6])
    assert all(repository.items[key(d)].status is None for d in everything[6:])
    # And the cursor is the first not started, so the next run, cut short after 4, reaches exactly those
    assert repository.cursor(KIND) == key("bd-006")
    source.calls.clear()
    poller.run(Budget(starts=4))
    assert sorted(source.calls) == everything[6:]
    assert Counter(n.deployment_id for n in publisher.published) == Counter(everything)


def test_cut_short_runs_over_several_regions_never_skip_a_deployment() -> None:
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    by_region = {"us-east-1": ids("a", 12), "eu-west-1": ids("b", 12), None: ids("c", 12)}
    track_running(repository, regions, by_region)
    poller = regional_poller(repository, regions, publisher, clock, concurrency=2, worst_call_ms=3_000)
    # Runs over the three regions' scopes at once, each run with time for about a dozen looks at the
    # clock (the scopes share it: each looks before its reads and before each deployment it starts),
    # until every deployment was notified
    runs = 0
    while len(publisher.published) < 36 and runs < 20:
        poller.run(Budget(starts=12), scopes("us-east-1", "eu-west-1", None))
        runs += 1
    # Each was notified once, and none waited for long: each scope's cursor takes its next run on from
    # the first deployment it did not start, so none is skipped
    assert Counter(n.deployment_id for n in publisher.published) == Counter(
        [d for region_ids in by_region.values() for d in region_ids]
    )
    assert runs <= 15


class CountingRepository(InMemoryRepository):
    """Records, at each item it hands out, how many it has handed out beyond what was polled."""

    def __init__(self, source: ScriptedSource) -> None:
        super().__init__()
        self.source = source
        self.most_held = 0
        self.reads: list[tuple[str | None, str | None]] = []

    def active(
        self,
        kind: DeploymentKind,
        *,
        region: str | None = None,
        from_key: str | None = None,
        after_key: str | None = None,
        before_key: str | None = None,
    ) -> Iterator[ActiveItem]:
        self.reads.append((from_key or after_key, before_key))
        items = super().active(
            kind, region=region, from_key=from_key, after_key=after_key, before_key=before_key
        )
        for item in items:
            self.handed_out += 1
            self.most_held = max(self.most_held, self.handed_out - len(self.source.calls))
            yield item

    handed_out = 0


def test_the_active_index_is_streamed_never_held_whole() -> None:
    source = ScriptedSource(region=None)
    repository, publisher, clock = CountingRepository(source), RecordingPublisher(), Clock()
    everything = ids("bd", 200)
    track(repository, everything)
    set_running(source, everything)
    policy = PollerPolicy(concurrency=3)
    poller = Poller([Lane(repository, [source], publisher)], policy, clock=clock)
    poller.run()
    # At most a page (100) and what is in flight and waiting (3 + the dispatcher's lookahead of 4 each)
    # is held at once, not the 200
    assert repository.most_held <= 100 + 3 + 12 + 1
    assert len(publisher.published) == 200
    # And a run that starts at a cursor reads from it to the end, then from the start up to it, a
    # hundred at a time
    repository.set_cursor(KIND, key("bd-150"))
    repository.reads.clear()
    poller.run()
    assert repository.reads == [(key("bd-150"), None), (None, key("bd-150")), (key("bd-099"), key("bd-150"))]


def test_a_run_without_time_to_read_the_next_page_stops_there_and_the_next_run_starts_with_it() -> None:
    source = ScriptedSource(region=None)
    repository, publisher, clock = InMemoryRepository(), RecordingPublisher(), Clock()
    everything = ids("bd", 150)
    track(repository, everything)
    set_running(source, everything)
    # Given a run whose time runs out once it started the first page's 100 deployments (each page is
    # a call, and reading the next needs as much time left as starting a deployment)
    policy = PollerPolicy(concurrency=128, end_of_run_reserve_ms=1_000)
    poller = Poller([Lane(repository, [source], publisher, 3_000)], policy, clock=clock)
    report = poller.run(Budget(starts=100))
    # Then it stopped reading, with the cursor on the last deployment it read
    assert report.stopped_at_deadline
    assert sorted(source.calls) == everything[:100]
    assert repository.cursor(KIND) == key("bd-099")
    # And the next run starts there (bd-099 is polled once more: it has not changed, nothing is written)
    source.calls.clear()
    poller.run(Budget(starts=51))
    assert sorted(source.calls) == everything[99:]
    assert Counter(n.deployment_id for n in publisher.published) == Counter(everything)


def test_a_burst_is_published_ten_to_a_call_and_a_failed_entry_releases_only_its_own_claim() -> None:
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    everything = ids("bd", 25)
    track(repository, everything)
    source = regions.source(None)
    set_running(source, everything)
    # Given a burst of 25 transitions, 16 polled at once (the first 16 answers wait until all 16 are
    # in flight, as slow answers would: the workers do not finish before the others start), and SNS
    # refusing 3 of the entries
    source.gate.clear()
    source.release_at = 16
    publisher.fail_next = 3
    report = regional_poller(repository, regions, publisher, clock, concurrency=16).run()
    # Then they left in calls of at most 10, one of them full
    sizes = [len(batch) for batch in publisher.batches]
    assert max(sizes) == 10 and sum(sizes) == 25, sizes
    # And the refused ones' claims were released, the others committed
    refused = [d for d in everything if repository.items[key(d)].pending is not None]
    assert len(refused) == 3 and report.count("failed") == 3
    assert all(repository.items[key(d)].pending.released for d in refused)  # type: ignore[union-attr]
    assert sorted(n.deployment_id for n in publisher.published) == sorted(set(everything) - set(refused))
    # And the next run publishes just those, with the transition IDs they were claimed with
    claimed = {d: repository.items[key(d)].pending.transition_id for d in refused}  # type: ignore[union-attr]
    clock.now += timedelta(seconds=60)
    regional_poller(repository, regions, publisher, clock, concurrency=16).run()
    assert Counter(n.deployment_id for n in publisher.published) == Counter(everything)
    assert {n.deployment_id: n.transition_id for n in publisher.published[-3:]} == claimed


def test_each_scope_polls_its_own_regions_deployments_and_scopes_in_turn_poll_them_all_once() -> None:
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    by_region = {"eu-west-1": ids("b", 4), "ap-south-1": ids("c", 4), None: ids("d", 4)}
    track_running(repository, regions, by_region)
    poller = regional_poller(repository, regions, publisher, clock, concurrency=2)
    # A region run polls its region's deployments only, and reads no other's
    west = poller.run(scopes=[PollScope("eu-west-1")])
    assert sorted(o.deployment_id or "" for o in west.outcomes) == by_region["eu-west-1"]
    assert regions.source(None).calls == [] and regions.source("ap-south-1").calls == []
    # The scheduled run polls the stack's own region, then each region whose run it could not start
    home = poller.run(scopes=[PollScope(), PollScope("ap-south-1")])
    assert sorted(o.deployment_id or "" for o in home.outcomes) == sorted(
        by_region[None] + by_region["ap-south-1"]
    )
    assert sorted(regions.source("eu-west-1").calls) == by_region["eu-west-1"]  # not asked again
    assert Counter(n.deployment_id for n in publisher.published) == Counter(
        [d for region_ids in by_region.values() for d in region_ids]
    )


def test_a_region_run_cut_short_keeps_its_own_cursor_and_the_next_one_resumes_there() -> None:
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    west, home = ids("w", 8), ids("h", 8)
    track(repository, west, "eu-west-1")
    track(repository, home)
    set_running(regions.source("eu-west-1"), west)
    set_running(regions.source(None), home)
    poller = regional_poller(repository, regions, publisher, clock, concurrency=2, worst_call_ms=3_000)
    # Given a region run and a scheduled run, each with time to start 3 deployments
    poller.run(Budget(starts=3), [PollScope("eu-west-1")])
    poller.run(Budget(starts=3))
    # Then each stopped at its own first deployment not started, in its own cursor
    assert repository.cursor(KIND, "eu-west-1") == key("w-003")
    assert repository.cursor(KIND) == key("h-003")
    # And the next runs of each scope start there and, given the time, finish and clear their cursors
    regions.source("eu-west-1").calls.clear()
    poller.run(scopes=[PollScope("eu-west-1")])
    calls = regions.source("eu-west-1").calls
    assert calls[0] in west[3:5] and set(west[3:]) <= set(calls)  # 2 at once from the cursor on
    poller.run()
    assert repository.cursor(KIND, "eu-west-1") is None and repository.cursor(KIND) is None
    assert Counter(n.deployment_id for n in publisher.published) == Counter(west + home)


def test_a_region_run_overlapping_a_scheduled_run_that_polls_its_region_too_notifies_once() -> None:
    # Given a scheduled run that could not start eu-west-1's run (so polls it itself) while a region
    # run started earlier still polls eu-west-1: both ask about the same deployments at once
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    west = ids("w", 20)
    track(repository, west, "eu-west-1")
    source = regions.source("eu-west-1")
    set_running(source, west)
    source.gate.clear()
    source.release_at = 4  # both runs' first calls are in flight together
    poller = regional_poller(repository, regions, publisher, clock, concurrency=2)
    both = [[PollScope("eu-west-1")], [PollScope(), PollScope("eu-west-1")]]
    threads = [threading.Thread(target=poller.run, kwargs={"scopes": scopes}) for scopes in both]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Then each transition was published once: the conditional claim let one run through per deployment
    assert Counter(n.deployment_id for n in publisher.published) == Counter(west)
    assert all(repository.items[key(d)].status == "Running" for d in west)


def test_a_deployment_stored_before_regions_had_partitions_is_polled_once_then_left_to_its_region() -> None:
    repository, regions, publisher, clock = InMemoryRepository(), Regions(), RecordingPublisher(), Clock()
    track(repository, ["w-legacy"], "eu-west-1")
    repository.in_own_partition.add(key("w-legacy"))
    set_running(regions.source("eu-west-1"), ["w-legacy"])
    poller = regional_poller(repository, regions, publisher, clock, concurrency=2)
    # The scheduled run finds it in its own partition: polls it, in its region, and moves it
    assert [o.deployment_id for o in poller.run().outcomes] == ["w-legacy"]
    assert regions.source("eu-west-1").calls == ["w-legacy"]
    assert key("w-legacy") not in repository.in_own_partition
    # From then on, the region's runs poll it, and the scheduled run does not
    assert poller.run().outcomes == []
    assert [o.deployment_id for o in poller.run(scopes=scopes("eu-west-1")).outcomes] == ["w-legacy"]
    assert [n.deployment_id for n in publisher.published] == ["w-legacy"]
