"""A client-side request rate per (region, service, operation) that adapts to throttling.

The quotas that bind the poller are per account, region and API, so each (region, service, operation)
has one token bucket, shared by every client and thread that calls it. Every attempt of a limited
operation, retries included, takes a token before it is sent; the token is reserved in order (first
come, first served), so a thread knows at once how long it will wait. A wait is bounded: a call that
cannot get its token within its budget's wait fails at once as a throttle (retried by the next run),
so the wait is a known part of each call's worst case (sdk_config.CallBudget).

A throttling answer lowers the bucket's rate by CUBIC's factor, once for the attempts sent at the rate
that met it, and answers that follow raise it back along botocore's own CUBIC curve to the configured
rate. docs/decisions.md records why this, and not botocore's `adaptive` retry mode, guards the poller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from botocore.exceptions import ClientError
from botocore.retries.throttling import CubicCalculator

from ggwatch.adapters.aws_errors import THROTTLING_CODES
from ggwatch.observability import count, logger

if TYPE_CHECKING:
    from ggwatch.settings.poller import PollerSettings

MIN_RATE: Final = 0.5
"""Requests per second a bucket never goes below, however often it is throttled (botocore's floor)."""
RECOVERY_SCALE: Final = 0.04
"""CUBIC's scale constant, a tenth of botocore's 0.4: its curve climbs from 0.7 x back to the rate that
met a throttle in K = cbrt(0.3 x rate / scale) seconds, 5.3 s at 20/s instead of 2.5 s. Measured
(tools/bench/rate_modes.py, a bucket set to twice the service's limit) it meets 70 throttles in 300
calls instead of 113, with the same cycle time."""
_WAITED = "ggwatch_rate_waited"
_EPOCH = "ggwatch_rate_epoch"
"""Keys in botocore's per-call context: how long the call's attempts have waited for tokens so far, and
the rate its latest attempt was sent at."""

Client = TypeVar("Client")


@dataclass(frozen=True, slots=True)
class Reservation:
    wait_seconds: float
    """How long to sleep before the attempt may be sent."""
    epoch: int
    """How many times the bucket's rate had been lowered when the token was taken."""


class TokenBucket:
    """Tokens at `rate` per second up to `burst`; thread-safe, on an injectable monotonic clock.

    Tokens may be owed: a reservation takes the next token even when it is not there yet and waits
    for it, so threads are served in the order they asked and `burst + rate * T` bounds the attempts
    that start in any window of T seconds, however many threads ask.
    """

    def __init__(
        self, rate: float, *, burst: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(
                f"a bucket needs a positive rate and a burst of at least 1 (got {rate}, {burst})"
            )
        self.ceiling = rate
        self._floor = min(MIN_RATE, rate)
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = burst
        self._updated = clock()
        self._epoch = 0
        self._cubic = CubicCalculator(
            starting_max_rate=rate, start_time=self._updated, scale_constant=RECOVERY_SCALE
        )

    @property
    def rate(self) -> float:
        with self._lock:
            return self._rate

    def reserve(self, deadline: float) -> Reservation | None:
        """Take the next token, or nothing and None when it would come later than `deadline`."""
        with self._lock:
            now = self._refill()
            wait = max(0.0, (1 - self._tokens) / self._rate)
            if now + wait > deadline:
                return None
            self._tokens -= 1
            return Reservation(wait, self._epoch)

    def throttled(self, epoch: int) -> bool:
        """An attempt reserved at `epoch` was throttled: lower the rate, unless a throttle of the same
        epoch already did (a burst of in-flight attempts meeting one limit lowers it once)."""
        with self._lock:
            if epoch != self._epoch:
                return False
            now = self._refill()
            self._rate = max(self._floor, self._cubic.error_received(self._rate, now))
            self._epoch += 1
            return True

    def answered(self) -> None:
        """An attempt was answered without throttling: move the rate up CUBIC's curve, to the ceiling."""
        with self._lock:
            if self._rate >= self.ceiling:
                return
            now = self._refill()
            self._rate = min(self.ceiling, max(self._rate, self._cubic.success_received(now)))

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        return now


class RateLimits:
    """One bucket per (region, service, operation) for the operations given a rate; the others pass."""

    def __init__(
        self,
        rates: Mapping[tuple[str, str], float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`rates`: requests per second per region, by (botocore service name, operation name)."""
        self._rates = dict(rates)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, region: str, service: str, operation: str) -> TokenBucket | None:
        rate = self._rates.get((service, operation))
        if rate is None:
            return None
        key = (region, service, operation)
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(rate, clock=self._clock)
            return self._buckets[key]

    def attach(self, client: Client, *, max_wait_seconds: float) -> Client:
        """Limit the client's calls of every operation with a rate; a call waits for its tokens at most
        `max_wait_seconds` in all (its attempts together). Returns the client, to wrap where it is built."""
        meta: Any = client.meta  # type: ignore[attr-defined]
        region: str = meta.region_name
        service: str = meta.service_model.service_name
        service_id: str = meta.service_model.service_id.hyphenize()
        for operation in self._operations(service, meta.service_model.operation_names):
            bucket = self.bucket(region, service, operation)
            assert bucket is not None
            hook = _AttemptHook(
                bucket, (region, service, operation), max_wait_seconds, self._clock, self._sleep
            )
            # request-created is emitted once per attempt, retries included, with the call's context.
            meta.events.register(f"request-created.{service_id}.{operation}", hook.before_attempt)
            meta.events.register(f"needs-retry.{service_id}.{operation}", hook.after_attempt)
        return client

    def _operations(self, service: str, operations: Iterable[str]) -> list[str]:
        return [operation for operation in operations if (service, operation) in self._rates]


@dataclass(frozen=True, slots=True)
class _AttemptHook:
    bucket: TokenBucket
    key: tuple[str, str, str]
    max_wait_seconds: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]

    def before_attempt(self, request: Any, **_: Any) -> None:
        """Wait for this attempt's token, or fail the call as throttled when it comes too late."""
        context: dict[str, Any] = request.context
        waited = context.get(_WAITED, 0.0)
        reservation = self.bucket.reserve(self.clock() + self.max_wait_seconds - waited)
        if reservation is None:
            region, _service, operation = self.key
            count("RateLimitRefused")
            raise ClientError(
                {
                    "Error": {
                        "Code": "ThrottlingException",
                        "Message": f"client-side rate limit: no {operation} slot in {region} within "
                        f"{self.max_wait_seconds:g} s",
                    }
                },
                operation,
            )
        context[_EPOCH] = reservation.epoch
        context[_WAITED] = waited + reservation.wait_seconds
        if reservation.wait_seconds > 0:
            self.sleep(reservation.wait_seconds)

    def after_attempt(self, response: Any = None, request_dict: Any = None, **_: Any) -> None:
        """Lower the rate on a throttling answer, raise it on any other; returns None so botocore's own
        retry handler decides about retrying."""
        if response is None:
            return  # no answer (a connection error): says nothing about the rate
        code = response[1].get("Error", {}).get("Code")
        if code not in THROTTLING_CODES:
            self.bucket.answered()
            return
        count("ThrottlesMet")
        if self.bucket.throttled(request_dict["context"].get(_EPOCH, -1)):
            region, service, operation = self.key
            logger.info(
                "request rate lowered after throttling",
                region=region,
                aws_service=service,
                operation=operation,
                rate=round(self.bucket.rate, 2),
            )


def poller_rate_limits(settings: PollerSettings, **kwargs: Any) -> RateLimits:
    """The poller's limits: each API it polls at the rate its settings give (see settings/poller.py)."""
    return RateLimits(
        {
            ("greengrass", "GetBulkDeploymentStatus"): settings.RATE_GET_BULK_DEPLOYMENT_STATUS,
            ("greengrassv2", "GetDeployment"): settings.RATE_GET_DEPLOYMENT,
            ("iot", "DescribeJob"): settings.RATE_DESCRIBE_JOB,
            ("iot", "ListJobExecutionsForJob"): settings.RATE_LIST_JOB_EXECUTIONS_FOR_JOB,
        },
        **kwargs,
    )
