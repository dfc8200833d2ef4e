"""How ggwatch names deployments: the ID rule and each kind's ARN.

Plain functions, constants and one annotated type, no models: the poller's adapters, the device-event
parser and the EventBridge publisher use them without importing the tracker's command models
(domain/commands.py) at their cold start.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from ggwatch.domain.models import DeploymentKind

DeploymentId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
"""A deployment ID as ggwatch accepts it from an event or a request."""

MAX_ARN_LENGTH = 2048
"""The longest ARN any AWS API accepts."""

_ARN_SHAPES = {
    DeploymentKind.GREENGRASS_V1_BULK: "arn:{partition}:greengrass:{region}:{account}:/greengrass/bulk/deployments/{id}",
    DeploymentKind.GREENGRASS_V2: "arn:{partition}:greengrass:{region}:{account}:deployments:{id}",
}
"""Each kind's deployment ARN, ending in the deployment's own ID: built by `deployment_arn`, and
matched by `deployment_arn_pattern`."""


def deployment_arn(
    kind: DeploymentKind, deployment_id: str, *, partition: str, region: str, account: str
) -> str:
    """The ARN of one deployment of `kind`, for when its source did not give one."""
    return _ARN_SHAPES[kind].format(partition=partition, region=region, account=account, id=deployment_id)


def deployment_arn_pattern(kind: DeploymentKind, deployment_id: str) -> str:
    """A regular expression matching the ARN of this deployment in any partition, region and account."""
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
