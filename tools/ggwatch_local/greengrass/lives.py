"""Named, realistic bulk-deployment lives, and choosers that hand them out.

A life is the sequence of states GetBulkDeploymentStatus will report. ``step_seconds=None`` gives
lives that only move when a test calls ``advance``; a number gives self-running lives for the demo.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping, Sequence

from .model import ErrorDetail, Step

Life = tuple[Step, ...]
LifeChooser = Callable[[], Life]
"""Called once per StartBulkDeployment (and by ``assign_lives``) to pick the new deployment's life."""


def completes(*, records: int = 10, batches: int = 3, step_seconds: float | None = None) -> Life:
    """Initializing -> Running (RecordsProcessed grows over ``batches`` polls) -> Completed."""
    running = tuple(
        Step("Running", records_processed=records * i // batches, duration=step_seconds)
        for i in range(1, batches + 1)
    )
    return (
        Step("Initializing", duration=step_seconds),
        *running,
        Step("Completed", records_processed=records),
    )


def fails(*, records: int = 6, step_seconds: float | None = None) -> Life:
    """Runs part of the way, then Failed with an ErrorMessage and several per-group ErrorDetails."""
    details = (
        ErrorDetail("InvalidInputFile", f"Record {records // 2 + 1}: group version ARN is malformed."),
        ErrorDetail("GroupNotFound", "Group 7f3b2c1e-0d4a-4c57-9a1e-2f6d8b9c0e11 does not exist."),
        ErrorDetail("AccessDenied", "Execution role is not allowed to perform greengrass:CreateDeployment."),
    )
    return (
        Step("Initializing", duration=step_seconds),
        Step("Running", records_processed=records // 2, duration=step_seconds),
        Step(
            "Failed",
            records_processed=records // 2,
            invalid_input_records=1,
            error_message="Bulk deployment failed: too many records could not be deployed.",
            error_details=details,
        ),
    )


def stopped(*, records: int = 8, step_seconds: float | None = None) -> Life:
    """Running until someone stops it: Running -> Stopping -> Stopped, metrics frozen at the stop."""
    done = records // 4
    return (
        Step("Initializing", duration=step_seconds),
        Step("Running", records_processed=done, duration=step_seconds),
        Step("Stopping", records_processed=done, duration=step_seconds),
        Step("Stopped", records_processed=done),
    )


def invalid_records_with_retries(*, records: int = 12, step_seconds: float | None = None) -> Life:
    """Completed despite InvalidInputRecords > 0 and RetryAttempts > 0 (a 'completed with problems')."""
    return (
        Step("Initializing", duration=step_seconds),
        Step("Running", records_processed=records // 2, retry_attempts=1, duration=step_seconds),
        Step(
            "Running",
            records_processed=records - 2,
            invalid_input_records=1,
            retry_attempts=3,
            duration=step_seconds,
        ),
        Step("Completed", records_processed=records, invalid_input_records=2, retry_attempts=3),
    )


NAMED_LIVES: dict[str, Callable[..., Life]] = {
    "completes": completes,
    "fails": fails,
    "stopped": stopped,
    "invalid_records_with_retries": invalid_records_with_retries,
}


def demo_lives(step_seconds: float | None = 3.0) -> list[Life]:
    """One of each named life, all progressing by themselves every ``step_seconds``."""
    return one_of_each(NAMED_LIVES, step_seconds)


def one_of_each[L](named: Mapping[str, Callable[..., L]], step_seconds: float | None) -> list[L]:
    """One life from each maker in ``named``, each step lasting ``step_seconds`` (None: held)."""
    return [make(step_seconds=step_seconds) for make in named.values()]


def round_robin(lives: Sequence[Life]) -> LifeChooser:
    """A chooser cycling through ``lives`` in order (thread-safety is provided by the fake's lock)."""
    if not lives:
        raise ValueError("round_robin needs at least one life")
    cycle = itertools.cycle(tuple(lives))
    return lambda: next(cycle)


def seeded_random(lives: Sequence[Life], seed: int) -> LifeChooser:
    """A chooser picking from ``lives`` pseudo-randomly, reproducibly for a given ``seed``."""
    if not lives:
        raise ValueError("seeded_random needs at least one life")
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    pool = tuple(lives)
    return lambda: rng.choice(pool)


def assign_lives(count: int, chooser: LifeChooser) -> list[Life]:
    """Lives for ``count`` deployments, e.g. ``assign_lives(5, round_robin(demo_lives()))``."""
    return [chooser() for _ in range(count)]
