"""What an invocation is given and what it gives back: Lambda's context object, and the outcome.

The handlers read the context (powertools logs its fields, services check the remaining time), so it
carries a real deadline taken from the function's timeout. Tests use the same class on a clock of
their own, to decide where a run meets its deadline without waiting for it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LambdaContext:
    """The context object Lambda passes: identity of the function and a deadline that runs."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    deadline: float
    """The reading of `clock` at which Lambda would stop the invocation."""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    """Seconds, on the clock `deadline` is set on."""

    def get_remaining_time_in_millis(self) -> int:
        """Rounded, so a deadline set N ms ahead on a clock that stands still reads N, not N - 1."""
        return max(round((self.deadline - self.clock()) * 1000), 0)


@dataclass(frozen=True)
class Invocation:
    """How one invocation ended: a result, or the error Lambda would report."""

    function: str
    request_id: str
    result: Any
    error: Exception | None
    duration_seconds: float
    timed_out: bool

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out

    @property
    def error_text(self) -> str:
        if self.timed_out:
            return f"Task timed out after {self.duration_seconds:.2f} seconds"
        return "" if self.error is None else f"{type(self.error).__name__}: {self.error}"
