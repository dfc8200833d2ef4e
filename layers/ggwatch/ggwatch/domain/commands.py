"""The tracker's commands: track or untrack one deployment, or nothing (an event that asks for nothing)."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ggwatch.domain.models import DeploymentKind
from ggwatch.domain.regions import AwsRegion

DeploymentId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]

MAX_ARN_LENGTH = 2048
"""The longest ARN any AWS API accepts."""

_ARN_FORMATS = {
    DeploymentKind.GREENGRASS_V1_BULK: r"arn:aws[a-z-]*:greengrass:[a-z0-9-]+:\d{{12}}:/greengrass/bulk/deployments/{id}",
    DeploymentKind.GREENGRASS_V2: r"arn:aws[a-z-]*:greengrass:[a-z0-9-]+:\d{{12}}:deployments:{id}",
}
"""Each kind's deployment ARN, ending in the deployment's own ID."""


def v2_deployment_arn(target_arn: str | None, deployment_id: str) -> str | None:
    """``arn:<partition>:greengrass:<region>:<account>:deployments:<id>``, from the target's ARN (a
    V2 deployment lives in its target's partition, account and region); None without a usable target."""
    parts = (target_arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return f"arn:{parts[1]}:greengrass:{parts[3]}:{parts[4]}:deployments:{deployment_id}"


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

    @model_validator(mode="after")
    def _arn_names_this_deployment(self) -> Self:
        arn_format = _ARN_FORMATS[self.kind].format(id=re.escape(self.deployment_id))
        if self.deployment_arn is not None and not re.fullmatch(arn_format, self.deployment_arn):
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
