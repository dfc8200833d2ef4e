"""Waiting for another thread without sleeping blind: every wait has a bound and says what never came.

A bound far above what the wait takes on an idle machine keeps a test green on a busy one; when the
awaited thing really never comes, the test fails after the bound with `what` in its message instead
of hanging the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

BOUND_SECONDS = 10.0
"""Long enough for two busy cores, short enough that a broken test still fails promptly."""
_POLL_SECONDS = 0.005


def wait_until(condition: Callable[[], object], what: str, *, timeout: float = BOUND_SECONDS) -> None:
    """Return once `condition()` is true; fail the test if it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not seen within {timeout:g} s")
        time.sleep(_POLL_SECONDS)
