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
from tests.integration.test_core_loop import emitted_metrics

pytestmark = [
    pytest.mark.usefixtures("app_environment"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]
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


def from_region(name: str, region: str) -> Any:
    """A sample CloudTrail event as `region` records it (forwarded to the home bus, which keeps it)."""
    text = (
        json.dumps(sample(name)).replace('"us-east-1"', f'"{region}"').replace(":us-east-1:", f":{region}:")
    )
    return json.loads(text)


@pytest.mark.parametrize(
    ("name", "kind", "answer"),
    [
        ("tracker_cloudtrail_start.json", DeploymentKind.GREENGRASS_V1_BULK, "bulkDeploymentId"),
        ("tracker_cloudtrail_create_v2.json", V2, "deploymentId"),
    ],
)
def test_a_deployment_started_in_a_polled_region_is_stored_with_that_region(
    deployments_table: str,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    app_environment: Any,
    name: str,
    kind: DeploymentKind,
    answer: str,
) -> None:
    # Given a stack in us-east-1 that also polls eu-west-1 and us-west-2
    monkeypatch.setenv("POLL_REGIONS", "eu-west-1,us-west-2")
    app_environment()
    event = from_region(name, "eu-west-1")
    deployment_id = event["detail"]["responseElements"][answer]

    # When the event of a deployment started in eu-west-1 arrives, and one of the home region
    assert invoke(event, lambda_context)["changed"] is True
    home_event = sample(name)
    home_event["detail"]["responseElements"][answer] = "home-1"
    home_event["detail"]["responseElements"].pop("bulkDeploymentArn", None)
    assert invoke(home_event, lambda_context)["changed"] is True

    # Then the first is stored with its region, the home one without (None: the stack's region)
    eu, home = stored(deployments_table, kind, deployment_id), stored(deployments_table, kind, "home-1")
    assert eu is not None and eu.region == "eu-west-1"
    assert home is not None and home.region is None


def test_a_deployment_in_a_region_not_polled_is_refused_and_counted_without_failing(
    deployments_table: str,
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a stack that polls its own region only (no POLL_REGIONS)
    event = from_region("tracker_cloudtrail_create_v2.json", "sa-east-1")
    capsys.readouterr()

    # When a deployment started in sa-east-1 is reported: the invocation succeeds (no retry, no DLQ)
    result = invoke(event, lambda_context)

    # Then nothing is stored, the answer says why, and a log line and the TrackRefused metric say so
    assert result["changed"] is False and "sa-east-1 is not polled" in result["refused"]
    assert every_item(deployments_table) == []
    assert [r.levelname for r in caplog.records if r.getMessage() == "tracking request refused"] == [
        "WARNING"
    ]
    assert [m["TrackRefused"] for m in emitted_metrics(capsys.readouterr().out)] == [[1.0]]


def test_a_malformed_poll_regions_setting_fails_at_cold_start_naming_it(
    monkeypatch: pytest.MonkeyPatch, app_environment: Any, lambda_context: LambdaContext
) -> None:
    from ggwatch.settings import ConfigurationError

    monkeypatch.setenv("POLL_REGIONS", "eu-west-1,Frankfurt")
    app_environment()
    with pytest.raises(ConfigurationError, match="POLL_REGIONS"):
        invoke({"bulkDeploymentId": "bd-1"}, lambda_context)
