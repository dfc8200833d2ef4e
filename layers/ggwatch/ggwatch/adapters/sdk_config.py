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

    @property
    def max_backoff_seconds(self) -> float:
        """Standard mode sleeps at most 2**n seconds (jittered) before retry n+1."""
        return float(sum(2**retry for retry in range(self.attempts - 1)))

    @property
    def worst_case_ms(self) -> int:
        """The longest one call can take: every attempt times out, with the longest backoff between."""
        per_attempt = self.connect_timeout_seconds + self.read_timeout_seconds
        return round((self.attempts * per_attempt + self.max_backoff_seconds) * 1000)

    def config(self) -> Config:
        """Standard retry mode retries throttling, 5xx and transient connection errors with backoff, a
        bounded number of times, so one slow answer cannot consume the poller's whole run."""
        return Config(
            retries={"mode": "standard", "total_max_attempts": self.attempts},
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
        )


FULL = CallBudget(attempts=3, connect_timeout_seconds=2, read_timeout_seconds=4)
"""Every call while a run has time: worst case 21 s."""
HURRIED = CallBudget(attempts=1, connect_timeout_seconds=1, read_timeout_seconds=2)
"""The poller's calls near the end of a run: worst case 3 s. A throttled or failed call is not retried
in the run; the deployment is polled again by the next run."""

API_CONFIG = FULL.config()
HURRIED_CONFIG = HURRIED.config()
