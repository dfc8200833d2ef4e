"""Lambda time under the fault harness's control: contexts that run out where a test decides.

They are the local runtime's LambdaContext on a clock of their own, so a run meets its deadline or its
timeout at a chosen call, without waiting for it. (The time the services read is `tests.clock.Clock`.)
"""

from __future__ import annotations

from ggwatch.settings import PollerSettings
from tests.conftest import context_with
from tests.faults.faults import SimulatedCrash

SAFETY_MARGIN_MS = int(PollerSettings.model_fields["SAFETY_MARGIN_MS"].default)
"""The poller's default safety margin, which the world leaves as configured."""
LOOK_MS = 1000
"""What each look at the time left costs in a `deadline_after` run."""


class RunTime:
    """One invocation's time, spent where the test decides: by each look at the time left
    (`per_look_ms`, counted in `looks`) and by simulated slow calls (`spend`). `context` is the
    invocation's Lambda context; at zero the runtime kills the run."""

    def __init__(self, timeout_ms: int, *, per_look_ms: int = 0) -> None:
        self.timeout_ms = timeout_ms
        self.per_look_ms = per_look_ms
        self.spent_ms = 0
        self.looks = 0
        self.context = context_with(timeout_ms, clock=self._look)

    def spend(self, ms: int) -> None:
        self.spent_ms += ms
        if self.spent_ms >= self.timeout_ms:
            raise SimulatedCrash("the function timed out")

    def _look(self) -> float:
        """The context's clock: seconds spent so far, and every look spends `per_look_ms`."""
        spent = self.spent_ms + self.looks * self.per_look_ms
        self.looks += 1
        return spent / 1000


def deadline_after(items: int) -> RunTime:
    """Time for `items` deployments, then less than the poller's safety margin (SAFETY_MARGIN_MS):
    the poller looks at the time left before each deployment, and each look spends LOOK_MS."""
    return RunTime(SAFETY_MARGIN_MS + items * LOOK_MS - 1, per_look_ms=LOOK_MS)
