"""botocore settings shared by the adapters: bounded retries and timeouts that fit a Lambda run."""

from botocore.config import Config

API_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 4},
    connect_timeout=3,
    read_timeout=5,
)
"""Standard retry mode retries throttling, 5xx and transient connection errors with backoff, at most
4 attempts, so one slow answer cannot consume the poller's whole run."""
