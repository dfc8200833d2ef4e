"""Deployment lives as the world drove them, and the transitions they owe every channel.

A life moves on only after the poller stored its current step, so every shown step was observable
and each change between two shown steps is exactly one expected transition: no guessing which
notifications a faulty run should have sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ggwatch_local.greengrass import Status, Step
from ggwatch_local.greengrass_v2 import FleetLife, FleetStep

TRACKING_FAILED = "TrackingFailed"
Transition = tuple[str, str | None, str]
"""(deployment id, previous status, status)"""


def steps(*statuses: Status) -> tuple[Step, ...]:
    """A plain life, e.g. steps("Initializing", "Running", "Completed"); records grow at each step."""
    return tuple(Step(status, records_processed=i) for i, status in enumerate(statuses))


@dataclass
class Life:
    """A deployment as the world drove it: the fake's life and how many of its steps were shown."""

    deployment_id: str
    steps: list[Step]
    shown: int = 1

    @property
    def known(self) -> bool:
        return bool(self.steps)

    @property
    def current(self) -> Step:
        return self.steps[self.shown - 1]

    @property
    def finished(self) -> bool:
        return not self.known or self.shown == len(self.steps)

    def expected(self) -> list[Transition]:
        """One transition per change of status or of error information between shown steps."""
        if not self.known:
            return [(self.deployment_id, None, TRACKING_FAILED)]
        transitions: list[Transition] = []
        before: tuple[str | None, Any] = (None, None)
        for step in self.steps[: self.shown]:
            now = (step.status, _errors_of(step))
            if now != before:
                transitions.append((self.deployment_id, before[0], step.status))
            before = now
        return transitions

    def observed(self, item: Mapping[str, Any]) -> bool:
        """Whether the stored item is the current step, committed (no claim pending)."""
        if "pending" in item:
            return False
        if not self.known:
            return item.get("status") == TRACKING_FAILED
        step = self.current
        stored_metrics = item.get("metrics") or {}
        stored_details = tuple((d.get("code"), d.get("message")) for d in item.get("errorDetails") or [])
        return (
            item.get("status") == step.status
            and int(stored_metrics.get("recordsProcessed", -1)) == step.records_processed
            and int(stored_metrics.get("invalidInputRecords", -1)) == step.invalid_input_records
            and int(stored_metrics.get("retryAttempts", -1)) == step.retry_attempts
            and (item.get("errorMessage"), stored_details) == _errors_of(step)
        )


def _errors_of(step: Step) -> tuple[str | None, tuple[tuple[str | None, str | None], ...]]:
    return step.error_message, tuple((d.code, d.message) for d in step.error_details)


_COUNTED = {
    "queued": "QUEUED",
    "inProgress": "IN_PROGRESS",
    "succeeded": "SUCCEEDED",
    "failed": "FAILED",
    "rejected": "REJECTED",
    "timedOut": "TIMED_OUT",
    "canceled": "CANCELED",
    "removed": "REMOVED",
}
"""A V2 notification's device counters and the job execution status each counts."""


@dataclass
class FleetRecord:
    """A Greengrass V2 deployment as the world drove it (each step naming every device).

    What it owes is worked out here from the devices of each shown step, the way issue 9 states it and
    apart from ggwatch's own rules: a new status, more failed devices, or a rollout that finished.
    """

    deployment_id: str
    life: FleetLife
    shown: int = 1
    known = True

    @property
    def current(self) -> FleetStep:
        return self.life.steps[self.shown - 1]

    @property
    def finished(self) -> bool:
        return self.shown == len(self.life.steps)

    def expected(self) -> list[Transition]:
        transitions: list[Transition] = []
        status, failures, settled = None, 0, False
        for step in self.life.steps[: self.shown]:
            devices = _devices(step)
            now_failures = devices["failed"] + devices["rejected"] + devices["timedOut"]
            now_settled = sum(devices.values()) > 0 and devices["queued"] + devices["inProgress"] == 0
            if step.status != status or now_failures > failures or (now_settled and not settled):
                transitions.append((self.deployment_id, status, step.status))
            status, failures, settled = step.status, now_failures, now_settled
        return transitions

    def observed(self, item: Mapping[str, Any]) -> bool:
        """Whether the stored item is the current step's status and device counts, committed."""
        stored = item.get("metrics") or {}
        return (
            "pending" not in item
            and item.get("status") == self.current.status
            and {name: int(stored.get(name, -1)) for name in _COUNTED} == _devices(self.current)
        )


def _devices(step: FleetStep) -> dict[str, int]:
    found = Counter[str](execution.status for execution in step.executions)
    return {name: found[status] for name, status in _COUNTED.items()}


AnyLife = Life | FleetRecord
