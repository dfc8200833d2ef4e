"""How a scripted life moves with the clock: shared by the V1 bulk fake and the V2 fleet fake."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def steps_due(
    durations: Sequence[float | None], index: int, entered_at: float, now: float
) -> Iterator[tuple[int, float]]:
    """Each step the clock has reached since step ``index`` was entered: (its index, when it began).

    A step with duration None is held until someone moves it by hand; the last step never ends.
    """
    while index + 1 < len(durations):
        duration = durations[index]
        if duration is None or now < entered_at + duration:
            return
        entered_at += duration
        index += 1
        yield index, entered_at
