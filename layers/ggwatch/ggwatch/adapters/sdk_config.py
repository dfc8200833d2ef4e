"""botocore settings shared by the adapters: bounded retries and timeouts that fit a Lambda run.

Each budget's worst case is derived from its own attempts and timeouts, so the poller reserves exactly
what the clients it uses can take: the full budget while time is plentiful, the hurried one (one short
attempt) near the end of a run.
"""

from dataclasses import dataclass

from botocore.config import Config


@dataclass(frozen=True)
class CallBudget:
    """How many attempts one API call may make, and how long each may wait."""

    attempts: int
    connect_timeout_seconds: float
    read_timeout_seconds: float
    token_wait_seconds: float = 0
    """The longest one call may wait, its attempts together, for the client-side rate limit's tokens
    (adapters/rate_limit.py); past it the call fails as throttled."""

    @property
    def max_backoff_seconds(self) -> float:
        """Standard mode sleeps at most 2**n seconds (jittered) before retry n+1."""
        return float(sum(2**retry for retry in range(self.attempts - 1)))

    @property
    def worst_case_ms(self) -> int:
        """The longest one call can take: it waits the longest for its tokens, every attempt times out,
        with the longest backoff between."""
        per_attempt = self.connect_timeout_seconds + self.read_timeout_seconds
        seconds = self.token_wait_seconds + self.attempts * per_attempt + self.max_backoff_seconds
        return round(seconds * 1000)

    def config(self) -> Config:
        """Standard retry mode retries throttling, 5xx and transient connection errors with backoff, a
        bounded number of times, so one slow answer cannot consume the poller's whole run."""
        return Config(
            retries={"mode": "standard", "total_max_attempts": self.attempts},
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
        )


FULL = CallBudget(attempts=3, connect_timeout_seconds=2, read_timeout_seconds=4, token_wait_seconds=4)
"""Every call while a run has time: worst case 25 s. Four seconds of token wait hold a queue of 40
workers on one API at its default 10/s without a call giving up."""
HURRIED = CallBudget(attempts=1, connect_timeout_seconds=1, read_timeout_seconds=2, token_wait_seconds=2)
"""The poller's calls near the end of a run: worst case 5 s. A throttled or failed call is not retried
in the run; the deployment is polled again by the next run. Two seconds of token wait hold a queue of
20 workers on one API at 10/s, 40 at 20/s; a call later in the queue fails as throttled at once (its
wait is known when it asks) and is polled again by the next run."""

API_CONFIG = FULL.config()
HURRIED_CONFIG = HURRIED.config()
