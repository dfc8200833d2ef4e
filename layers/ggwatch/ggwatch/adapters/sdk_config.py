"""botocore settings shared by the adapters: bounded retries and timeouts that fit a Lambda run."""

from botocore.config import Config

ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 4
MAX_BACKOFF_SECONDS = sum(2**retry for retry in range(ATTEMPTS - 1))
"""Standard mode sleeps at most 2**n seconds (jittered) before retry n+1."""

WORST_CASE_CALL_SECONDS = ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + MAX_BACKOFF_SECONDS
"""The longest one API call can take when every attempt times out (21 s). The poller's safety margin
must exceed it, so that a deployment it starts always finishes before the Lambda timeout."""

API_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
)
"""Standard retry mode retries throttling, 5xx and transient connection errors with backoff, a
bounded number of times, so one slow answer cannot consume the poller's whole run."""
