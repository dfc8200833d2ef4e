"""What a finished deployment's `results` say, in words people read (pure, plain text, no markup).

`48 succeeded · 2 failed` from V1's `Success`/`Failure` group counts or V2's device counts, and who
failed first and why; `blocks` escapes and marks it up like every other text from outside.
"""

from __future__ import annotations

from ggwatch.domain.models import ResultFailure, Results, counter_label
from ggwatch.domain.results import failed

STATUS_WORDS = {
    "Success": "succeeded",
    "Failure": "failed",
    "InProgress": "in progress",
    "Building": "building",
}
"""A V1 group deployment's DeploymentStatus as words; V2's counters read as their labels."""
_ORDER = ("Success", "succeeded", "Failure", "failed", "rejected", "timedOut")
SHOWN_FAILURES = 3
"""How many failures the summary names: the full list is in the SNS and EventBridge bodies."""


def counts(results: Results) -> str:
    """`48 succeeded · 2 failed`, the usual statuses first; `nothing counted` when empty."""
    ordered = sorted(results.counts, key=lambda s: (_ORDER.index(s) if s in _ORDER else len(_ORDER), s))
    words = [f"{results.counts[s]} {STATUS_WORDS.get(s) or counter_label(s).lower()}" for s in ordered]
    return " · ".join(words) or "nothing counted"


def failure_name(failure: ResultFailure) -> str:
    """The device, else the group's ID (the last part of its ARN), else the group deployment's ID."""
    if failure.thing_name:
        return failure.thing_name
    if failure.group_arn:
        return failure.group_arn.rstrip("/").rsplit("/", 1)[-1]
    return failure.deployment_id or "unknown"


def failure_reason(failure: ResultFailure) -> str:
    """The message, else the first detail's; prefixed by the code when there is one."""
    detail = failure.error_details[0] if failure.error_details else None
    code = failure.code or (detail.code if detail else None)
    message = failure.message or (detail.message if detail else None)
    return ": ".join(part for part in (code, message) if part) or "no reason given"


def first_failures(results: Results) -> tuple[ResultFailure, ...]:
    return results.failures[:SHOWN_FAILURES]


def unnamed(results: Results) -> int:
    """Failures the summary does not name: by the counts, which hold those cut from the list too."""
    return max(failed(results), len(results.failures)) - len(first_failures(results))
