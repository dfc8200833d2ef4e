"""Value types of the Greengrass V2 fleet fake: targets, device executions, steps of a life, views.

Frozen for the same reason as the V1 fake's: a life handed to the fake cannot change behind its back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

DeploymentStatus = Literal["ACTIVE", "COMPLETED", "CANCELED", "FAILED", "INACTIVE"]
JobStatus = Literal["IN_PROGRESS", "CANCELED", "COMPLETED", "DELETION_IN_PROGRESS", "SCHEDULED"]
ExecutionStatus = Literal[
    "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"
]
Operation = Literal[
    "GetDeployment",
    "ListDeployments",
    "ListEffectiveDeployments",
    "DescribeJob",
    "ListJobExecutionsForJob",
    "DescribeJobExecution",
]
TargetKind = Literal["thing", "thinggroup"]

TERMINAL_DEPLOYMENT_STATUSES: frozenset[str] = frozenset({"COMPLETED", "CANCELED", "FAILED", "INACTIVE"})
UNFINISHED_EXECUTIONS: frozenset[str] = frozenset({"QUEUED", "IN_PROGRESS"})


@dataclass(frozen=True, slots=True)
class Target:
    """What a deployment targets: one core device (a thing) or a thing group."""

    kind: TargetKind
    name: str

    def arn(self, region: str, account: str) -> str:
        return f"arn:aws:iot:{region}:{account}:{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class DeviceFailure:
    """Why a core device did not apply a deployment, as the Greengrass nucleus reports it."""

    reason: str
    error_stack: tuple[str, ...] = ()
    error_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Execution:
    """One core device's job execution at one step of a life."""

    thing_name: str
    status: ExecutionStatus
    failure: DeviceFailure | None = None


@dataclass(frozen=True, slots=True)
class FleetStep:
    """One observable state of a deployment and its IoT job.

    ``job_status=None`` is a deployment whose IoT job does not exist yet. A thing missing from
    ``executions`` keeps the execution it had. ``replaced_by`` (only with INACTIVE) creates, as the
    deployment enters this step, the next revision for the same target with those steps.
    ``duration`` is how long the step lasts in clock seconds; None holds it until a test advances it.
    """

    status: DeploymentStatus
    job_status: JobStatus | None
    executions: tuple[Execution, ...] = ()
    replaced_by: tuple[FleetStep, ...] | None = None
    duration: float | None = None

    def __post_init__(self) -> None:
        if self.duration is not None and self.duration < 0:
            raise ValueError(f"duration must be >= 0, got {self.duration}")
        if self.replaced_by is not None and (self.status != "INACTIVE" or not self.replaced_by):
            raise ValueError("only an INACTIVE step can be replaced, by a non-empty life")

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_DEPLOYMENT_STATUSES


@dataclass(frozen=True, slots=True)
class FleetLife:
    """A deployment's name and target, and the states it goes through."""

    name: str
    target: Target
    steps: tuple[FleetStep, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a life needs at least one step")


@dataclass(frozen=True, slots=True)
class ExecutionView:
    """A core device's job execution as the fake holds it now (timestamps in epoch seconds)."""

    thing_name: str
    status: ExecutionStatus
    failure: DeviceFailure | None
    queued_at: float
    started_at: float | None
    updated_at: float
    execution_number: int = 1


@dataclass(frozen=True, slots=True)
class FleetDeploymentView:
    """A consistent snapshot of one fake V2 deployment and its job, for the wire layer and tests."""

    deployment_id: str
    deployment_name: str
    target_arn: str
    revision_id: str
    job_id: str | None
    """None until the IoT job exists (a step with job_status None)."""
    job_deleted: bool
    """The job was deleted (``delete_job``): GetDeployment still names it, IoT no longer knows it."""
    created_at: float
    job_updated_at: float
    step: FleetStep
    step_index: int
    is_latest_for_target: bool
    executions: tuple[ExecutionView, ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def status(self) -> DeploymentStatus:
        return self.step.status

    def count(self, status: ExecutionStatus) -> int:
        return sum(1 for e in self.executions if e.status == status)
