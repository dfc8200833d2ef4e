"""The IAM actions each command calls, for the operator's policy (shown in --help and the README).

tests/integration/test_cli_permissions.py records the SDK calls every command really makes and fails
when one is missing here, the way the template's grants are checked against the handlers.
"""

from __future__ import annotations

STACK_OUTPUTS = "cloudformation:DescribeStacks"
BUS_ACTION = "events:PutEvents"
"""Needed by `poll` only when a bus is known (EVENT_BUS_NAME, or the stack's EventBusName output)."""
"""Also needed by every command that reads the table or topic from a stack (--stack, GGWATCH_STACK_NAME)."""

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "track": ("dynamodb:UpdateItem", "dynamodb:GetItem"),
    "untrack": ("dynamodb:UpdateItem",),
    "list": ("dynamodb:Scan",),
    "status": (
        "dynamodb:GetItem",
        "greengrass:GetBulkDeploymentStatus",
        "greengrass:GetDeployment",
        "iot:DescribeJob",
        "iot:ListJobExecutionsForJob",
        "greengrass:ListEffectiveDeployments",
    ),
    "poll": (
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "greengrass:GetBulkDeploymentStatus",
        "greengrass:ListBulkDeploymentDetailedReports",
        "greengrass:GetDeployment",
        "iot:DescribeJob",
        "iot:ListJobExecutionsForJob",
        "greengrass:ListEffectiveDeployments",
        "sns:Publish",
        BUS_ACTION,
    ),
    "discover": (
        "greengrass:ListBulkDeployments",
        "greengrass:GetBulkDeploymentStatus",
        "greengrass:ListDeployments",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    ),
    "test-notify": ("sns:Publish",),
}

REGIONAL_SERVICES = ("greengrass", "iot")
"""Services called in the deployments' region (`--region` of status and discover; else the region
ggwatch stored, else the stack's): grant their actions in each region the stack polls (resource
ARNs of those regions, or an `aws:RequestedRegion` condition listing them, as the poller's role does).
DynamoDB and CloudFormation are always called in the stack's region."""

REGIONAL_NOTE = "greengrass and iot actions in each region whose deployments it reads"
