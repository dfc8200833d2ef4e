"""Overlapping poller runs that interleave every time, not by luck.

Two scheduled runs can overlap in Lambda; the races that matter (both reading one version before either
claims it) are too narrow to hit with plain threads, so the runs meet at a barrier inside a chosen AWS
call and the interleaving is forced.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ggwatch.observability import metrics
from ggwatch.services.poller import Poller, PollReport
from tests.conftest import context_with
from tests.faults.faults import Call, CallFaults, Stage

SAFETY_TIMEOUT_S = 20.0
"""Only a safety net against a hung thread; no test relies on timing."""
RENDEZVOUS = "rendezvous"
"""The label of the meeting rule, which World.faults does not count as a fault."""


def run_together(
    environments: Sequence[Poller], calls: CallFaults, rendezvous: Stage
) -> list[PollReport | BaseException]:
    """One run per environment, in threads meeting at every `rendezvous` call ("status": every
    GetBulkDeploymentStatus; "query": once after reading the active index); each run's report or error."""
    runs = len(environments)
    barriers: dict[str | None, threading.Barrier] = {}
    barriers_lock = threading.Lock()
    broken = False

    def meet(call: Call) -> None:
        """Each run polls its deployments concurrently: the runs meet per deployment, so that it is
        the same deployment's calls of every run that wait for each other."""
        nonlocal broken
        with barriers_lock:
            barrier = barriers.setdefault(
                call.deployment_id, threading.Barrier(runs, timeout=SAFETY_TIMEOUT_S)
            )
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            broken = True
            raise

    once = rendezvous == "query"
    calls.inject(
        rendezvous, meet, phase="after" if once else "before", times=runs if once else None, label=RENDEZVOUS
    )
    outcomes: list[PollReport | BaseException] = [RuntimeError("did not finish")] * runs

    def run(index: int) -> None:
        try:
            outcomes[index] = environments[index].run(context_with().get_remaining_time_in_millis)
        except BaseException as error:  # a SimulatedCrash kills only its own run
            outcomes[index] = error

    # Powertools metrics are process-global and flush themselves at 100 values, which is not
    # thread-safe; two real environments never share them, so start the pair from none.
    metrics.clear_metrics()
    threads = [threading.Thread(target=run, args=(i,), name=f"poller-{i}") for i in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SAFETY_TIMEOUT_S * 2)
    calls.clear(RENDEZVOUS)
    assert not any(thread.is_alive() for thread in threads), "an overlapping run hung"
    assert not broken, "the overlapping runs did not meet: the interleaving was not forced"
    return outcomes
