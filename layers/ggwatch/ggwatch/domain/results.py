"""What a finished deployment did, per group (V1) or per device (V2): the notification's `results`.

It answers the question a terminal notification raises ("which groups failed, and why?"): counts by
status and the first failures. It is bounded in bytes here, once, whatever the source returned, so a
fleet of thousands of failed groups with long error texts still fits a claim, an SNS message and an
EventBridge entry; `truncated` says when the failure list does not name every failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from ggwatch.domain.fleet_rules import FAILURE_COUNTERS
from ggwatch.domain.models import ErrorDetail, ResultFailure, Results
from ggwatch.domain.sizes import encodable, json_text_size, truncate

MAX_FAILURES: Final = 25
"""How many failures `results` names: the first ones (V1 in report order, V2 newest first)."""
MAX_FAILURES_BYTES: Final = 32 * 1024
"""All named failures together, as JSON: room in a claim beside the errors and the previous state."""
MAX_FAILURE_TEXT_BYTES: Final = 1_000
MAX_FAILURE_DETAILS: Final = 5
MAX_NAME_BYTES: Final = 2048
"""An ARN, an ID or a thing name: an ARN's maximum."""
MAX_STATUSES: Final = 16
MAX_STATUS_BYTES: Final = 64
MAX_CODE_BYTES: Final = 256
MAX_ERROR_BYTES: Final = 1_000

V1_FAILURE_STATUS: Final = "Failure"
"""A group deployment's DeploymentStatus when it failed (the others: InProgress, Building, Success)."""
FAILURE_STATUSES: Final = frozenset({V1_FAILURE_STATUS, *FAILURE_COUNTERS})


def failed(results: Results) -> int:
    """How many failed, by the counts (V1 groups that failed; V2 devices failed, rejected or timed out)."""
    return sum(count for status, count in results.counts.items() if status in FAILURE_STATUSES)


def unavailable(reason: str) -> Results:
    """Results that could not be read, and why."""
    return Results(error=_text(reason, MAX_ERROR_BYTES))


def from_group_reports(reports: Iterable[Mapping[str, Any]]) -> Results:
    """Greengrass V1: every BulkDeploymentResult of ListBulkDeploymentDetailedReports, every page.

    Counts stream over all reports; only the first MAX_FAILURES failures are kept.
    """
    counts: dict[str, int] = {}
    failures: list[ResultFailure] = []
    failed = 0
    for report in reports:
        status = str(report.get("DeploymentStatus") or "Unknown")
        counts[status] = counts.get(status, 0) + 1
        if status != V1_FAILURE_STATUS:
            continue
        failed += 1
        if len(failures) < MAX_FAILURES:
            failures.append(
                ResultFailure(
                    group_arn=_optional(report.get("GroupArn")),
                    deployment_id=_optional(report.get("DeploymentId")),
                    message=_optional(report.get("ErrorMessage")),
                    error_details=tuple(
                        ErrorDetail(
                            code=_optional(d.get("DetailedErrorCode")),
                            message=_optional(d.get("DetailedErrorMessage")),
                        )
                        for d in report.get("ErrorDetails") or []
                        if isinstance(d, Mapping)
                    ),
                )
            )
    return bound(
        Results(
            total=sum(counts.values()),
            counts=counts,
            failures=tuple(failures),
            truncated=failed > len(failures),
        )
    )


def from_devices(counts: Mapping[str, int], failed_devices: Iterable[ErrorDetail], failed: int) -> Results:
    """Greengrass V2: the device counts by execution status and the failed devices the snapshot names
    (newest first); `failed` is how many devices failed, named or not."""
    failures = tuple(
        ResultFailure(thing_name=d.thing_name, code=d.code, message=d.message) for d in failed_devices
    )
    return bound(
        Results(
            total=sum(counts.values()),
            counts={status: count for status, count in counts.items() if count},
            failures=failures,
            truncated=failed > len(failures),
        )
    )


def bound(results: Results) -> Results:
    """The results cut to their byte bounds, the same way every time; `truncated` set when a failure
    was dropped."""
    failures: list[ResultFailure] = []
    used = 0
    for failure in results.failures[:MAX_FAILURES]:
        capped = _bounded_failure(failure)
        used += json_text_size(capped.model_dump_json(by_alias=True)) + 1
        if used > MAX_FAILURES_BYTES:
            break
        failures.append(capped)
    statuses = sorted(results.counts, key=lambda status: (-results.counts[status], status))
    counts = {_text(s, MAX_STATUS_BYTES) or "": results.counts[s] for s in statuses[:MAX_STATUSES]}
    bounded = results.model_copy(
        update={
            "counts": counts,
            "failures": tuple(failures),
            "truncated": results.truncated or len(failures) < len(results.failures),
            "error": _text(results.error, MAX_ERROR_BYTES),
        }
    )
    return results if bounded == results else bounded


def _bounded_failure(failure: ResultFailure) -> ResultFailure:
    return ResultFailure(
        group_arn=_text(failure.group_arn, MAX_NAME_BYTES),
        deployment_id=_text(failure.deployment_id, MAX_NAME_BYTES),
        thing_name=_text(failure.thing_name, MAX_NAME_BYTES),
        code=_text(failure.code, MAX_CODE_BYTES),
        message=_text(failure.message, MAX_FAILURE_TEXT_BYTES),
        error_details=tuple(
            ErrorDetail(code=_text(d.code, MAX_CODE_BYTES), message=_text(d.message, MAX_FAILURE_TEXT_BYTES))
            for d in failure.error_details[:MAX_FAILURE_DETAILS]
        ),
    )


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _text(text: str | None, limit: int) -> str | None:
    return None if text is None else truncate(encodable(text), limit)
