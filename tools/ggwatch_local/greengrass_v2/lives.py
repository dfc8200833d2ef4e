"""Named, realistic Greengrass V2 deployment lives.

Failure details follow the Greengrass nucleus's detailed deployment error codes (errorStack from the
most generic code to the most specific, errorTypes the classes). ``step_seconds=None`` gives lives
that move only when a test calls ``advance``; a number gives self-running lives for the demo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from ggwatch_local.greengrass.lives import one_of_each

from .model import DeviceFailure, Execution, ExecutionStatus, FleetLife, FleetStep, Target
from .state import superseded

DISK_FULL = DeviceFailure(
    reason="Failed to download artifacts of com.example.Telemetry 2.1.0: not enough disk space.",
    error_stack=("DEPLOYMENT_FAILURE", "ARTIFACT_DOWNLOAD_ERROR", "IO_ERROR", "DISK_SPACE_CRITICAL"),
    error_types=("DEVICE_ERROR",),
)
INSTALL_SCRIPT_FAILED = DeviceFailure(
    reason="com.example.Telemetry 2.1.0 is broken: its install script exited with code 1.",
    error_stack=("DEPLOYMENT_FAILURE", "COMPONENT_UPDATE_ERROR", "COMPONENT_BROKEN"),
    error_types=("USER_COMPONENT_ERROR",),
)
S3_ACCESS_DENIED = DeviceFailure(
    reason="Access denied to s3://example-artifacts/telemetry/2.1.0/telemetry.zip.",
    error_stack=("DEPLOYMENT_FAILURE", "ARTIFACT_DOWNLOAD_ERROR", "S3_HEAD_OBJECT_ACCESS_DENIED"),
    error_types=("PERMISSION_ERROR", "DEPENDENCY_ERROR"),
)


def things(prefix: str, count: int, *, start: int = 1) -> tuple[str, ...]:
    """Core device names like ``line-a-001``."""
    return tuple(f"{prefix}-{i:03d}" for i in range(start, start + count))


def progress(
    names: Sequence[str],
    *,
    done: int,
    in_progress: int = 0,
    failures: Mapping[str, DeviceFailure] | None = None,
    rest: ExecutionStatus = "QUEUED",
) -> tuple[Execution, ...]:
    """The first ``done`` devices finished (failed if listed in ``failures``, else succeeded), the
    next ``in_progress`` are applying it, the others are ``rest``."""
    failures = failures or {}

    def execution(i: int, name: str) -> Execution:
        if i < done:
            failure = failures.get(name)
            return Execution(name, "FAILED", failure) if failure else Execution(name, "SUCCEEDED")
        return Execution(name, "IN_PROGRESS" if i < done + in_progress else rest)

    return tuple(execution(i, name) for i, name in enumerate(names))


def rollout_with_failures(*, devices: int = 50, step_seconds: float | None = None) -> FleetLife:
    """A thing group of ``devices`` rolls out in batches; three devices fail on the way, each with its
    own reason. The deployment stays ACTIVE: a thing-group deployment is continuous."""
    names = things("plant-a", devices)
    failing = {
        names[7]: DISK_FULL,
        names[devices // 2 - 2]: INSTALL_SCRIPT_FAILED,
        names[-9]: S3_ACCESS_DENIED,
    }
    batches = (0, devices // 5, devices * 3 // 5, devices)
    steps = tuple(
        FleetStep(
            "ACTIVE",
            "IN_PROGRESS",
            progress(
                names,
                done=done,
                in_progress=min(devices // 5, devices - done) if done else 0,
                failures=failing,
            ),
            duration=step_seconds,
        )
        for done in batches
    )
    return FleetLife("telemetry-2.1.0", Target("thinggroup", "plant-a"), _last_held(steps))


def canceled(*, devices: int = 20, step_seconds: float | None = None) -> FleetLife:
    """Someone cancels a rollout part of the way: queued devices never get it, running ones finish."""
    names = things("plant-b", devices)
    steps = (
        FleetStep("ACTIVE", "IN_PROGRESS", progress(names, done=0), duration=step_seconds),
        FleetStep(
            "ACTIVE", "IN_PROGRESS", progress(names, done=devices // 4, in_progress=3), duration=step_seconds
        ),
        FleetStep("CANCELED", "CANCELED", progress(names, done=devices // 4, in_progress=3, rest="CANCELED")),
    )
    return FleetLife("camera-firmware-7.4", Target("thinggroup", "plant-b"), steps)


def continuous_replaced(
    *, devices: int = 10, joining: int = 2, step_seconds: float | None = None
) -> FleetLife:
    """A thing-group deployment settles, stays ACTIVE while ``joining`` devices join the group and get
    it, then is replaced by a newer revision: it becomes INACTIVE and the new revision rolls out."""
    names = things("line-c", devices)
    grown = things("line-c", devices + joining)
    settled_grown = FleetStep(
        "ACTIVE", "IN_PROGRESS", progress(grown, done=len(grown)), duration=step_seconds
    )
    next_revision = (
        FleetStep("ACTIVE", "IN_PROGRESS", progress(grown, done=0), duration=step_seconds),
        FleetStep("ACTIVE", "IN_PROGRESS", progress(grown, done=len(grown))),
    )
    steps = (
        FleetStep("ACTIVE", "IN_PROGRESS", progress(names, done=0), duration=step_seconds),
        FleetStep("ACTIVE", "IN_PROGRESS", progress(names, done=devices), duration=step_seconds),
        FleetStep("ACTIVE", "IN_PROGRESS", progress(grown, done=devices), duration=step_seconds),
        settled_grown,
        replace(superseded(settled_grown, settled_grown.executions), replaced_by=next_revision),
    )
    return FleetLife("line-c-runtime", Target("thinggroup", "line-c"), steps)


def single_device(*, step_seconds: float | None = None) -> FleetLife:
    """One core device: queued, applying, done; a deployment to a thing completes."""
    name = "gateway-042"
    steps = (
        FleetStep("ACTIVE", "IN_PROGRESS", (Execution(name, "QUEUED"),), duration=step_seconds),
        FleetStep("ACTIVE", "IN_PROGRESS", (Execution(name, "IN_PROGRESS"),), duration=step_seconds),
        FleetStep("COMPLETED", "COMPLETED", (Execution(name, "SUCCEEDED"),)),
    )
    return FleetLife("gateway-042-hotfix", Target("thing", name), steps)


NAMED_LIVES: dict[str, Callable[..., FleetLife]] = {
    "rollout_with_failures": rollout_with_failures,
    "canceled": canceled,
    "continuous_replaced": continuous_replaced,
    "single_device": single_device,
}


def demo_lives(step_seconds: float | None = 3.0) -> list[FleetLife]:
    """One of each named life, all progressing by themselves every ``step_seconds``."""
    return one_of_each(NAMED_LIVES, step_seconds)


def _last_held(steps: tuple[FleetStep, ...]) -> tuple[FleetStep, ...]:
    return (*steps[:-1], replace(steps[-1], duration=None))
