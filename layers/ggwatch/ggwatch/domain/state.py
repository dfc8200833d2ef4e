"""What a claim or a commit makes of a tracked deployment, for repositories that hold it in memory.

DynamoDB answers with the item it wrote; the in-memory repositories (the CLI's dry run, the tests'
fake) apply the same write here, and the repository contract tests hold both to DynamoDB's answer.
"""

from __future__ import annotations

from datetime import datetime

from ggwatch.domain.models import Observation, PendingTransition, TrackedDeployment, is_terminal


def claimed(stored: TrackedDeployment, pending: PendingTransition | None) -> TrackedDeployment:
    """The deployment once `pending` is stored as its claim (None: the claim is cleared)."""
    return stored.model_copy(update={"pending": pending, "version": stored.version + 1})


def released(stored: TrackedDeployment) -> TrackedDeployment:
    """The deployment once its claim is given up (kept, marked released, for the next run to publish);
    one without a claim is left without one."""
    pending = stored.pending.model_copy(update={"released": True}) if stored.pending else None
    return claimed(stored, pending)


def committed(
    stored: TrackedDeployment, observation: Observation, *, now: datetime, transition_id: str | None
) -> TrackedDeployment:
    """The deployment once `observation` is stored and its claim cleared."""
    observed = {
        name: getattr(observation, name)
        for name in Observation.model_fields
        if name not in ("kind", "deployment_id", "deployment_arn")
    }
    return stored.model_copy(
        update={
            **observed,
            "version": stored.version + 1,
            "pending": None,
            "active": stored.active and not is_terminal(observation.status),
            "deployment_arn": observation.deployment_arn or stored.deployment_arn,
            "last_changed_at": now,
            "last_transition_id": transition_id or stored.last_transition_id,
        }
    )
