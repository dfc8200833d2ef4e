"""The calls an answer can do without, each made only if the run still has time for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ggwatch.exceptions import DeadlineReachedError

if TYPE_CHECKING:
    from ggwatch.ports import Deadline


def allowed(deadline: Deadline | None, call: str) -> bool:
    """True if the run has time for `call` (or no deadline); False if not and a partial answer will do;
    else DeadlineReachedError, which defers the deployment to the next run."""
    if deadline is None or deadline.may_call():
        return True
    if deadline.partial:
        return False
    raise DeadlineReachedError(f"no time left in this run for {call}")
