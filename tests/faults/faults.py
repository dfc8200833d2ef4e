"""Faults and pauses inside the handlers' own AWS calls, so the application code runs unchanged.

Rules are played by botocore hooks on the session every handler client is built from (see
aws.session): a hook names the poller stage a call belongs to, and the first matching rule's action runs
before the call reaches the service or after the service has done the work.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError


class SimulatedCrash(BaseException):
    """The runtime killing a run between two steps: not an Exception, so no `except Exception` sees it."""


Stage = Literal["query", "status", "reason", "claim", "publish", "release", "commit", "cursor"]
"""The poller's calls: Query of the active index, GetBulkDeploymentStatus, a Greengrass V2 device's
ListEffectiveDeployments (its reason for failing), the claim UpdateItem, SNS Publish or PublishBatch,
the UpdateItem releasing a claim after a failed publish, the commit UpdateItem and the cursor UpdateItem."""
Phase = Literal["before", "after"]
"""`before`: the call never reaches the service. `after`: the service did the work, then the fault."""


BUDGET_TAG = "ggwatch-budget/"
"""How the world's client configurations name their budget in the user agent (see aws.fast_sdk)."""


@dataclass(frozen=True)
class Call:
    stage: Stage
    deployment_id: str | None
    operation: str
    budget: str | None = None
    """"full" or "hurried": the SDK budget of the client that made the call."""
    batch: tuple[str, ...] = ()
    """A PublishBatch call's deployments (its `deployment_id` is None): a rule for any one of them
    plays on the whole call, as a failed call fails every message in it."""


Action = Callable[[Call], None]


@dataclass
class _Rule:
    stage: Stage
    phase: Phase
    action: Action
    deployment_id: str | None
    remaining: int | None
    label: str


@dataclass(frozen=True)
class Fired:
    stage: Stage
    phase: Phase
    deployment_id: str | None
    label: str
    batch: tuple[str, ...] = ()


def aws_error(code: str = "InternalError", status: int = 500) -> Action:
    """The call fails as AWS answers when the SDK's retries are spent."""

    def fail(call: Call) -> None:
        answer: Any = {
            "Error": {"Code": code, "Message": "injected by the fault harness"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        raise ClientError(answer, call.operation)

    fail.refused_entry_code = code  # type: ignore[attr-defined]
    return fail


_REFUSED = "ggwatch.faults.refused"
"""PublishBatch entries a rule refused on their own, kept in the call's context until its answer."""


def crash(call: Call) -> None:
    """The run dies here, like a Lambda killed by its timeout or the runtime."""
    raise SimulatedCrash(f"killed at {call.stage} of {call.deployment_id}")


class CallFaults:
    """Rules played by botocore hooks: the first matching rule's action runs at a stage and phase."""

    _KEY = "ggwatch.faults.call"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self.fired: list[Fired] = []

    def install(self, events: Any) -> None:
        operations = [
            ("dynamodb", "UpdateItem"),
            ("dynamodb", "Query"),
            ("sns", "Publish"),
            ("sns", "PublishBatch"),
            ("greengrass", "GetBulkDeploymentStatus"),
            ("greengrassv2", "ListEffectiveDeployments"),
        ]
        for service, operation in operations:
            events.register(f"before-parameter-build.{service}.{operation}", self._classify)
        for service in ("dynamodb", "sns", "greengrass", "greengrassv2"):
            events.register(f"before-call.{service}", self._before_call)
            events.register(f"after-call.{service}", self._after_call)

    def inject(
        self,
        stage: Stage,
        action: Action,
        *,
        phase: Phase = "before",
        deployment_id: str | None = None,
        times: int | None = 1,
        label: str | None = None,
    ) -> None:
        """Play `action` at the next `times` matching calls (None: every one, until cleared)."""
        name = label or f"{getattr(action, '__name__', 'action')}-{phase}-{stage}"
        with self._lock:
            self._rules.append(_Rule(stage, phase, action, deployment_id, times, name))

    def clear(self, label: str | None = None) -> None:
        with self._lock:
            self._rules = [rule for rule in self._rules if label is not None and rule.label != label]

    def count(self, *, exclude: str | None = None) -> int:
        with self._lock:
            return sum(1 for fired in self.fired if fired.label != exclude)

    def _classify(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        call = _classify(str(model.name), params)
        if call is not None and call.batch:
            call = self._refuse_entries(call, params, context)
        if call is not None:
            agent = str(getattr(context.get("client_config"), "user_agent_extra", None) or "")
            budget = agent.removeprefix(BUDGET_TAG) if agent.startswith(BUDGET_TAG) else None
            context[self._KEY] = dataclasses.replace(call, budget=budget)

    def _before_call(self, context: dict[str, Any], **_: Any) -> None:
        self._play("before", context.get(self._KEY))

    def _after_call(
        self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if http_response.status_code < 300:
            parsed.setdefault("Failed", []).extend(context.pop(_REFUSED, []))
            self._play("after", context.get(self._KEY))

    def _refuse_entries(self, call: Call, params: dict[str, Any], context: dict[str, Any]) -> Call | None:
        """An AWS error aimed "before" at one deployment of a PublishBatch refuses that entry alone, as
        SNS answers a message it cannot take in `Failed` and publishes the others; a batch of nothing
        but refused entries fails as a call (a crash, or an error aimed at no deployment, also does)."""
        entries = params.get("PublishBatchRequestEntries", [])
        refused: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        with self._lock:
            for entry in entries:
                deployment_id = _deployment_id(entry)
                rule = next(
                    (
                        r
                        for r in self._rules
                        if (r.stage, r.phase) == ("publish", "before")
                        and r.deployment_id is not None
                        and r.deployment_id == deployment_id
                        and hasattr(r.action, "refused_entry_code")
                    ),
                    None,
                )
                if rule is None or len(refused) + 1 == len(entries):
                    kept.append(entry)
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                self.fired.append(Fired("publish", "before", deployment_id, rule.label))
                code = getattr(rule.action, "refused_entry_code")  # noqa: B009 - set by aws_error
                refused.append({"Id": entry["Id"], "Code": code, "Message": "injected", "SenderFault": False})
        if not refused:
            return call
        params["PublishBatchRequestEntries"] = kept
        context[_REFUSED] = refused
        return dataclasses.replace(call, batch=tuple(filter(None, map(_deployment_id, kept))))

    def _play(self, phase: Phase, call: Call | None) -> None:
        if call is None:
            return
        with self._lock:
            rule = next(
                (
                    r
                    for r in self._rules
                    if (r.stage, r.phase) == (call.stage, phase)
                    and (r.deployment_id in (None, call.deployment_id) or r.deployment_id in call.batch)
                ),
                None,
            )
            if rule is None:
                return
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
            self.fired.append(Fired(call.stage, phase, call.deployment_id, rule.label, call.batch))
        rule.action(call)


def _classify(operation: str, params: Mapping[str, Any]) -> Call | None:
    """Which poller stage a call is (by what the adapters send), or None for calls no rule targets."""
    if operation == "GetBulkDeploymentStatus":
        return Call("status", params.get("BulkDeploymentId"), operation)
    if operation == "ListEffectiveDeployments":
        return Call("reason", None, operation)  # asked of the device, not of a deployment
    if operation == "Publish":
        return Call("publish", _deployment_id(params), operation)
    if operation == "PublishBatch":
        batch = tuple(filter(None, map(_deployment_id, params.get("PublishBatchRequestEntries", []))))
        return Call("publish", None, operation, batch=batch)
    if operation == "Query":
        return Call("query", None, operation) if params.get("IndexName") == "active-index" else None
    key = str(params.get("Key", {}).get("pk", {}).get("S", ""))
    if key.startswith("POLLER#"):
        return Call("cursor", None, operation)
    if not key.startswith("DEPLOYMENT#"):
        return None
    deployment_id = key.split("#", 2)[2]
    values = params.get("ExpressionAttributeValues") or {}
    if ":pending" in values:
        return Call("claim", deployment_id, operation)
    if ":released" in values:
        return Call("release", deployment_id, operation)
    if "#pending" in (params.get("ExpressionAttributeNames") or {}):
        return Call("commit", deployment_id, operation)
    return None  # track / untrack


def _deployment_id(message: Mapping[str, Any]) -> str | None:
    """The deployment a Publish (or PublishBatch entry) is about, from its message attributes."""
    attributes = message.get("MessageAttributes") or {}
    deployment_id = attributes.get("deploymentId", {}).get("StringValue")
    return str(deployment_id) if deployment_id else None
