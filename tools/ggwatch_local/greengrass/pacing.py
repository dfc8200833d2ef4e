"""How fast the simulator answers, and how fast it lets a caller ask: latency and rate limits.

Real services take tens of milliseconds per call and throttle above a rate per account, region and
operation. The benchmark needs both to measure a poller against the physical bound of a cycle; the
tests need the throttle to be exact, so the buckets read an injectable clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Pacing:
    """Latency added to every answer and a request rate allowed per (region, operation)."""

    latency: float = 0.0
    """Seconds every answer waits before it is sent, throttling errors included."""
    rate_limit: float | None = None
    """Requests per second allowed per (region, operation); None: no limit."""
    burst: float | None = None
    """Requests a (region, operation) may make at once after a quiet spell; default one second's worth."""
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    """Seconds, for the token buckets; tests pass a controlled clock."""

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {self.latency}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError(f"rate_limit must be > 0 requests a second, got {self.rate_limit}")
        if self.burst is not None and self.burst < 1:
            raise ValueError(f"burst must be >= 1 request, got {self.burst}")


class RateLimits:
    """One token bucket per (region, operation), as a service's per-API throttle keeps them."""

    def __init__(self, pacing: Pacing) -> None:
        self._rate = pacing.rate_limit
        self._capacity = pacing.burst or max(1.0, self._rate or 1.0)
        self._clock = pacing.clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str | None, str], tuple[float, float]] = {}
        """(tokens, when they were counted) per (region, operation)."""

    def admit(self, region: str | None, operation: str) -> bool:
        """Take a token for one request; False when the bucket is empty (the request is throttled)."""
        if self._rate is None:
            return True
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get((region, operation), (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - at) * self._rate)
            admitted = tokens >= 1.0
            self._buckets[region, operation] = (tokens - 1.0 if admitted else tokens, now)
            return admitted


UNPACED = Pacing()
"""As fast as the machine answers, no limit: the simulator's default."""
