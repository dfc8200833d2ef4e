"""The poller's settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, model_validator

from ggwatch.domain.regions import RegionList
from ggwatch.settings import HandlerSettings, NonEmpty

_MAX_STUCK_MINUTES = 30 * 24 * 60
"""A month: beyond it a threshold no longer says anything about a rollout."""


class PollerSettings(HandlerSettings):
    TABLE_NAME: NonEmpty
    TOPIC_ARN: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")]
    RETENTION_DAYS: Annotated[int, Field(ge=1, le=3650)] = 30
    """Days a finished deployment's item is kept before DynamoDB's TTL deletes it."""
    END_OF_RUN_RESERVE_MS: Annotated[int, Field(ge=0, le=60_000)] = 1_000
    """Time a run keeps free after its last possible call (the cursor write), for the handler's own
    closing work. The time each call may take is derived from the SDK settings, not configured."""
    CLAIM_LEASE_SECONDS: Annotated[int, Field(ge=1)] = 120
    """How long a claimed-but-unconfirmed transition belongs to the run that claimed it."""
    DEVICE_EVENT_DEBOUNCE_SECONDS: Annotated[int, Field(ge=1, le=300)] = 10
    """Greengrass V2 device events for one deployment within this many seconds lead to one check."""
    SETTLED_POLL_MINUTES: Annotated[int, Field(ge=0, le=1440)] = 0
    """A settled continuous Greengrass V2 deployment is polled this often rather than every run (a
    device event checks it at once); 0 polls it every run."""
    EVENT_BUS_NAME: Annotated[str, Field(pattern=r"^[A-Za-z0-9._/-]{1,256}$")] | None = None
    """The EventBridge bus (in the stack's account and region) every notification is also put on,
    beside the topic ("default" for the account's default bus); unset: the topic only."""
    # Client-side request rates, per second and per region, of each API the poller polls (see
    # adapters/rate_limit.py). The quotas are per account and region, listed in the AWS General
    # Reference: https://docs.aws.amazon.com/general/latest/gr/greengrass.html (V1),
    # https://docs.aws.amazon.com/general/latest/gr/greengrassv2.html (V2) and
    # https://docs.aws.amazon.com/general/latest/gr/iot_device_management.html#iot_device_management_quotas
    # (jobs), and each account's own values in Service Quotas. 10/s is a cautious default, not a figure
    # read from those pages: set each to the account's quota. A rate set too high is lowered at run time
    # by the throttles it meets (at a cost: docs/decisions.md); one set too low only slows a cycle.
    RATE_GET_BULK_DEPLOYMENT_STATUS: Annotated[float, Field(gt=0, le=1000)] = 10
    RATE_GET_DEPLOYMENT: Annotated[float, Field(gt=0, le=1000)] = 10
    RATE_DESCRIBE_JOB: Annotated[float, Field(gt=0, le=1000)] = 10
    RATE_LIST_JOB_EXECUTIONS_FOR_JOB: Annotated[float, Field(gt=0, le=1000)] = 10
    POLL_REGIONS: RegionList = ()
    """The regions polled besides the stack's own (the PollRegions parameter, comma-separated)."""
    STUCK_V1_STATUS_MINUTES: Annotated[int, Field(ge=0, le=_MAX_STUCK_MINUTES)] = 720
    """A Greengrass V1 bulk deployment still Initializing, Running or Stopping after this long is
    notified as stuck (DeploymentStuck), even while it processes records; 0: never."""
    STUCK_V1_PROGRESS_MINUTES: Annotated[int, Field(ge=0, le=_MAX_STUCK_MINUTES)] = 30
    """... or when its records processed have not moved for this long; 0: never."""
    STUCK_V2_STATUS_MINUTES: Annotated[int, Field(ge=0, le=_MAX_STUCK_MINUTES)] = 1440
    """A Greengrass V2 deployment whose rollout has not settled (devices still queued or in
    progress) this long after it began is notified as stuck; 0: never."""
    STUCK_V2_PROGRESS_MINUTES: Annotated[int, Field(ge=0, le=_MAX_STUCK_MINUTES)] = 120
    """... or when no device has finished for this long while some are queued or in progress; 0: never."""
    PROGRESS_STEP_PERCENT: Annotated[int, Field(ge=0, le=99)] = 0
    """N: a DeploymentProgress notification each time a Greengrass V2 rollout's finished devices
    cross a multiple of N percent (at most one a poll); 0, the default: none."""
    POLL_CONCURRENCY: Annotated[int, Field(ge=1, le=128)] = 32
    """Deployments polled at once in each region (regions are polled in parallel). 32, measured by
    `make bench` (1,000 deployments, 50 ms answers): 1.4 x the latency bound, where 64 gains under
    10 % against the CPU floor; and within what the default rates serve in one token wait (40)."""

    @model_validator(mode="before")
    @classmethod
    def _no_retired_settings(cls, environ: Any) -> Any:
        """A fixed SAFETY_MARGIN_MS is now derived from the SDK settings; a stale one must not pass
        unnoticed as if it still applied."""
        if isinstance(environ, Mapping) and "SAFETY_MARGIN_MS" in environ:
            raise ValueError("SAFETY_MARGIN_MS is retired: the margin is derived; see END_OF_RUN_RESERVE_MS")
        return environ
