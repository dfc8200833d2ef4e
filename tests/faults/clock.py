"""Lambda time under the fault harness's control: contexts that run out where a test decides.

They are the local runtime's LambdaContext on a clock of their own, so a run meets its deadline or its
timeout at a chosen call, without waiting for it. (The time the services read is `tests.clock.Clock`.)
"""

from __future__ import annotations

from ggwatch.adapters.sdk_config import HURRIED
from ggwatch.settings.poller import PollerSettings
from tests.conftest import context_with
from tests.faults.faults import SimulatedCrash

DEPLOYMENT_NEEDS_MS = 2 * HURRIED.worst_case_ms + int(
    PollerSettings.model_fields["END_OF_RUN_RESERVE_MS"].default
)
"""The least time left in which the poller starts a deployment: one hurried call, then the cursor write
through the hurried lane, then the end-of-run reserve (the world leaves the settings as configured)."""
LAMBDA_TIMEOUT_MS = 50_000
"""The poller's Timeout in template.yaml."""


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


class CutShort(RunTime):
    """A run with time for the handler's timeout check, the reads and `items` deployments, then too
    little to start another, as if those deployments had taken the rest of the run."""

    def __init__(self, items: int) -> None:
        self.items = items
        super().__init__(LAMBDA_TIMEOUT_MS)

    def _look(self) -> float:
        self.looks += 1
        spent = 0 if self.looks <= self.items + 2 else self.timeout_ms - DEPLOYMENT_NEEDS_MS + 1
        return spent / 1000


def deadline_after(items: int) -> RunTime:
    """A run cut short after `items` deployments; it looks at its time `items + 4` times (the handler's
    check, the reads, each deployment started, the one refused, and the cursor write once the
    deployments started have finished)."""
    return CutShort(items)
