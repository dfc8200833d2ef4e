"""Thread-safe in-memory Greengrass V2 deployments, their IoT jobs and each core device's execution.

Counts are never stored: DescribeJob, ListJobExecutionsForJob and ListEffectiveDeployments all read
the same per-device executions, so the three answers always agree. Time matters only through the
injectable ``clock``; every read first moves each life on to where the clock says it is. Lookups by
job and target, and that settling, go through indexes, so a call costs the same for 5 or 5,000
deployments (the benchmark serves thousands).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from threading import RLock

from ggwatch_local.greengrass.faults import FaultJournal
from ggwatch_local.greengrass.state import ACCOUNT_ID
from ggwatch_local.greengrass.timeline import steps_due

from .model import (
    DeploymentStatus,
    DeviceFailure,
    Execution,
    ExecutionStatus,
    ExecutionView,
    FleetDeploymentView,
    FleetLife,
    FleetStep,
    Operation,
    Target,
)


@dataclass
class _Execution:
    status: ExecutionStatus
    failure: DeviceFailure | None
    queued_at: float
    started_at: float | None
    updated_at: float


@dataclass
class _Deployment:
    deployment_id: str
    name: str
    target: Target
    revision: int
    job_id: str
    created_at: float
    seq: int
    life: list[FleetStep]
    tags: dict[str, str]
    index: int = 0
    entered_at: float = 0.0
    job_updated_at: float = 0.0
    job_deleted: bool = False
    executions: dict[str, _Execution] = field(default_factory=dict)

    @property
    def step(self) -> FleetStep:
        return self.life[self.index]


@dataclass
class FleetFake(FaultJournal[Operation]):
    """Greengrass V2 deployments with scripted lives; the programmatic API tests use directly.

    Fault injection and the call log come from FaultJournal; a fault's ``deployment_id`` matches
    every call about that deployment, including the IoT calls about its job.
    """

    clock: Callable[[], float] = time.time
    region: str = "us-east-1"
    account: str = ACCOUNT_ID
    _lock: RLock = field(default_factory=RLock, init=False, repr=False)
    _deployments: dict[str, _Deployment] = field(default_factory=dict, init=False, repr=False)
    _seq: int = field(default=0, init=False, repr=False)
    _by_target: dict[Target, list[_Deployment]] = field(default_factory=dict, init=False, repr=False)
    """Each target's revisions, oldest first."""
    _by_job: dict[str, list[_Deployment]] = field(default_factory=dict, init=False, repr=False)
    """The deployments naming each job id, oldest first."""
    _moving: set[str] = field(default_factory=set, init=False, repr=False)
    """Deployments in a step with a duration: the only ones the clock can move on."""

    # -- creating deployments ---------------------------------------------------------------------------
    def add(
        self,
        life: FleetLife,
        deployment_id: str | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        job_id: str | None = None,
    ) -> str:
        """What CreateDeployment does: a new revision for the life's target, in the life's first step.

        The target's previous revision, if still ACTIVE, becomes INACTIVE and its job is canceled.
        """
        with self._lock:
            self._settle_all()
            now = self.clock()
            previous = self._latest(life.target)
            if previous is not None and not previous.step.is_terminal:
                self._jump(previous, superseded(previous.step, self._current(previous)), now)
            return self._create(life, now, deployment_id=deployment_id, tags=tags, job_id=job_id)

    def revise(self, deployment_id: str, steps: Iterable[FleetStep]) -> str:
        """A new revision of ``deployment_id``'s target (same name) living ``steps``; returns its id."""
        with self._lock:
            dep = self._get(deployment_id)
            return self.add(FleetLife(dep.name, dep.target, tuple(steps)))

    # -- reading ------------------------------------------------------------------------------------
    def get(self, deployment_id: str) -> FleetDeploymentView:
        """The deployment as of now; KeyError if unknown."""
        with self._lock:
            self._settle_all()
            return self._view(self._get(deployment_id))

    def find(self, deployment_id: str) -> FleetDeploymentView | None:
        with self._lock:
            return self.get(deployment_id) if deployment_id in self._deployments else None

    def deployments(self) -> list[FleetDeploymentView]:
        """Every deployment, newest first."""
        with self._lock:
            self._settle_all()
            ordered = sorted(self._deployments.values(), key=lambda d: (d.created_at, d.seq), reverse=True)
            return [self._view(d) for d in ordered]

    def by_job(self, job_id: str) -> FleetDeploymentView | None:
        """The deployment whose IoT job this is, None when IoT does not know the job (yet or any more)."""
        with self._lock:
            self._settle_all()
            for dep in reversed(self._by_job.get(job_id, [])):  # newest first
                view = self._view(dep)
                if view.job_id == job_id and not view.job_deleted:
                    return view
            return None

    def device(self, thing_name: str) -> list[tuple[FleetDeploymentView, ExecutionView]]:
        """Each deployment that reached this core device with its execution there, newest change first."""
        with self._lock:
            found = [
                (view, execution)
                for view in self.deployments()
                if view.job_id is not None
                for execution in view.executions
                if execution.thing_name == thing_name
            ]
            return sorted(found, key=lambda pair: pair[1].updated_at, reverse=True)

    # -- driving lives by hand ----------------------------------------------------------------------------
    def advance(self, deployment_id: str) -> DeploymentStatus:
        """Move to the next step of the life now, whatever its duration; return the new status."""
        with self._lock:
            self._settle_all()
            dep = self._get(deployment_id)
            if dep.index + 1 >= len(dep.life):
                raise ValueError(f"deployment {deployment_id} is already at the last step of its life")
            self._enter(dep, dep.index + 1, self.clock())
            return dep.step.status

    def delete_job(self, deployment_id: str) -> None:
        """What deleting the IoT job does: the deployment still names it, IoT answers not found."""
        with self._lock:
            self._get(deployment_id).job_deleted = True

    # -- internals ------------------------------------------------------------------------------------
    def _create(
        self,
        life: FleetLife,
        at: float,
        *,
        deployment_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        job_id: str | None = None,
    ) -> str:
        deployment_id = deployment_id or str(uuid.uuid4())
        if deployment_id in self._deployments:
            raise ValueError(f"deployment {deployment_id} already exists")
        self._seq += 1
        revisions = self._by_target.setdefault(life.target, [])
        revision = 1 + len(revisions)
        dep = _Deployment(
            deployment_id=deployment_id,
            name=life.name,
            target=life.target,
            revision=revision,
            job_id=job_id or str(uuid.uuid4()),
            created_at=at,
            seq=self._seq,
            life=list(life.steps),
            tags=dict(tags or {}),
        )
        self._deployments[deployment_id] = dep
        revisions.append(dep)
        self._by_job.setdefault(dep.job_id, []).append(dep)
        self._enter(dep, 0, at)
        return deployment_id

    def _get(self, deployment_id: str) -> _Deployment:
        dep = self._deployments.get(deployment_id)
        if dep is None:
            raise KeyError(deployment_id)
        return dep

    def _latest(self, target: Target) -> _Deployment | None:
        revisions = self._by_target.get(target)
        return revisions[-1] if revisions else None

    def _settle_all(self) -> None:
        """Move every life to the clock; a replacement created on the way is settled in turn."""
        now, settled = self.clock(), set[str]()
        while todo := sorted(
            (self._deployments[i] for i in self._moving if i not in settled), key=lambda d: d.seq
        ):
            for dep in todo:
                durations = [step.duration for step in dep.life]
                for index, entered_at in steps_due(durations, dep.index, dep.entered_at, now):
                    self._enter(dep, index, entered_at)
                settled.add(dep.deployment_id)

    def _enter(self, dep: _Deployment, index: int, at: float) -> None:
        dep.index, dep.entered_at, dep.job_updated_at = index, at, at
        if dep.step.duration is not None and dep.index + 1 < len(dep.life):
            self._moving.add(dep.deployment_id)
        else:
            self._moving.discard(dep.deployment_id)
        for execution in dep.step.executions:
            known = dep.executions.get(execution.thing_name)
            if known is None:
                started = None if execution.status == "QUEUED" else at
                dep.executions[execution.thing_name] = _Execution(
                    execution.status, execution.failure, queued_at=at, started_at=started, updated_at=at
                )
            elif (known.status, known.failure) != (execution.status, execution.failure):
                known.status, known.failure, known.updated_at = execution.status, execution.failure, at
                if known.started_at is None and execution.status != "QUEUED":
                    known.started_at = at
        if dep.step.replaced_by is not None:
            self._create(FleetLife(dep.name, dep.target, dep.step.replaced_by), at)

    def _jump(self, dep: _Deployment, step: FleetStep, at: float) -> None:
        dep.life = [*dep.life[: dep.index + 1], step]
        self._enter(dep, dep.index + 1, at)

    def _current(self, dep: _Deployment) -> tuple[Execution, ...]:
        return tuple(Execution(name, e.status, e.failure) for name, e in dep.executions.items())

    def _view(self, dep: _Deployment) -> FleetDeploymentView:
        latest = self._latest(dep.target)
        return FleetDeploymentView(
            deployment_id=dep.deployment_id,
            deployment_name=dep.name,
            target_arn=dep.target.arn(self.region, self.account),
            revision_id=str(dep.revision),
            job_id=None if dep.step.job_status is None else dep.job_id,
            job_deleted=dep.job_deleted,
            created_at=dep.created_at,
            job_updated_at=dep.job_updated_at,
            step=dep.step,
            step_index=dep.index,
            is_latest_for_target=latest is dep,
            executions=tuple(
                ExecutionView(name, e.status, e.failure, e.queued_at, e.started_at, e.updated_at)
                for name, e in dep.executions.items()
            ),
            tags=dict(dep.tags),
        )


def superseded(step: FleetStep, executions: tuple[Execution, ...]) -> FleetStep:
    """The state a revision is left in when a newer one replaces it: INACTIVE, its job canceled.

    Queued devices never get it; a device already applying it finishes (the job is not force-canceled).
    """
    return FleetStep(
        "INACTIVE",
        "CANCELED" if step.job_status is not None else None,
        tuple(Execution(e.thing_name, "CANCELED") if e.status == "QUEUED" else e for e in executions),
    )
