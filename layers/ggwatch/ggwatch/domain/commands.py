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

_ARN_SHAPES = {
    DeploymentKind.GREENGRASS_V1_BULK: "arn:{partition}:greengrass:{region}:{account}:/greengrass/bulk/deployments/{id}",
    DeploymentKind.GREENGRASS_V2: "arn:{partition}:greengrass:{region}:{account}:deployments:{id}",
}
"""Each kind's deployment ARN, ending in the deployment's own ID: built by `deployment_arn`, and
matched (as a pattern) by TrackRequest."""


def deployment_arn(
    kind: DeploymentKind, deployment_id: str, *, partition: str, region: str, account: str
) -> str:
    """The ARN of one deployment of `kind`, for when its source did not give one."""
    return _ARN_SHAPES[kind].format(partition=partition, region=region, account=account, id=deployment_id)


def _arn_pattern(kind: DeploymentKind, deployment_id: str) -> str:
    return _ARN_SHAPES[kind].format(
        partition=r"aws[a-z-]*", region=r"[a-z0-9-]+", account=r"\d{12}", id=re.escape(deployment_id)
    )


def v2_deployment_arn(target_arn: str | None, deployment_id: str) -> str | None:
    """``arn:<partition>:greengrass:<region>:<account>:deployments:<id>``, from the target's ARN (a
    V2 deployment lives in its target's partition, account and region); None without a usable target."""
    parts = (target_arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return deployment_arn(
        DeploymentKind.GREENGRASS_V2, deployment_id, partition=parts[1], region=parts[3], account=parts[4]
    )


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
        pattern = _arn_pattern(self.kind, self.deployment_id)
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
