"""The real tracker handler against moto: V2 deployments tracked from CloudTrail and direct invocations,
V1 group deployments ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind, TrackedDeployment
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from tests.conftest import REGION

pytestmark = pytest.mark.usefixtures("app_environment")
EVENTS = Path(__file__).resolve().parents[2] / "events"
V2 = DeploymentKind.GREENGRASS_V2


def invoke(event: Any, context: LambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = load_handler("tracker").lambda_handler(event, context)
    return result


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def stored(table: str, kind: DeploymentKind, deployment_id: str) -> TrackedDeployment | None:
    return DynamoDeploymentRepository(table, boto3.client("dynamodb", region_name=REGION)).get(
        kind, deployment_id
    )


def every_item(table: str) -> list[Any]:
    return list(DynamoDeploymentRepository(table, boto3.client("dynamodb", region_name=REGION)).all())


def test_a_v2_create_deployment_event_tracks_the_deployment_with_its_arn(
    deployments_table: str, lambda_context: LambdaContext
) -> None:
    event = sample("tracker_cloudtrail_create_v2.json")
    deployment_id = event["detail"]["responseElements"]["deploymentId"]

    assert invoke(event, lambda_context) == {
        "deploymentId": deployment_id,
        "action": "track",
        "changed": True,
    }

    deployment = stored(deployments_table, V2, deployment_id)
    assert deployment is not None and deployment.active
    assert (
        deployment.deployment_arn == f"arn:aws:greengrass:us-east-1:123456789012:deployments:{deployment_id}"
    )
    assert deployment.tracked_by == "cloudtrail"
    # A repeated (redelivered) event changes nothing
    assert invoke(event, lambda_context)["changed"] is False


def test_a_v1_group_create_deployment_event_is_ignored_and_stores_nothing(
    deployments_table: str, lambda_context: LambdaContext
) -> None:
    result = invoke(sample("tracker_cloudtrail_create_v1_group.json"), lambda_context)

    assert result["ignored"] is True and "V1 group" in result["reason"]
    assert every_item(deployments_table) == []


def test_a_direct_v2_request_tracks_and_untracks_the_v2_deployment_only(
    deployments_table: str, lambda_context: LambdaContext
) -> None:
    invoke({"bulkDeploymentId": "d-1"}, lambda_context)
    invoke({"deploymentId": "d-1", "kind": "greengrass-v2"}, lambda_context)

    result = invoke({"deploymentId": "d-1", "kind": "greengrass-v2", "action": "untrack"}, lambda_context)

    assert result == {"deploymentId": "d-1", "action": "untrack", "changed": True}
    v2, v1 = (
        stored(deployments_table, V2, "d-1"),
        stored(deployments_table, DeploymentKind.GREENGRASS_V1_BULK, "d-1"),
    )
    assert v2 is not None and not v2.active
    assert v1 is not None and v1.active
