"""Thread-safe in-memory Greengrass bulk-deployment state: deployments, their lives and progression.

The HTTP server threads and the test thread share one instance, so every public method takes the
same lock. Time only matters through the injectable ``clock``: a step with a duration is left once
the clock has moved past it, which the state works out lazily whenever a deployment is read.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from threading import RLock

from .faults import FaultJournal
from .lives import LifeChooser, completes, round_robin
from .model import DeploymentView, GreengrassError, Operation, Status, Step
from .timeline import steps_due

ACCOUNT_ID = "123456789012"
DEPLOYMENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


@dataclass
class _Deployment:
    deployment_id: str
    arn: str
    created_at: float
    seq: int
    life: list[Step]
    tags: dict[str, str]
    execution_role_arn: str = ""
    input_file_uri: str = ""
    index: int = 0
    entered_at: float = 0.0

    @property
    def step(self) -> Step:
        return self.life[self.index]


@dataclass
class _Token:
    deployment_id: str
    fingerprint: tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass
class BulkDeploymentFake(FaultJournal[Operation]):
    """In-memory bulk deployments with scripted lives; the programmatic API tests use directly.

    Fault injection and the call log (``inject``, ``calls``, ...) come from FaultJournal.

    ``chooser`` picks the life of deployments created by StartBulkDeployment; ``clock`` returns epoch
    seconds; ``stopping_duration`` is how long Stopping lasts after StopBulkDeployment (None: manual);
    ``allow_concurrent_starts=False`` mirrors AWS refusing a start while another one is not terminal.
    """

    chooser: LifeChooser = field(default_factory=lambda: round_robin([completes()]))
    clock: Callable[[], float] = time.time
    region: str = "us-east-1"
    stopping_duration: float | None = None
    allow_concurrent_starts: bool = False
    _lock: RLock = field(default_factory=RLock, init=False, repr=False)
    _deployments: dict[str, _Deployment] = field(default_factory=dict, init=False, repr=False)
    _tokens: dict[str, _Token] = field(default_factory=dict, init=False, repr=False)
    _seq: int = field(default=0, init=False, repr=False)

    # -- creating and reading deployments -------------------------------------------------------
    def add(
        self,
        deployment_id: str | None = None,
        life: Sequence[Step] | None = None,
        tags: dict[str, str] | None = None,
        *,
        execution_role_arn: str = f"arn:aws:iam::{ACCOUNT_ID}:role/GreengrassBulkDeploymentRole",
        input_file_uri: str = "s3://ggwatch-demo/bulk/input.jsonl",
        created_at: float | None = None,
    ) -> str:
        """Create a deployment in the first step of ``life`` (default: the chooser's); return its id."""
        with self._lock:
            steps = list(life if life is not None else self.chooser())
            if not steps:
                raise ValueError("a life needs at least one step")
            deployment_id = deployment_id or str(uuid.uuid4())
            if not DEPLOYMENT_ID_PATTERN.match(deployment_id):
                raise ValueError(f"malformed deployment id {deployment_id!r}")
            if deployment_id in self._deployments:
                raise ValueError(f"deployment {deployment_id} already exists")
            now = self.clock()
            self._seq += 1
            self._deployments[deployment_id] = _Deployment(
                deployment_id=deployment_id,
                arn=f"arn:aws:greengrass:{self.region}:{ACCOUNT_ID}:/greengrass/bulk/deployments/{deployment_id}",
                created_at=now if created_at is None else created_at,
                seq=self._seq,
                life=steps,
                tags=dict(tags or {}),
                execution_role_arn=execution_role_arn,
                input_file_uri=input_file_uri,
                entered_at=now,
            )
            return deployment_id

    def get(self, deployment_id: str) -> DeploymentView:
        """Snapshot of a deployment after applying any time-based progression."""
        with self._lock:
            dep = self._settled(deployment_id)
            return DeploymentView(
                deployment_id=dep.deployment_id,
                arn=dep.arn,
                created_at=iso8601(dep.created_at),
                step=dep.step,
                step_index=dep.index,
                life=tuple(dep.life),
                tags=dict(dep.tags),
                execution_role_arn=dep.execution_role_arn,
                input_file_uri=dep.input_file_uri,
            )

    def deployments(self) -> list[DeploymentView]:
        """All deployments, newest first (the order ListBulkDeployments pages through)."""
        with self._lock:
            ordered = sorted(self._deployments.values(), key=lambda d: (d.created_at, d.seq), reverse=True)
            return [self.get(d.deployment_id) for d in ordered]

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._deployments)

    # -- driving lives by hand ----------------------------------------------------------------
    def advance(self, deployment_id: str) -> Status:
        """Move to the next step of the life now, whatever its duration; return the new status."""
        with self._lock:
            dep = self._settled(deployment_id)
            if dep.index + 1 >= len(dep.life):
                raise ValueError(f"deployment {deployment_id} is already at the last step of its life")
            dep.index += 1
            dep.entered_at = self.clock()
            return dep.step.status

    def set_status(self, deployment_id: str, step: Status | Step) -> None:
        """Jump to ``step`` (a bare status keeps current metrics); the rest of the life is dropped."""
        with self._lock:
            dep = self._settled(deployment_id)
            new = replace(dep.step, status=step, duration=None) if isinstance(step, str) else step
            self._jump(dep, [new])

    def stop(self, deployment_id: str) -> None:
        """What StopBulkDeployment does: Stopping (for ``stopping_duration``) then Stopped."""
        with self._lock:
            dep = self._settled(deployment_id)
            status = dep.step.status
            if status == "Stopping":
                return
            if dep.step.is_terminal:
                raise GreengrassError(
                    f"Cannot stop bulk deployment {deployment_id} because it is in a terminal state: {status}."
                )
            base = replace(dep.step, error_message=None, error_details=())
            self._jump(dep, [replace(base, status="Stopping", duration=self.stopping_duration),
                             replace(base, status="Stopped", duration=None)])  # fmt: skip

    # -- StartBulkDeployment semantics ---------------------------------------------------------
    def start(
        self, execution_role_arn: str, input_file_uri: str, tags: dict[str, str], client_token: str | None
    ) -> str:
        """Create a deployment as StartBulkDeployment would, honouring the idempotency token."""
        fingerprint = (execution_role_arn, input_file_uri, tuple(sorted(tags.items())))
        with self._lock:
            if client_token is not None and client_token in self._tokens:
                known = self._tokens[client_token]
                if known.fingerprint != fingerprint:
                    raise GreengrassError(
                        "The client token has already been used with different request parameters."
                    )
                return known.deployment_id
            if not self.allow_concurrent_starts:
                active = [v.deployment_id for v in self.deployments() if not v.step.is_terminal]
                if active:
                    raise GreengrassError(
                        f"Cannot start a new bulk deployment while bulk deployment {active[0]} "
                        "is still in a non-terminal state."
                    )
            new_id = self.add(tags=tags, execution_role_arn=execution_role_arn, input_file_uri=input_file_uri)
            if client_token is not None:
                self._tokens[client_token] = _Token(new_id, fingerprint)
            return new_id

    # -- internals ----------------------------------------------------------------------------------
    def _settled(self, deployment_id: str) -> _Deployment:
        dep = self._deployments.get(deployment_id)
        if dep is None:
            raise GreengrassError(f"Bulk deployment {deployment_id} does not exist.")
        durations = [step.duration for step in dep.life]
        for index, entered_at in steps_due(durations, dep.index, dep.entered_at, self.clock()):
            dep.index, dep.entered_at = index, entered_at
        return dep

    def _jump(self, dep: _Deployment, steps: list[Step]) -> None:
        dep.life = [*dep.life[: dep.index + 1], *steps]
        dep.index += 1
        dep.entered_at = self.clock()


def iso8601(epoch_seconds: float) -> str:
    """Greengrass's CreatedAt format, e.g. ``2019-06-25T16:11:33.474Z``."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
