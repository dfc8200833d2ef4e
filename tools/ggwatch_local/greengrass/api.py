"""The five bulk-deployment operations as Greengrass's rest-json documents.

This is the only module that knows the wire member names (from botocore's greengrass/2017-06-07
service model); it maps fake state to JSON-ready dicts and request validation to GreengrassError.
HTTP plumbing lives in server.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from .model import DeploymentView, GreengrassError, Operation
from .paging import decode_token, encode_token, offset_page
from .state import ACCOUNT_ID, DEPLOYMENT_ID_PATTERN, BulkDeploymentFake

JsonDict = dict[str, Any]
DEFAULT_MAX_RESULTS = 50
_REPORT_NAMESPACE = uuid.UUID("5f0c7c1e-7a51-4d0e-9a53-6b7f7b0e2a10")


def handle(
    fake: BulkDeploymentFake,
    operation: Operation,
    deployment_id: str | None,
    query: Mapping[str, str],
    body: bytes,
    client_token: str | None,
) -> JsonDict:
    """Run ``operation`` against ``fake`` and return the response document (raises GreengrassError)."""
    if deployment_id is not None and not DEPLOYMENT_ID_PATTERN.match(deployment_id):
        raise GreengrassError(f"Invalid bulk deployment id: {deployment_id!r}.")
    match operation:
        case "StartBulkDeployment":
            return _start(fake, body, client_token)
        case "GetBulkDeploymentStatus":
            return status_document(fake.get(_require(deployment_id)))
        case "ListBulkDeployments":
            return _list(fake, query)
        case "ListBulkDeploymentDetailedReports":
            return _reports(fake.get(_require(deployment_id)), query)
        case "StopBulkDeployment":
            fake.stop(_require(deployment_id))
            return {}


def status_document(view: DeploymentView) -> JsonDict:
    """GetBulkDeploymentStatusResponse for one deployment."""
    step = view.step
    doc: JsonDict = {
        "BulkDeploymentMetrics": step.metrics_wire(),
        "BulkDeploymentStatus": step.status,
        "CreatedAt": view.created_at,
    }
    if step.error_message is not None:
        doc["ErrorMessage"] = step.error_message
    if step.error_details:
        doc["ErrorDetails"] = [detail.to_wire() for detail in step.error_details]
    if view.tags:
        doc["tags"] = dict(view.tags)
    return doc


def _start(fake: BulkDeploymentFake, body: bytes, client_token: str | None) -> JsonDict:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        raise GreengrassError("Could not parse request body into json.") from None
    if not isinstance(request, dict):
        raise GreengrassError("Request body must be a JSON object.")
    role, uri, tags = request.get("ExecutionRoleArn"), request.get("InputFileUri"), request.get("tags") or {}
    if not isinstance(role, str) or not role.startswith("arn:"):
        raise GreengrassError("ExecutionRoleArn is required and must be a valid IAM role ARN.")
    if not isinstance(uri, str) or not uri:
        raise GreengrassError("InputFileUri is required.")
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise GreengrassError("tags must be a map of strings to strings.")
    new_id = fake.start(role, uri, tags, client_token)
    return {"BulkDeploymentArn": fake.get(new_id).arn, "BulkDeploymentId": new_id}


def _list(fake: BulkDeploymentFake, query: Mapping[str, str]) -> JsonDict:
    views = fake.deployments()
    start = 0
    if "NextToken" in query:
        after = _decode_token(query["NextToken"])
        positions = [i for i, v in enumerate(views) if v.deployment_id == after]
        if not positions:
            raise _invalid_token()
        start = positions[0] + 1
    page = views[start : start + _max_results(query)]
    doc: JsonDict = {
        "BulkDeployments": [
            {"BulkDeploymentArn": v.arn, "BulkDeploymentId": v.deployment_id, "CreatedAt": v.created_at}
            for v in page
        ]
    }
    if start + len(page) < len(views):
        doc["NextToken"] = encode_token(page[-1].deployment_id)
    return doc


def _reports(view: DeploymentView, query: Mapping[str, str]) -> JsonDict:
    page, next_token = offset_page(
        detailed_reports(view), query.get("NextToken"), _max_results(query), _invalid_token
    )
    doc: JsonDict = {"Deployments": list(page)}
    if next_token is not None:
        doc["NextToken"] = next_token
    return doc


def detailed_reports(view: DeploymentView) -> list[JsonDict]:
    """One BulkDeploymentResult per processed record (group), derived deterministically from state.

    Under a Failed deployment the last ``len(ErrorDetails)`` groups failed, one detail each; while
    the deployment is still moving the most recent group is InProgress.
    """
    step, count = view.step, view.step.records_processed
    failed_from = count - len(step.error_details) if step.status == "Failed" else count
    reports: list[JsonDict] = []
    for i in range(count):
        group_id = uuid.uuid5(_REPORT_NAMESPACE, f"{view.deployment_id}/group/{i}")
        deployment_id = uuid.uuid5(_REPORT_NAMESPACE, f"{view.deployment_id}/deployment/{i}")
        group_arn = f"arn:aws:greengrass:{_region(view)}:{ACCOUNT_ID}:/greengrass/groups/{group_id}"
        report: JsonDict = {
            "CreatedAt": view.created_at,
            "DeploymentArn": f"{group_arn}/deployments/{deployment_id}",
            "DeploymentId": str(deployment_id),
            "DeploymentStatus": "Success",
            "DeploymentType": "NewDeployment",
            "GroupArn": group_arn,
        }
        if i >= failed_from:
            detail = step.error_details[i - failed_from]
            report |= {
                "DeploymentStatus": "Failure",
                "ErrorMessage": detail.message,
                "ErrorDetails": [detail.to_wire()],
            }
        elif i == count - 1 and not step.is_terminal:
            report["DeploymentStatus"] = "InProgress"
        reports.append(report)
    return reports


def _region(view: DeploymentView) -> str:
    return view.arn.split(":")[3]


def _require(deployment_id: str | None) -> str:
    if deployment_id is None:
        raise GreengrassError("BulkDeploymentId is required.")
    return deployment_id


def _max_results(query: Mapping[str, str]) -> int:
    raw = query.get("MaxResults")
    if raw is None:
        return DEFAULT_MAX_RESULTS
    if not raw.isdigit() or int(raw) < 1:
        raise GreengrassError(f"MaxResults must be a positive integer, got {raw!r}.")
    return int(raw)


def _decode_token(token: str) -> str:
    value = decode_token(token)
    if value is None:
        raise _invalid_token()
    return value


def _invalid_token() -> GreengrassError:
    return GreengrassError("The NextToken is invalid or has expired.")
