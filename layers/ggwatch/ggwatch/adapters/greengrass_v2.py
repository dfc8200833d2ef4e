"""Greengrass V2 deployments as raw facts: the deployment, its IoT job's device counts, failed devices.

A V2 deployment's progress lives in three places: greengrassv2 GetDeployment (status, target,
revision), the IoT job behind it (DescribeJob counts; ListJobExecutionsForJob names the devices that
failed) and each core device's effective deployments (why it failed). This adapter reads them with a
bounded number of calls and returns one frozen snapshot; deciding what changed is the domain's job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import ClientError
from pydantic.alias_generators import to_camel

from ggwatch.adapters.aws_errors import error_code
from ggwatch.adapters.bounded_cache import BoundedCache
from ggwatch.adapters.call_gate import allowed
from ggwatch.adapters.sdk_config import API_CONFIG
from ggwatch.adapters.source_errors import source_errors
from ggwatch.domain import fleet_rules
from ggwatch.domain.arns import v2_deployment_arn
from ggwatch.domain.models import Metrics
from ggwatch.exceptions import SourceUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client
    from mypy_boto3_iot import IoTClient
    from mypy_boto3_iot.literals import JobExecutionStatusType

    from ggwatch.ports import Deadline

MAX_FAILED_DEVICES: Final = fleet_rules.MAX_NEW_FAILURES
"""How many failed devices a snapshot names, newest first (and so at most how many reason lookups):
as many as a notification names."""
FAILED_EXECUTION_STATUSES: Final[tuple[JobExecutionStatusType, ...]] = ("FAILED", "REJECTED", "TIMED_OUT")
EXECUTION_PAGE_SIZE: Final = 250
"""ListJobExecutionsForJob's largest page (its model's maxResults maximum)."""
MAX_EXECUTION_PAGES: Final = 4
"""Pages read per failed status: beyond 1,000 devices of one status the newest may be missed."""
EFFECTIVE_PAGE_SIZE: Final = 100
"""ListEffectiveDeployments' largest page; one page per device (a device has one deployment per
target it belongs to, far fewer than 100)."""
MAX_CALLS_PER_SNAPSHOT: Final = 2 + len(FAILED_EXECUTION_STATUSES) * MAX_EXECUTION_PAGES + MAX_FAILED_DEVICES
"""The most SDK calls one snapshot makes (each bounded by sdk_config's retries and timeouts)."""

_NOT_FOUND = "ResourceNotFoundException"
_COUNT_MEMBERS: Final = {
    "queued": "numberOfQueuedThings",
    "in_progress": "numberOfInProgressThings",
    "succeeded": "numberOfSucceededThings",
    "failed": "numberOfFailedThings",
    "rejected": "numberOfRejectedThings",
    "timed_out": "numberOfTimedOutThings",
    "canceled": "numberOfCanceledThings",
    "removed": "numberOfRemovedThings",
}
"""DeviceCounts' fields and the DescribeJob members they come from."""
_METRIC_NAMES: Final = {name: to_camel(name) for name in _COUNT_MEMBERS}
"""Each DeviceCounts field's name in notifications: camelCase (in_progress: inProgress)."""
_FAILED_COUNTS: Final[dict[JobExecutionStatusType, str]] = {
    "FAILED": "failed",
    "REJECTED": "rejected",
    "TIMED_OUT": "timed_out",
}
"""The DeviceCounts field that counts each failed execution status."""
REASON_NOT_READ: Final = "reason not read: the poll ran out of time"
"""A failed device's message in a partial answer, where the run had no time left to ask the device."""
REASON_CACHE_SIZE: Final = 20_000
"""Device reasons kept between polls (a few MB at most): a failed execution's reason is read once,
not on every poll of a deployment that stays ACTIVE with the same failures."""
FAILED_LIST_CACHE_SIZE: Final = 10_000
"""Deployments whose newest failed executions are kept between polls (MAX_FAILED_DEVICES each)."""

Execution = tuple[str, str, datetime | None]
"""A failed job execution: the thing's name, the execution status, when it last changed."""


@dataclass(frozen=True, slots=True)
class DeviceCounts:
    """How many core devices of the IoT job are in each execution status (DescribeJob)."""

    queued: int = 0
    in_progress: int = 0
    succeeded: int = 0
    failed: int = 0
    rejected: int = 0
    timed_out: int = 0
    canceled: int = 0
    removed: int = 0

    @property
    def failures(self) -> int:
        """Devices that did not apply the deployment: failed + rejected + timed out."""
        return fleet_rules.failures(self.metrics())

    def metrics(self) -> Metrics:
        return Metrics(self.as_metrics())

    def as_metrics(self) -> dict[str, int]:
        """The counts under the names notifications use (queued, inProgress, ..., timedOut, ...)."""
        return {metric: getattr(self, name) for name, metric in _METRIC_NAMES.items()}


@dataclass(frozen=True, slots=True)
class FailedDevice:
    """A core device whose job execution failed, was rejected or timed out, and why."""

    thing_name: str
    status: str
    """The job execution status: FAILED, REJECTED or TIMED_OUT."""
    code: str
    """The first of the device's errorTypes, or the execution status when it reported none."""
    message: str | None
    """The device's reason, None when it gave none (or its effective deployment was not found)."""
    updated_at: datetime | None
    """When the execution last changed (UTC): newer failures come first."""


@dataclass(frozen=True, slots=True)
class V2DeploymentSnapshot:
    """What Greengrass V2 and IoT say about one deployment at one moment."""

    deployment_id: str
    deployment_status: str
    deployment_name: str | None
    target_arn: str | None
    revision_id: str | None
    iot_job_id: str | None
    """None while Greengrass has not created the job yet."""
    created_at: datetime | None
    is_latest_for_target: bool | None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    job_status: str | None = None
    counts: DeviceCounts | None = None
    """None when there is no job yet, or IoT no longer knows it."""
    failed_devices: tuple[FailedDevice, ...] = ()
    """Newest first, at most MAX_FAILED_DEVICES."""

    @property
    def deployment_arn(self) -> str | None:
        """``arn:<partition>:greengrass:<region>:<account>:deployments:<id>``, from the target's ARN
        (a deployment lives in its target's account and region)."""
        return v2_deployment_arn(self.target_arn, self.deployment_id)


@dataclass(frozen=True, slots=True)
class V2DeploymentSummary:
    """One entry of ListDeployments: enough for discover to pick the deployments to track."""

    deployment_id: str
    deployment_status: str | None
    deployment_name: str | None
    target_arn: str | None
    revision_id: str | None
    created_at: datetime | None
    is_latest_for_target: bool | None


class GreengrassV2Deployments:
    """Reads Greengrass V2 deployments and their IoT jobs, and speaks ggwatch's errors."""

    def __init__(
        self,
        greengrass: GreengrassV2Client | None = None,
        iot: IoTClient | None = None,
        *,
        max_failed_devices: int = MAX_FAILED_DEVICES,
    ) -> None:
        self._greengrass = greengrass or boto3.client("greengrassv2", config=API_CONFIG)
        self._iot = iot or boto3.client("iot", config=API_CONFIG)
        self._max_failed_devices = max_failed_devices
        self._reasons: BoundedCache[tuple[str, str, str, datetime | None], tuple[str, str | None]] = (
            BoundedCache(REASON_CACHE_SIZE)
        )
        self._newest_failed: BoundedCache[str, tuple[tuple[int, ...], list[Execution]]] = BoundedCache(
            FAILED_LIST_CACHE_SIZE
        )

    @property
    def region(self) -> str | None:
        return self._greengrass.meta.region_name

    def snapshot(self, deployment_id: str, deadline: Deadline | None = None) -> V2DeploymentSnapshot:
        """The deployment now; raises DeploymentNotFoundError, SourceThrottledError or
        SourceUnavailableError. A missing or deleted IoT job is not an error: counts are None then.

        The failed executions' pages and the devices' reasons are read only while `deadline` allows:
        a rollout with many newly failed devices needs a call for each, and on a busy API each can wait
        for its rate limit's token. Reasons read before the deadline are kept, so the next run asks
        fewer; a partial answer names the devices not asked with REASON_NOT_READ."""
        with source_errors("Greengrass V2", "GetDeployment", not_found={_NOT_FOUND}):
            answer: Mapping[str, Any] = self._greengrass.get_deployment(deploymentId=deployment_id)
        status = answer.get("deploymentStatus")
        if not isinstance(status, str) or not status:
            raise SourceUnavailableError(f"GetDeployment for {deployment_id} returned no status")
        job_id = _text(answer.get("iotJobId"))
        job = self._job(job_id) if job_id else None
        counts = _counts(job) if job is not None else None
        failed = (
            self._failed_devices(deployment_id, job_id, counts, deadline)
            if job_id and counts is not None
            else ()
        )
        return V2DeploymentSnapshot(
            deployment_id=deployment_id,
            deployment_status=status,
            deployment_name=_text(answer.get("deploymentName")),
            target_arn=_text(answer.get("targetArn")),
            revision_id=_text(answer.get("revisionId")),
            iot_job_id=job_id,
            created_at=_utc(answer.get("creationTimestamp")),
            is_latest_for_target=answer.get("isLatestForTarget"),
            tags=MappingProxyType(dict(answer.get("tags") or {})),
            job_status=_text(job.get("status")) if job is not None else None,
            counts=counts,
            failed_devices=failed,
        )

    def list_deployments(self) -> Iterator[V2DeploymentSummary]:
        """The latest revision for every target (ListDeployments LATEST_ONLY), every page."""
        with source_errors("Greengrass V2", "ListDeployments"):
            pages = self._greengrass.get_paginator("list_deployments").paginate(historyFilter="LATEST_ONLY")
            for page in pages:
                for entry in page.get("deployments", []):
                    if entry.get("deploymentId"):
                        yield V2DeploymentSummary(
                            deployment_id=entry["deploymentId"],
                            deployment_status=_text(entry.get("deploymentStatus")),
                            deployment_name=_text(entry.get("deploymentName")),
                            target_arn=_text(entry.get("targetArn")),
                            revision_id=_text(entry.get("revisionId")),
                            created_at=_utc(entry.get("creationTimestamp")),
                            is_latest_for_target=entry.get("isLatestForTarget"),
                        )

    def _job(self, job_id: str) -> Mapping[str, Any] | None:
        """DescribeJob's job, None when IoT does not know it (deleted, or not visible yet)."""
        with source_errors("AWS IoT", "DescribeJob"):
            try:
                job: Mapping[str, Any] = self._iot.describe_job(jobId=job_id).get("job") or {}
            except ClientError as error:
                if error_code(error) == _NOT_FOUND:
                    return None
                raise
        return job

    def _failed_devices(
        self, deployment_id: str, job_id: str, counts: DeviceCounts, deadline: Deadline | None
    ) -> tuple[FailedDevice, ...]:
        """The newest failed executions, each with the reason its device gave."""
        if counts.failures == 0 or self._max_failed_devices < 1:
            return ()
        return tuple(
            self._with_reason(deployment_id, thing, status, updated_at, deadline)
            for thing, status, updated_at in self._newest_failures(deployment_id, job_id, counts, deadline)
        )

    def _newest_failures(
        self, deployment_id: str, job_id: str, counts: DeviceCounts, deadline: Deadline | None
    ) -> list[Execution]:
        """The newest failed executions, listed again only when a failed count changed since the last
        poll: a settled rollout with failed devices then costs its two calls, not one more per failed
        status. (A device that fails again after a retry, with the counts unchanged, keeps its first
        failure's reason until they change: its failure was notified, and is not again.)"""
        key = tuple(getattr(counts, _FAILED_COUNTS[status]) for status in FAILED_EXECUTION_STATUSES)
        known = self._newest_failed.get(deployment_id)
        if known is not None and known[0] == key:
            return known[1]
        executions: list[Execution] = []
        complete = True
        for status in FAILED_EXECUTION_STATUSES:
            if getattr(counts, _FAILED_COUNTS[status]) > 0:
                found, listed = self._executions(job_id, status, deadline)
                executions += found
                complete = complete and listed
        oldest = datetime.min.replace(tzinfo=UTC)
        executions.sort(key=lambda e: e[2] or oldest, reverse=True)
        newest = executions[: self._max_failed_devices]
        if complete:  # a partial answer's list is asked again
            self._newest_failed.put(deployment_id, (key, newest))
        return newest

    def _executions(
        self, job_id: str, status: JobExecutionStatusType, deadline: Deadline | None
    ) -> tuple[list[Execution], bool]:
        """The job's executions in `status`, at most MAX_EXECUTION_PAGES pages (each one call), and
        False when the deadline cut a partial answer short."""
        found: list[Execution] = []
        token: str | None = None
        for _ in range(MAX_EXECUTION_PAGES):
            if not allowed(deadline, "ListJobExecutionsForJob"):
                return found, False
            with source_errors("AWS IoT", "ListJobExecutionsForJob"):
                try:
                    page = self._iot.list_job_executions_for_job(
                        jobId=job_id,
                        status=status,
                        maxResults=EXECUTION_PAGE_SIZE,
                        **({"nextToken": token} if token else {}),
                    )
                except ClientError as error:
                    if error_code(error) != _NOT_FOUND:  # the job went away since DescribeJob
                        raise
                    return found, True
            for summary in page.get("executionSummaries", []):
                thing = summary.get("thingArn", "").rpartition("/")[2]
                details = summary.get("jobExecutionSummary", {})
                if thing:
                    found.append((thing, details.get("status", status), _utc(details.get("lastUpdatedAt"))))
            token = _text(page.get("nextToken"))
            if token is None:
                break
        return found, True

    def _with_reason(
        self,
        deployment_id: str,
        thing: str,
        status: str,
        updated_at: datetime | None,
        deadline: Deadline | None,
    ) -> FailedDevice:
        """The device's reason, read once per execution update: a device reports its reason with the
        status change that updates its job execution, so the same update has the same reason."""
        key = (deployment_id, thing, status, updated_at)
        reason = self._reasons.get(key) if updated_at is not None else None
        if reason is None and not allowed(deadline, "ListEffectiveDeployments"):
            reason = (status, REASON_NOT_READ)  # not kept: the next poll asks
        elif reason is None:
            entry = self._effective_deployment(deployment_id, thing)
            error_types = (entry.get("statusDetails") or {}).get("errorTypes") or []
            reason = (error_types[0] if error_types else status, _text(entry.get("reason")))
            if updated_at is not None and entry:
                self._reasons.put(key, reason)
        code, message = reason
        return FailedDevice(
            thing_name=thing, status=status, code=code, message=message, updated_at=updated_at
        )

    def _effective_deployment(self, deployment_id: str, thing: str) -> Mapping[str, Any]:
        """This deployment as the core device reports it; empty when the device or entry is gone."""
        with source_errors("Greengrass V2", "ListEffectiveDeployments"):
            try:
                answer = self._greengrass.list_effective_deployments(
                    coreDeviceThingName=thing, maxResults=EFFECTIVE_PAGE_SIZE
                )
            except ClientError as error:
                if error_code(error) == _NOT_FOUND:
                    return {}
                raise
        entries = answer.get("effectiveDeployments", [])
        return next((dict(e) for e in entries if e.get("deploymentId") == deployment_id), {})


def _counts(job: Mapping[str, Any]) -> DeviceCounts:
    details = job.get("jobProcessDetails") or {}
    return DeviceCounts(**{name: int(details.get(member) or 0) for name, member in _COUNT_MEMBERS.items()})


def _utc(value: Any) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def _text(value: Any) -> str | None:
    """A string member, None when absent, empty or garbled (botocore passes JSON types through)."""
    return value if isinstance(value, str) and value else None
