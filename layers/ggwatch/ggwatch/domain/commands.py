"""The tracker's commands: track or untrack one deployment, or nothing (an event that asks for nothing).

Only the tracker (and the CLI) build them; deployment IDs and ARNs are in domain/arns.py."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ggwatch.domain.arns import MAX_ARN_LENGTH, DeploymentId, deployment_arn_pattern
from ggwatch.domain.models import DeploymentKind
from ggwatch.domain.regions import AwsRegion


class TrackRequest(BaseModel):
    """Start or stop tracking one deployment: what the tracker does, however the request arrived.

    Built by ggwatch's own code (the CloudTrail reader, the direct-request reader, the CLI), never
    validated straight from an event: `source` and `deployment_arn` are facts ggwatch vouches for.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deployment_id: DeploymentId
    action: Literal["track", "untrack"] = "track"
    kind: DeploymentKind = DeploymentKind.GREENGRASS_V1_BULK
    deployment_arn: Annotated[str, Field(max_length=MAX_ARN_LENGTH)] | None = None
    source: Literal["cloudtrail", "manual", "discover"] = "manual"
    region: AwsRegion | None = None
    """Where the deployment lives; None: the stack's own region."""
    discovered_status: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """The status `ggwatch discover` saw (shown by `list` until the first poll)."""

    @model_validator(mode="after")
    def _arn_names_this_deployment(self) -> Self:
        pattern = deployment_arn_pattern(self.kind, self.deployment_id)
        if self.deployment_arn is not None and not re.fullmatch(pattern, self.deployment_arn):
            raise ValueError(
                f"deployment_arn is not the ARN of {self.kind.value} deployment {self.deployment_id}"
            )
        arn_region = self.deployment_arn.split(":")[3] if self.deployment_arn else None
        if self.region is not None and arn_region is not None and arn_region != self.region:
            raise ValueError(f"deployment_arn names region {arn_region}, not {self.region}")
        return self


class IgnoredEvent(BaseModel):
    """A well-formed event that asks for nothing (for example a StartBulkDeployment call that failed)."""

    model_config = ConfigDict(frozen=True)

    reason: str


class TrackResult(BaseModel):
    """What one track/untrack request changed: `changed` is False when it was already so, or when
    the request was refused (`refused` says why)."""

    model_config = ConfigDict(frozen=True)

    deployment_id: str
    action: Literal["track", "untrack"]
    changed: bool
    refused: str | None = None
