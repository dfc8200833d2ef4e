"""The client-side rate limit: a bounded rate per (region, service, operation) for every attempt, that
a throttle lowers and answers raise again, and a wait that stays inside each call's worst case.

Every test runs on a controlled clock: time moves only when the test (or the fake sleep) moves it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config

from ggwatch.adapters.rate_limit import RateLimits, TokenBucket, poller_rate_limits
from ggwatch.adapters.sdk_config import FULL, HURRIED, CallBudget
from ggwatch.adapters.source_errors import source_errors
from ggwatch.exceptions import SourceThrottledError
from ggwatch.settings import ConfigurationError
from ggwatch.settings.poller import PollerSettings

TOPIC = "arn:aws:sns:us-east-1:123456789012:ggwatch-notifications"
RATE = 20.0
WORKERS = 32


class Seconds:
    """A monotonic clock that stands still; `sleep` moves it (one thread), or a test does."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def most_in_any_window(starts: list[float], window: float) -> int:
    ordered = sorted(starts)
    return max(sum(1 for t in ordered[i:] if t <= first + window + 1e-9) for i, first in enumerate(ordered))


def test_32_workers_asking_at_once_never_start_more_than_rate_times_window_plus_burst() -> None:
    # Given one bucket of 20/s, burst 1, and 32 threads that each ask for a token in every round
    clock = Seconds()
    bucket = TokenBucket(RATE, clock=clock)
    starts: list[float] = []
    lock = threading.Lock()
    rounds, round_seconds = 6, 0.5

    def worker(gate: threading.Barrier, done: threading.Barrier) -> None:
        for _ in range(rounds):
            gate.wait()
            reservation = bucket.reserve(deadline=float("inf"))
            assert reservation is not None
            with lock:
                starts.append(clock() + reservation.wait_seconds)
            done.wait()

    gate, done = threading.Barrier(WORKERS + 1), threading.Barrier(WORKERS + 1)
    threads = [threading.Thread(target=worker, args=(gate, done)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    # When the rounds run, the clock moving half a second between them (faster than 20/s can serve)
    for _ in range(rounds):
        gate.wait()
        done.wait()
        clock.now += round_seconds
    for thread in threads:
        thread.join()

    # Then every attempt got a start, and no window holds more than R·t + burst of them
    assert len(starts) == rounds * WORKERS
    for window in (0.05, 0.25, 1.0, 3.0):
        assert most_in_any_window(starts, window) <= RATE * window + 1
    # and the queue drains at the full rate: the last start is as early as 20/s allows
    assert max(starts) == pytest.approx(1_000.0 + (rounds * WORKERS - 1) / RATE)


def test_a_token_later_than_the_deadline_is_refused_and_not_taken() -> None:
    # Given a 2/s bucket whose one token is taken
    clock = Seconds()
    bucket = TokenBucket(2.0, clock=clock)
    first = bucket.reserve(deadline=clock.now)
    assert first is not None and first.wait_seconds == 0

    # When a call that may wait 0.2 s asks, the next token being 0.5 s away
    refused = bucket.reserve(deadline=clock.now + 0.2)

    # Then it is refused, and the token it did not take is still the next caller's, 0.5 s away
    assert refused is None
    later = bucket.reserve(deadline=clock.now + 1)
    assert later is not None and later.wait_seconds == pytest.approx(0.5)


def test_a_throttle_lowers_the_rate_once_for_the_attempts_sent_at_that_rate() -> None:
    # Given a 20/s bucket and two attempts reserved at its full rate
    clock = Seconds()
    bucket = TokenBucket(RATE, clock=clock)
    one, two = bucket.reserve(float("inf")), bucket.reserve(float("inf"))
    assert one is not None and two is not None

    # When both are throttled (two in-flight attempts meeting the same limit)
    assert bucket.throttled(one.epoch)
    assert not bucket.throttled(two.epoch)

    # Then the rate fell once, by CUBIC's factor, and tokens now come at the lower rate
    assert bucket.rate == pytest.approx(0.7 * RATE)
    clock.now += 10
    bucket.reserve(float("inf"))
    spaced = bucket.reserve(float("inf"))
    assert spaced is not None and spaced.wait_seconds == pytest.approx(1 / (0.7 * RATE))
    # and an attempt sent at the lower rate that is throttled too lowers it again
    assert bucket.throttled(spaced.epoch)
    assert bucket.rate == pytest.approx(0.49 * RATE)


def test_answers_after_a_throttle_raise_the_rate_gradually_back_to_the_configured_rate_only() -> None:
    # Given a 20/s bucket throttled once
    clock = Seconds()
    bucket = TokenBucket(RATE, clock=clock)
    reservation = bucket.reserve(float("inf"))
    assert reservation is not None
    bucket.throttled(reservation.epoch)

    # When answers keep coming as time passes, the rate climbs without jumping
    seen = []
    for _ in range(70):
        clock.now += 0.1
        bucket.answered()
        seen.append(bucket.rate)

    # Then it rose step by step from 14/s to the configured 20/s, and never above it
    assert seen == sorted(seen)
    assert 0.7 * RATE < seen[0] < 0.75 * RATE
    assert seen[-1] == RATE
    clock.now += 60
    bucket.answered()
    assert bucket.rate == RATE


def test_the_rate_never_falls_below_its_floor() -> None:
    clock = Seconds()
    bucket = TokenBucket(RATE, clock=clock)
    for _ in range(30):
        reservation = bucket.reserve(float("inf"))
        assert reservation is not None
        bucket.throttled(reservation.epoch)
    assert bucket.rate == 0.5


def test_a_call_budget_worst_case_includes_its_token_wait() -> None:
    without = CallBudget(attempts=3, connect_timeout_seconds=2, read_timeout_seconds=4)
    assert CallBudget(3, 2, 4, token_wait_seconds=4).worst_case_ms == without.worst_case_ms + 4_000
    assert FULL.worst_case_ms == round((FULL.token_wait_seconds + 3 * 6 + 1 + 2) * 1000)
    assert HURRIED.worst_case_ms == round((HURRIED.token_wait_seconds + 1 + 2) * 1000)
    assert FULL.token_wait_seconds > 0 and HURRIED.token_wait_seconds > 0


def test_buckets_are_per_region_and_operation_and_unrated_operations_are_not_limited() -> None:
    limits = RateLimits({("greengrassv2", "GetDeployment"): 5.0}, clock=Seconds())
    east = limits.bucket("us-east-1", "greengrassv2", "GetDeployment")
    assert east is limits.bucket("us-east-1", "greengrassv2", "GetDeployment")
    assert east is not limits.bucket("eu-west-1", "greengrassv2", "GetDeployment")
    assert limits.bucket("us-east-1", "greengrassv2", "ListDeployments") is None


# --- attached to a boto3 client, over a fake transport ---


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Transport:
    """Answers each attempt the client sends with the next of `answers` (status, error code or None)."""

    def __init__(self, *answers: tuple[int, str | None]) -> None:
        self.answers = list(answers)
        self.sent: list[float] = []

    def __call__(self, request: Any, clock: Seconds) -> AWSResponse:
        self.sent.append(clock.now)
        status, code = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if code is None:
            body = {"deploymentId": "d-1", "deploymentStatus": "ACTIVE"}
            headers = {}
        else:
            body = {"message": "Rate exceeded"}
            headers = {"x-amzn-ErrorType": code}
        return AWSResponse(
            request.url, status, HTTPHeaders.from_dict(headers), _Body(json.dumps(body).encode())
        )


def limited_client(
    transport: Transport, clock: Seconds, *, rate: float, max_wait: float, attempts: int = 3
) -> Any:
    client = boto3.client(
        "greengrassv2",
        region_name="eu-west-1",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )
    send: Any = lambda request, **_: transport(request, clock)  # noqa: E731 (a before-send answer)
    client.meta.events.register("before-send", send)
    limits = RateLimits({("greengrassv2", "GetDeployment"): rate}, clock=clock, sleep=clock.sleep)
    return limits.attach(client, max_wait_seconds=max_wait), limits


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


def test_every_attempt_retries_included_waits_for_its_own_token(no_backoff: None) -> None:
    # Given a 2/s limit and a service that throttles the first attempt
    clock = Seconds()
    transport = Transport((400, "ThrottlingException"), (200, None))
    client, limits = limited_client(transport, clock, rate=2.0, max_wait=5)

    # When one call is made
    assert client.get_deployment(deploymentId="d-1")["deploymentStatus"] == "ACTIVE"

    # Then its retry waited for a token of the lowered rate (1.4/s) before it was sent
    assert transport.sent == [pytest.approx(1_000.0), pytest.approx(1_000.0 + 1 / 1.4)]
    # and its answer started the rate back up towards the configured 2/s
    bucket = limits.bucket("eu-west-1", "greengrassv2", "GetDeployment")
    assert bucket is not None and 1.4 < bucket.rate < 2.0


def test_a_call_whose_token_comes_after_its_wait_fails_as_throttled_without_being_sent() -> None:
    # Given a 1/s limit, a call that may wait 0.5 s for its tokens, and the token just taken
    clock = Seconds()
    transport = Transport((200, None))
    client, _ = limited_client(transport, clock, rate=1.0, max_wait=0.5)
    client.get_deployment(deploymentId="d-1")

    # When the next call asks at once
    refused = pytest.raises(SourceThrottledError, match="client-side rate limit")
    with refused, source_errors("Greengrass V2", "GetDeployment"):
        client.get_deployment(deploymentId="d-2")

    # Then it failed as the throttle the poller retries next run, without waiting and without a request
    assert clock.slept == [] and len(transport.sent) == 1


def test_the_waits_of_one_call_together_stay_within_its_budget(no_backoff: None) -> None:
    # Given a 1/s limit, a service failing every attempt with a retryable 500, and a call that may
    # wait 1.5 s in all for its tokens
    clock = Seconds()
    transport = Transport((500, "InternalServerException"))
    client, _ = limited_client(transport, clock, rate=1.0, max_wait=1.5, attempts=5)

    # When the call is made
    refused = pytest.raises(SourceThrottledError, match="client-side rate limit")
    with refused, source_errors("Greengrass V2", "GetDeployment"):
        client.get_deployment(deploymentId="d-1")

    # Then it waited one second for its second attempt, and gave up before a third second's wait,
    # though each retry's wait alone would have fitted
    assert clock.slept == [pytest.approx(1.0)]
    assert len(transport.sent) == 2


def test_the_poller_settings_set_each_rate_and_a_bad_one_is_named() -> None:
    environ = {"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "RATE_DESCRIBE_JOB": "2.5"}
    limits = poller_rate_limits(PollerSettings.from_env(environ), clock=Seconds())
    for service, operation, rate in [
        ("greengrass", "GetBulkDeploymentStatus", 10),
        ("greengrassv2", "GetDeployment", 10),
        ("iot", "DescribeJob", 2.5),
        ("iot", "ListJobExecutionsForJob", 10),
    ]:
        bucket = limits.bucket("us-east-1", service, operation)
        assert bucket is not None and bucket.ceiling == rate
    with pytest.raises(ConfigurationError, match="RATE_GET_DEPLOYMENT"):
        PollerSettings.from_env(environ | {"RATE_GET_DEPLOYMENT": "0"})
    with pytest.raises(ConfigurationError, match="RATE_LIST_JOB_EXECUTIONS_FOR_JOB"):
        PollerSettings.from_env(environ | {"RATE_LIST_JOB_EXECUTIONS_FOR_JOB": "fast"})
