"""The Greengrass V2 and IoT job operations as rest-json documents built from the fleet fake's state.

The only module that knows the response member names; what a request carries and which errors an
operation may answer come from botocore's service models (service_models.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ggwatch_local.greengrass.paging import offset_page

from .model import UNFINISHED_EXECUTIONS, ExecutionStatus, ExecutionView, FleetDeploymentView
from .service_models import ModelledOperation
from .state import FleetFake

JsonDict = dict[str, Any]
Handler = Callable[[FleetFake, ModelledOperation, Mapping[str, Any]], JsonDict]
DEFAULT_MAX_RESULTS = 50

_JOB_COUNTS: dict[ExecutionStatus, str] = {
    "QUEUED": "numberOfQueuedThings",
    "IN_PROGRESS": "numberOfInProgressThings",
    "SUCCEEDED": "numberOfSucceededThings",
    "FAILED": "numberOfFailedThings",
    "REJECTED": "numberOfRejectedThings",
    "TIMED_OUT": "numberOfTimedOutThings",
    "CANCELED": "numberOfCanceledThings",
    "REMOVED": "numberOfRemovedThings",
}


def get_deployment(fleet: FleetFake, op: ModelledOperation, params: Mapping[str, Any]) -> JsonDict:
    view = fleet.find(params["deploymentId"])
    if view is None:
        raise op.error("ResourceNotFoundException", f"Deployment {params['deploymentId']} not found.")
    doc = _summary(view) | {"components": {}, "tags": dict(view.tags)}
    if view.job_id is not None:
        doc |= {"iotJobId": view.job_id, "iotJobArn": _job_arn(fleet, view.job_id)}
    return doc


def list_deployments(fleet: FleetFake, op: ModelledOperation, params: Mapping[str, Any]) -> JsonDict:
    views = [
        v
        for v in fleet.deployments()
        if params.get("targetArn") in (None, v.target_arn)
        and (params.get("historyFilter", "LATEST_ONLY") == "ALL" or v.is_latest_for_target)
    ]
    page, token = _page(op, views, params)
    return _with_token({"deployments": [_summary(v) for v in page]}, token)


def list_effective_deployments(
    fleet: FleetFake, op: ModelledOperation, params: Mapping[str, Any]
) -> JsonDict:
    thing = params["coreDeviceThingName"]
    reached = fleet.device(thing)
    if not reached:
        raise op.error("ResourceNotFoundException", f"Core device {thing} not found.")
    page, token = _page(op, [(v, e) for v, e in reached if e.status != "REMOVED"], params)
    return _with_token({"effectiveDeployments": [_effective(fleet, v, e) for v, e in page]}, token)


def describe_job(fleet: FleetFake, op: ModelledOperation, params: Mapping[str, Any]) -> JsonDict:
    view = _job(fleet, op, params["jobId"])
    counts = {member: view.count(status) for status, member in _JOB_COUNTS.items()}
    unfinished = any(e.status in UNFINISHED_EXECUTIONS for e in view.executions)
    job: JsonDict = {
        "jobArn": _job_arn(fleet, params["jobId"]),
        "jobId": params["jobId"],
        "targetSelection": "CONTINUOUS" if ":thinggroup/" in view.target_arn else "SNAPSHOT",
        "status": view.step.job_status,
        "targets": [view.target_arn],
        "description": f"Greengrass deployment {view.deployment_id}",
        "createdAt": view.created_at,
        "lastUpdatedAt": view.job_updated_at,
        "jobProcessDetails": counts | ({"processingTargets": [view.target_arn]} if unfinished else {}),
        "isConcurrent": False,
    }
    if view.step.job_status in ("COMPLETED", "CANCELED"):
        job["completedAt"] = view.job_updated_at
    return {"job": job}


def list_job_executions_for_job(
    fleet: FleetFake, op: ModelledOperation, params: Mapping[str, Any]
) -> JsonDict:
    view = _job(fleet, op, params["jobId"])
    wanted = [e for e in view.executions if params.get("status") in (None, e.status)]
    page, token = _page(op, wanted, params)
    summaries = [
        {"thingArn": _thing_arn(fleet, e.thing_name), "jobExecutionSummary": _summary_of(e)} for e in page
    ]
    return _with_token({"executionSummaries": summaries}, token)


def describe_job_execution(fleet: FleetFake, op: ModelledOperation, params: Mapping[str, Any]) -> JsonDict:
    view, thing = _job(fleet, op, params["jobId"]), params["thingName"]
    execution = next((e for e in view.executions if e.thing_name == thing), None)
    if execution is None:
        raise op.error("ResourceNotFoundException", f"No job execution of {params['jobId']} on {thing}.")
    return {
        "execution": _summary_of(execution)
        | {
            "jobId": params["jobId"],
            "thingArn": _thing_arn(fleet, thing),
            "versionNumber": 1 + (execution.updated_at != execution.queued_at),
            "statusDetails": {"detailsMap": _details_map(execution)},
        }
    }


HANDLERS: dict[tuple[str, str], Handler] = {
    ("greengrassv2", "GetDeployment"): get_deployment,
    ("greengrassv2", "ListDeployments"): list_deployments,
    ("greengrassv2", "ListEffectiveDeployments"): list_effective_deployments,
    ("iot", "DescribeJob"): describe_job,
    ("iot", "ListJobExecutionsForJob"): list_job_executions_for_job,
    ("iot", "DescribeJobExecution"): describe_job_execution,
}


def _summary(view: FleetDeploymentView) -> JsonDict:
    """The members GetDeployment and ListDeployments share."""
    return {
        "targetArn": view.target_arn,
        "revisionId": view.revision_id,
        "deploymentId": view.deployment_id,
        "deploymentName": view.deployment_name,
        "creationTimestamp": view.created_at,
        "deploymentStatus": view.status,
        "isLatestForTarget": view.is_latest_for_target,
    }


def _effective(fleet: FleetFake, view: FleetDeploymentView, execution: ExecutionView) -> JsonDict:
    assert view.job_id is not None  # the fake only lists devices of deployments whose job exists
    doc: JsonDict = {
        "deploymentId": view.deployment_id,
        "deploymentName": view.deployment_name,
        "iotJobId": view.job_id,
        "iotJobArn": _job_arn(fleet, view.job_id),
        "targetArn": view.target_arn,
        "coreDeviceExecutionStatus": execution.status,
        "creationTimestamp": execution.queued_at,
        "modifiedTimestamp": execution.updated_at,
    }
    if execution.failure is not None:
        doc["reason"] = execution.failure.reason
        doc["statusDetails"] = {
            "errorStack": list(execution.failure.error_stack),
            "errorTypes": list(execution.failure.error_types),
        }
    return doc


def _summary_of(execution: ExecutionView) -> JsonDict:
    doc: JsonDict = {
        "status": execution.status,
        "queuedAt": execution.queued_at,
        "lastUpdatedAt": execution.updated_at,
        "executionNumber": execution.execution_number,
    }
    if execution.started_at is not None:
        doc["startedAt"] = execution.started_at
    return doc


def _details_map(execution: ExecutionView) -> dict[str, str]:
    """What the Greengrass nucleus reports in a job execution's statusDetails."""
    if execution.failure is None:
        return {"detailed-deployment-status": "SUCCESSFUL"} if execution.status == "SUCCEEDED" else {}
    return {
        "detailed-deployment-status": "FAILED_NO_STATE_CHANGE",
        "deployment-failure-cause": execution.failure.reason,
        "deployment-error-stack": str(list(execution.failure.error_stack)),
        "deployment-error-types": str(list(execution.failure.error_types)),
    }


def _job(fleet: FleetFake, op: ModelledOperation, job_id: str) -> FleetDeploymentView:
    view = fleet.by_job(job_id)
    if view is None:
        raise op.error("ResourceNotFoundException", f"Job {job_id} does not exist.")
    return view


def _page[T](
    op: ModelledOperation, items: Sequence[T], params: Mapping[str, Any]
) -> tuple[Sequence[T], str | None]:
    invalid = lambda: op.invalid("The nextToken is invalid or has expired.")  # noqa: E731
    return offset_page(items, params.get("nextToken"), params.get("maxResults", DEFAULT_MAX_RESULTS), invalid)


def _with_token(doc: JsonDict, token: str | None) -> JsonDict:
    return doc if token is None else doc | {"nextToken": token}


def _job_arn(fleet: FleetFake, job_id: str) -> str:
    return f"arn:aws:iot:{fleet.region}:{fleet.account}:job/{job_id}"


def _thing_arn(fleet: FleetFake, thing: str) -> str:
    return f"arn:aws:iot:{fleet.region}:{fleet.account}:thing/{thing}"
