"""A finished deployment's `results`: counted, bounded in bytes, cut first to fit a channel, only on
the notifications they belong to, never a reason to notify or store, and summarised in Slack safely."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ggwatch.domain import results
from ggwatch.domain.models import (
    DeploymentKind,
    ErrorDetail,
    Metrics,
    Observation,
    ResultFailure,
    Results,
    TrackedDeployment,
)
from ggwatch.domain.notification import fit_to_eventbridge_entry, fit_to_size, sns_message_size
from ggwatch.domain.sizes import EVENTBRIDGE_ENTRY_MAX_BYTES, SNS_MESSAGE_MAX_BYTES, utf8_size
from ggwatch.domain.transitions import assess, bounded, build_notification
from ggwatch.slack.blocks import render
from tests.factories import notification

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
V1, V2 = DeploymentKind.GREENGRASS_V1_BULK, DeploymentKind.GREENGRASS_V2
HOSTILE = "<!channel> <@U0123> <https://evil.example|click> & `tick`"


def report(i: int, status: str = "Success", message: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "GroupArn": f"arn:aws:greengrass:us-east-1:123456789012:/greengrass/groups/group-{i}",
        "DeploymentId": f"d-{i}",
        "DeploymentStatus": status,
    }
    if message is not None:
        entry |= {
            "ErrorMessage": message,
            "ErrorDetails": [{"DetailedErrorCode": "E", "DetailedErrorMessage": message}],
        }
    return entry


def stored(kind: DeploymentKind = V1, **fields: Any) -> TrackedDeployment:
    return TrackedDeployment.model_validate(
        {"kind": kind, "deployment_id": "d-1", "tracked_at": NOW, "version": 1, **fields}
    )


def observed(kind: DeploymentKind = V1, status: str = "Completed", **fields: Any) -> Observation:
    return Observation.model_validate({"kind": kind, "deployment_id": "d-1", "status": status, **fields})


# -- Greengrass V1: the group reports -----------------------------------------------------------------


def test_group_reports_are_counted_by_status_and_the_first_failures_named_in_order() -> None:
    reports = [report(i) for i in range(48)] + [
        report(48, "Failure", "no role"),
        report(49, "Failure", "gone"),
    ]
    found = results.from_group_reports(reports)
    assert (found.total, found.counts) == (50, {"Success": 48, "Failure": 2})
    assert [(f.group_arn and f.group_arn[-8:], f.deployment_id, f.message) for f in found.failures] == [
        ("group-48", "d-48", "no role"),
        ("group-49", "d-49", "gone"),
    ]
    assert found.failures[0].error_details == (ErrorDetail(code="E", message="no role"),)
    assert not found.truncated


def test_more_failures_than_named_flag_the_list_as_cut() -> None:
    found = results.from_group_reports(report(i, "Failure", "x") for i in range(results.MAX_FAILURES + 1))
    assert found.counts == {"Failure": results.MAX_FAILURES + 1}
    assert len(found.failures) == results.MAX_FAILURES and found.truncated


def test_huge_error_texts_are_bounded_in_bytes_and_the_list_cut_to_fit() -> None:
    # Given 25 failed groups, each with a megabyte of 4-byte characters in every text
    huge = "😀" * 250_000
    found = results.from_group_reports(
        {**report(i, "Failure", huge), "ErrorDetails": [{"DetailedErrorMessage": huge}] * 50}
        for i in range(25)
    )
    # Then the named failures stay within their byte budget, each text cut with a marker, and flagged
    size = sum(utf8_size(f.model_dump_json(by_alias=True)) for f in found.failures)
    assert size <= results.MAX_FAILURES_BYTES
    assert 0 < len(found.failures) < 25 and found.truncated
    assert found.failures[0].message is not None and found.failures[0].message.endswith(
        "[truncated by ggwatch]"
    )
    assert len(found.failures[0].error_details) == results.MAX_FAILURE_DETAILS


def test_bounding_is_deterministic_and_leaves_small_results_as_they_are() -> None:
    small = results.from_group_reports([report(0, "Failure", "x")])
    assert results.bound(small) is small
    heavy = Results(failures=tuple(ResultFailure(message="é" * 10_000) for _ in range(40)))
    assert results.bound(heavy) == results.bound(heavy)


def test_results_are_not_an_observed_fact_so_an_unchanged_deployment_is_neither_notified_nor_written() -> (
    None
):
    # Given a stored terminal deployment, and the same observation carrying results
    before = stored(status="Completed")
    with_results = observed(results=results.from_group_reports([report(0)]))
    # Then nothing is due: results never make a deployment look changed
    assessment = assess(before, with_results)
    assert not assessment.notify and not assessment.state_changed


def test_a_v1_notification_carries_results_only_at_a_terminal_status() -> None:
    found = results.from_group_reports([report(0), report(1, "Failure", "x")])
    finished = build_notification(
        stored(status="Running"), observed(results=found), ("status",), observed_at=NOW, region=None
    )
    assert finished.results == found
    running = build_notification(
        stored(), observed(status="Running", results=found), ("status",), observed_at=NOW, region=None
    )
    assert running.results is None


def test_bounding_an_observation_bounds_its_results() -> None:
    huge = Results(failures=tuple(ResultFailure(message="x" * 100_000) for _ in range(40)))
    capped = bounded(observed(results=huge)).results
    assert capped is not None and len(capped.failures) <= results.MAX_FAILURES and capped.truncated


# -- Greengrass V2: the device executions ---------------------------------------------------------------


FAILED_DEVICES = tuple(
    ErrorDetail(code="FAILED", message=f"reason {i}", thing_name=f"edge-{i}") for i in range(3)
)


def v2_observed(status: str, **counts: int) -> Observation:
    return observed(
        V2, status, metrics=Metrics(counts), error_details=FAILED_DEVICES[: counts.get("failed", 0)]
    )


def test_a_v2_rollout_that_settles_carries_its_device_results() -> None:
    # Given a rollout with 2 devices in progress, When it settles with 47 succeeded and 3 failed
    before = stored(V2, status="ACTIVE", metrics=Metrics({"succeeded": 45, "inProgress": 2, "failed": 3}))
    now = v2_observed("ACTIVE", succeeded=47, failed=3)
    changes = assess(before, now).changes
    found = build_notification(before, now, changes, observed_at=NOW, region=None).results
    # Then the notification counts the devices by status and names the failed ones
    assert changes == ("settled",)
    assert found is not None and (found.total, found.counts) == (50, {"succeeded": 47, "failed": 3})
    assert [(f.thing_name, f.code, f.message) for f in found.failures] == [
        (d.thing_name, d.code, d.message) for d in FAILED_DEVICES
    ]
    assert not found.truncated


def test_a_v2_deployment_that_ends_carries_results_and_flags_unnamed_failures() -> None:
    before = stored(V2, status="ACTIVE", metrics=Metrics({"succeeded": 1, "inProgress": 9}))
    now = observed(
        V2, "CANCELED", metrics=Metrics({"succeeded": 1, "failed": 9}), error_details=FAILED_DEVICES
    )
    found = build_notification(before, now, assess(before, now).changes, observed_at=NOW, region=None).results
    assert found is not None and found.counts == {"succeeded": 1, "failed": 9}
    assert len(found.failures) == 3 and found.truncated


def test_a_v2_rollout_still_moving_has_no_results() -> None:
    before = stored(V2, status="ACTIVE", metrics=Metrics({"succeeded": 1, "inProgress": 9}))
    now = v2_observed("ACTIVE", succeeded=2, inProgress=8)
    assert build_notification(before, now, ("status",), observed_at=NOW, region=None).results is None


# -- channel limits -----------------------------------------------------------------------------------


def heavy_results(failures: int = 25) -> Results:
    """Results far over any channel's limit: 25 failures of 30 KB each (unbounded, as a test may build)."""
    text = "😀" * 7_500
    return Results(
        total=failures,
        counts={"Failure": failures},
        failures=tuple(ResultFailure(group_arn=f"g-{i}", message=text) for i in range(failures)),
    )


def test_results_failures_are_cut_first_to_fit_sns_and_the_flags_set() -> None:
    # Given a notification whose results alone are far over SNS's limit, and a small error message
    huge = notification(status="Failed", error_message="boom", results=heavy_results())
    assert sns_message_size(huge) > SNS_MESSAGE_MAX_BYTES
    # When it is fitted
    fitted = fit_to_size(huge)
    # Then it fits by naming fewer failures (counts kept); the error message was not touched
    assert sns_message_size(fitted) <= SNS_MESSAGE_MAX_BYTES
    assert fitted.results is not None and 0 < len(fitted.results.failures) < 25
    assert fitted.results.truncated and fitted.truncated
    assert fitted.results.counts == {"Failure": 25}
    assert fitted.error_message == "boom"


def test_results_fit_an_eventbridge_entry_too() -> None:
    huge = notification(status="Failed", results=heavy_results())
    fitted = fit_to_eventbridge_entry(huge, source="ggwatch", detail_type="Deployment Status Change")
    assert utf8_size(fitted.to_json()) < EVENTBRIDGE_ENTRY_MAX_BYTES
    assert fitted.results is not None and fitted.results.truncated


def test_the_results_schema_is_camel_case_with_every_field() -> None:
    body = json.loads(notification(results=results.from_group_reports([report(0, "Failure", "x")])).to_json())
    assert set(body["results"]) == {"total", "counts", "failures", "truncated", "error"}
    assert set(body["results"]["failures"][0]) == {
        "groupArn",
        "deploymentId",
        "thingName",
        "code",
        "message",
        "errorDetails",
    }
    assert json.loads(notification().to_json())["results"] is None


# -- Slack --------------------------------------------------------------------------------------------


def slack_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_slack_shows_a_compact_summary_of_the_results() -> None:
    found = results.from_group_reports(
        [report(i) for i in range(48)] + [report(48, "Failure", "no role"), report(49, "Failure", "gone")]
    )
    text = slack_text(render(notification(status="Completed", results=found)))
    assert (
        "*Results:* 48 succeeded · 2 failed — first failures: `group-48`: `E: no role`, `group-49`: `E: gone`"
        in text
    )


def test_slack_names_three_failures_and_counts_the_rest_even_those_cut_from_the_list() -> None:
    found = results.from_group_reports(report(i, "Failure", "x") for i in range(40))
    text = slack_text(render(notification(status="Failed", results=found)))
    assert "`group-2`: `E: x`, and 37 more" in text and "group-3`" not in text


def test_slack_escapes_every_text_of_the_results() -> None:
    found = Results(
        total=2,
        counts={HOSTILE: 1, "failed": 1},
        failures=(ResultFailure(thing_name=HOSTILE, code=HOSTILE, message=HOSTILE),),
    )
    payload = render(notification(deployment_kind="greengrass-v2", status="FAILED", results=found))
    assert "<" not in slack_text(payload)
    assert slack_text(payload).count("&lt;!channel&gt;") >= 3


def test_slack_says_when_the_results_could_not_be_read() -> None:
    payload = render(notification(status="Failed", results=results.unavailable(f"AccessDenied {HOSTILE}")))
    assert "*Results:* not available `AccessDenied &lt;!channel&gt;" in slack_text(payload)
    assert "<" not in slack_text(payload)
