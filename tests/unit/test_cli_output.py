"""What operators and scripts read: aligned tables, one line per transition, stable JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from ggwatch.domain.models import DeploymentKind, Metrics, Observation, TrackedDeployment
from ggwatch.domain.notification import Notification
from ggwatch.services.poller import PollOutcome, PollReport
from ggwatch_cli.output import (
    deployment_json,
    deployments_table,
    one_line,
    poll_json,
    poll_report,
    progress,
    state_of,
    status_json,
    status_report,
    table,
    timestamp,
    transition_line,
)

KIND = DeploymentKind.GREENGRASS_V1_BULK
TRACKED_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def stored(deployment_id: str = "bd-1", **fields: object) -> TrackedDeployment:
    return TrackedDeployment.model_validate(
        {"kind": KIND, "deployment_id": deployment_id, "tracked_at": TRACKED_AT, **fields}
    )


def observed(status: str = "Running", **fields: object) -> Observation:
    return Observation.model_validate({"kind": KIND, "deployment_id": "bd-1", "status": status, **fields})


def notification(previous: str | None, status: str, **fields: object) -> Notification:
    values: dict[str, object] = {
        "deployment_kind": KIND.value,
        "transition_id": "t-1",
        "deployment_id": "bd-1",
        "deployment_arn": None,
        "region": "us-east-1",
        "previous_status": previous,
        "status": status,
        "terminal": False,
        "changes": ("status",),
        "metrics": Metrics({"recordsProcessed": 6, "invalidInputRecords": 2, "retryAttempts": 1}),
        "error_message": None,
        "error_details": (),
        "created_at": None,
        "observed_at": "2025-03-01T12:00:00+00:00",
        "tags": {},
    }
    return Notification.model_validate({**values, **fields})


def test_table_pads_columns_and_right_aligns_numbers() -> None:
    text = table(("NAME", "N"), [("a", "1"), ("longer", "100")], right={1})
    assert text.splitlines() == ["NAME      N", "a         1", "longer  100"]


def test_deployments_table_lines_up_every_column() -> None:
    # Given deployments with cells of different widths
    rows = [
        stored("bd-1", status="Running", metrics=Metrics({"recordsProcessed": 7})),
        stored("a-much-longer-deployment-id", active=False, status="Completed"),
    ]
    # When rendered
    lines = deployments_table(rows).splitlines()
    # Then each header starts its column on every line
    header = lines[0]
    for name in ("STATE", "STATUS", "LAST CHANGE"):
        column = header.index(name)
        assert all(line[column - 2 : column] == "  " for line in lines[1:])
    assert lines[1].split()[:4] == ["bd-1", "greengrass-v1-bulk", "active", "Running"]
    assert lines[2].split()[:4] == [
        "a-much-longer-deployment-id",
        "greengrass-v1-bulk",
        "finished",
        "Completed",
    ]


def test_state_tells_finished_from_untracked() -> None:
    assert state_of(stored()) == "active"
    assert state_of(stored(active=False, status="Failed")) == "finished"
    assert state_of(stored(active=False, status="Running")) == "untracked"


def test_timestamp_is_utc_to_the_second_whatever_the_zone() -> None:
    moment = datetime(2025, 3, 1, 14, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert timestamp(moment) == "2025-03-01 12:30:05Z"
    assert timestamp(None) == "-"


def test_one_line_flattens_and_cuts_long_errors() -> None:
    assert one_line("a\n  b") == "a b"
    assert len(one_line("x" * 500)) == 120
    assert one_line(None) == "-"


def test_deployment_json_uses_the_notification_vocabulary() -> None:
    body = deployment_json(stored(status="Running", last_changed_at=TRACKED_AT))
    assert body["deploymentId"] == "bd-1"
    assert body["state"] == "active"
    assert body["metrics"] == {"recordsProcessed": 0, "invalidInputRecords": 0, "retryAttempts": 0}
    assert body["lastChangedAt"] == "2025-03-01T12:00:00Z"


def test_transition_lines() -> None:
    assert transition_line(notification(None, "Initializing")) == (
        "bd-1: (new) -> Initializing (6 processed, 2 invalid, 1 retries)"
    )
    failed = notification("Running", "Failed", error_message="boom\nand more")
    assert transition_line(failed).endswith("-> Failed (6 processed, 2 invalid, 1 retries): boom and more")
    errors_only = notification("Failed", "Failed", changes=("errors",))
    assert transition_line(errors_only).startswith("bd-1: Failed, errors changed")


def test_status_report_shows_both_sides_and_what_the_gap_means() -> None:
    report = status_report(observed("Running"), stored(status="Initializing"))
    lines = report.splitlines()
    assert lines[0] == "bulk deployment bd-1"
    assert lines[2].split() == ["status", "Running", "Initializing"]
    assert "the next poll publishes the change" in lines[-1]


def test_status_report_of_an_untracked_deployment_suggests_tracking_it() -> None:
    report = status_report(observed("Running"), None)
    assert "tracking" in report and "not tracked" in report
    assert "ggwatch track bd-1" in report.splitlines()[-1]
    assert status_json(observed("Running"), None)["stored"] is None


def test_poll_report_lists_transitions_then_what_was_not_polled_then_a_summary() -> None:
    report = PollReport(
        [
            PollOutcome("k1", "bd-1", "notified", (notification(None, "Running"),)),
            PollOutcome("k2", "bd-2", "failed", detail="source unavailable"),
            PollOutcome("k3", "bd-3", "unchanged"),
            PollOutcome("k4", None, "corrupt", detail="item lacks attribute 'trackedAt'"),
        ]
    )
    assert poll_report(report, dry_run=True).splitlines() == [
        "dry run: nothing was published or stored",
        "bd-1: (new) -> Running (6 processed, 2 invalid, 1 retries)",
        "bd-2: failed: source unavailable",
        "k4: corrupt: item lacks attribute 'trackedAt'",
        "polled 4: 1 transition, 1 unchanged, 1 failed, 1 corrupt",
    ]
    body = poll_json(report, dry_run=True)
    assert body["transitions"][0]["previousStatus"] is None
    assert [o["result"] for o in body["outcomes"]] == ["notified", "failed", "unchanged", "corrupt"]


# -- each kind's counters in its own words ---------------------------------------------------------
V2 = DeploymentKind.GREENGRASS_V2
V2_COUNTS = Metrics(
    {"queued": 0, "inProgress": 2, "succeeded": 45, "failed": 3, "rejected": 0, "timedOut": 0}
)


def test_progress_speaks_of_records_for_v1_and_of_devices_for_v2() -> None:
    assert progress(KIND, Metrics({"recordsProcessed": 6, "invalidInputRecords": 2})) == (
        "6 processed, 2 invalid, 0 retries"
    )
    assert progress(V2, V2_COUNTS) == "50 devices: 2 in progress, 45 succeeded, 3 failed"
    assert progress(V2, Metrics({"succeeded": 1})) == "1 device: 1 succeeded"
    assert progress(V2, Metrics.zero(V2)) == "no devices yet"


def test_the_list_shows_each_kinds_progress_and_nothing_before_the_first_poll() -> None:
    rows = [
        stored("bd-1", status="Running", metrics=Metrics({"recordsProcessed": 7})),
        stored("d-1", kind=V2, status="ACTIVE", metrics=V2_COUNTS),
        stored("d-2", kind=V2),
    ]
    lines = deployments_table(rows).splitlines()
    column = lines[0].index("PROGRESS")
    assert lines[1][column:].startswith("7 processed, 0 invalid, 0 retries")
    assert lines[2][column:].startswith("50 devices: 2 in progress, 45 succeeded, 3 failed")
    assert re.split(r"\s{2,}", lines[3])[:5] == ["d-2", "greengrass-v2", "active", "(not polled yet)", "-"]


def test_a_v2_status_report_shows_name_target_and_device_counts_beside_the_stored_state() -> None:
    target = "arn:aws:iot:us-east-1:123456789012:thinggroup/line-3"
    now = Observation(
        kind=V2,
        deployment_id="d-1",
        status="ACTIVE",
        metrics=V2_COUNTS,
        deployment_name="line 3",
        target_arn=target,
    )
    kept = stored("d-1", kind=V2, status="ACTIVE", deployment_name="line 3", target_arn=target)
    cells = [re.split(r"\s{2,}", line) for line in status_report(now, kept).splitlines()[2:]]
    rows = {row[0]: row[1:] for row in cells}
    assert status_report(now, kept).splitlines()[0] == "Greengrass V2 deployment d-1"
    assert rows["status"] == ["ACTIVE", "ACTIVE"]
    assert rows["target"] == [target, target]
    assert rows["succeeded"] == ["45", "0"]
    assert rows["timed out"] == ["0", "0"]
    assert "records processed" not in rows


def test_an_untracked_v2_deployment_is_tracked_with_its_kind() -> None:
    report = status_report(Observation(kind=V2, deployment_id="d-1", status="ACTIVE"), None)
    assert "'ggwatch track --kind greengrass-v2 d-1'" in report.splitlines()[-1]


def test_a_v2_transition_line_counts_devices() -> None:
    line = transition_line(
        notification("ACTIVE", "ACTIVE", deployment_kind=V2.value, metrics=V2_COUNTS, changes=("errors",))
    )
    assert line == "bd-1: ACTIVE, errors changed (50 devices: 2 in progress, 45 succeeded, 3 failed)"


def test_the_list_and_its_json_name_each_deployments_region_the_stacks_for_one_stored_without() -> None:
    rows = [stored("bd-home"), stored("bd-eu", region="eu-west-1")]
    lines = deployments_table(rows, "us-east-1").splitlines()
    assert [re.split(r"\s{2,}", line)[-1] for line in lines] == ["REGION", "us-east-1", "eu-west-1"]
    assert [deployment_json(d, "us-east-1")["region"] for d in rows] == ["us-east-1", "eu-west-1"]


def test_a_status_names_the_region_greengrass_was_asked_in() -> None:
    report = status_report(observed("Running"), stored(region="eu-west-1"), "eu-west-1")
    assert report.splitlines()[0] == "bulk deployment bd-1 in eu-west-1"
    body = status_json(observed("Running"), stored(region="eu-west-1"), "eu-west-1", "us-east-1")
    assert (body["region"], body["stored"]["region"]) == ("eu-west-1", "eu-west-1")
    # a deployment stored in the stack's region, asked about elsewhere, keeps the stack's region
    body = status_json(observed("Running"), stored(), "eu-west-1", "us-east-1")
    assert (body["region"], body["stored"]["region"]) == ("eu-west-1", "us-east-1")
