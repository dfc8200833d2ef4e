"""The `ggwatch` CLI, run in-process through `main(argv)`, against moto and the Greengrass fake over HTTP.

Every expected failure must be one `ggwatch: error: ...` line on stderr with exit code 2 (usage or
configuration) or 1 (operational), never a traceback.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import COUNTERS, DeploymentKind
from ggwatch_cli.commands.local import EVENT_PREFIX, READY
from ggwatch_cli.main import main
from ggwatch_local.event_capture import EventCapture, EventCaptureQueue, create_event_capture
from ggwatch_local.greengrass import BulkDeploymentFake, Fault, Step
from ggwatch_local.greengrass_v2 import (
    DeviceFailure,
    Execution,
    FleetFake,
    FleetLife,
    FleetStep,
    Target,
    faults,
)
from tests.conftest import REGION
from tests.integration.conftest import TopicWithSubscriber

KIND = DeploymentKind.GREENGRASS_V1_BULK
V1_ONLY = ("--kind", "greengrass-v1-bulk")
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def json(self) -> Any:
        return json.loads(self.out)

    def assert_one_error_line(self, code: int, *fragments: str) -> None:
        """Exit code `code`, nothing on stdout, one `ggwatch: error:` line holding every fragment."""
        assert self.code == code, (self.code, self.out, self.err)
        assert "Traceback" not in self.err
        assert self.err.startswith("ggwatch: error: ")
        assert self.err.count("\n") == 1, self.err
        for fragment in fragments:
            assert fragment in self.err


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `ggwatch ARGS...` in-process and return its exit code and output."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, deployments_table: str, topic: TopicWithSubscriber) -> str:
    """The CLI's own variables point at the moto table and topic; returns the table name."""
    monkeypatch.setenv("GGWATCH_TABLE_NAME", deployments_table)
    monkeypatch.setenv("GGWATCH_TOPIC_ARN", topic.topic_arn)
    return deployments_table


def stored(table: str, deployment_id: str) -> Any:
    return DynamoDeploymentRepository(table, boto3.client("dynamodb", region_name=REGION)).get(
        KIND, deployment_id
    )


# -- track / untrack ------------------------------------------------------------------------------
def test_track_and_untrack_are_idempotent(cli: Cli, configured: str) -> None:
    assert cli("track", "bd-1", "bd-2").lines == ["bd-1: tracked", "bd-2: tracked"]
    again = cli("track", "bd-1")
    assert (again.code, again.lines) == (0, ["bd-1: already tracked"])
    assert stored(configured, "bd-1").active

    assert cli("untrack", "bd-1").lines == ["bd-1: untracked"]
    again = cli("untrack", "bd-1", "never-tracked")
    assert (again.code, again.lines) == (0, ["bd-1: not tracked", "never-tracked: not tracked"])
    assert not stored(configured, "bd-1").active
    assert cli("track", "bd-1").lines == ["bd-1: tracked"]


def test_an_invalid_id_is_a_usage_error_and_nothing_is_tracked(cli: Cli, configured: str) -> None:
    result = cli("track", "bd-1", "bad/id")
    result.assert_one_error_line(2, "invalid deployment ID 'bad/id'")
    assert stored(configured, "bd-1") is None


def test_tracking_a_finished_deployment_says_it_is_finished(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake
) -> None:
    greengrass.add("bd-1", [Step("Completed", records_processed=3)])
    cli("track", "bd-1")
    cli("poll")
    assert cli("track", "bd-1").lines == ["bd-1: already tracked (finished: Completed)"]


# -- list -----------------------------------------------------------------------------------------
def test_list_shows_an_aligned_table_and_json(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake
) -> None:
    # Given one running and one finished deployment, both polled
    greengrass.add("bd-running", [Step("Running", records_processed=4, retry_attempts=1)])
    greengrass.add("bd-done", [Step("Completed", records_processed=10)])
    cli("track", "bd-running", "bd-done")
    cli("poll")

    # When listed for a person, the columns line up and the active deployment comes first
    lines = cli("list").lines
    assert lines[0].split("  ")[0] == "DEPLOYMENT ID" and re.search(r"LAST CHANGE +REGION$", lines[0])
    assert [line.split()[-1] for line in lines[1:]] == [REGION, REGION]  # stored as the stack's region
    assert lines[1].split()[:4] == ["bd-running", "greengrass-v1-bulk", "active", "Running"]
    assert lines[2].split()[:4] == ["bd-done", "greengrass-v1-bulk", "finished", "Completed"]
    progress_column = lines[0].index("PROGRESS")
    assert lines[1][progress_column:].startswith("4 processed, 0 invalid, 1 retries")
    status_column = lines[0].index("STATUS")
    assert lines[1][status_column:].startswith("Running") and lines[2][status_column:].startswith("Completed")

    # And for a script, the same facts as JSON
    listed = {d["deploymentId"]: d for d in cli("list", "--json").json()}
    assert listed["bd-done"]["state"] == "finished"
    assert listed["bd-running"]["metrics"] == {
        "recordsProcessed": 4,
        "invalidInputRecords": 0,
        "retryAttempts": 1,
    }
    assert listed["bd-running"]["lastChangedAt"] is not None
    assert listed["bd-running"]["region"] == REGION

    # And --active leaves finished ones out
    assert [d["deploymentId"] for d in cli("list", "--active", "--json").json()] == ["bd-running"]


JSON_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def timestamps(value: Any) -> list[str]:
    """Every value of a key ending in `At`, at any depth."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k.endswith("At") and isinstance(v, str)]
        return found + [t for v in value.values() for t in timestamps(v)]
    if isinstance(value, list):
        return [t for v in value for t in timestamps(v)]
    return []


def test_json_output_has_one_timestamp_format_and_no_internal_keys(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake
) -> None:
    # Given a deployment that has been tracked and polled once, then changed
    greengrass.add("bd-1", [Step("Running"), Step("Completed")])
    cli("track", "bd-1")
    cli("poll")
    greengrass.advance("bd-1")

    # When every command that prints JSON runs
    outputs = [cli("poll", "--json"), cli("list", "--json"), cli("status", "--json", "bd-1")]

    # Then every timestamp is ISO 8601 in UTC with a Z, and no table key leaks out
    found = [t for result in outputs for t in timestamps(result.json())]
    assert {"observedAt", "trackedAt", "lastChangedAt"} <= {
        k for result in outputs for k in json.dumps(result.json()).split('"') if k.endswith("At")
    }
    assert found and all(JSON_TIMESTAMP.match(t) for t in found), found
    assert all("DEPLOYMENT#" not in result.out for result in outputs)
    assert outputs[0].json()["outcomes"] == [{"deploymentId": "bd-1", "result": "notified", "detail": None}]


def test_list_of_an_empty_table(cli: Cli, configured: str) -> None:
    assert cli("list").lines == ["no tracked deployments"]
    assert cli("list", "--json").json() == []


# -- status ---------------------------------------------------------------------------------------
def test_status_shows_greengrass_beside_the_stored_state(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake
) -> None:
    greengrass.add("bd-1", [Step("Initializing"), Step("Running", records_processed=5)])
    cli("track", "bd-1")
    cli("poll")
    greengrass.advance("bd-1")

    result = cli("status", "bd-1")
    assert result.code == 0
    assert result.lines[2].split() == ["status", "Running", "Initializing"]
    assert "the next poll publishes the change" in result.lines[-1]

    body = cli("status", "bd-1", "--json").json()
    assert body["greengrass"]["status"] == "Running"
    assert body["greengrass"]["metrics"]["recordsProcessed"] == 5
    assert body["stored"]["status"] == "Initializing"


def test_status_of_an_untracked_deployment(cli: Cli, configured: str, greengrass: BulkDeploymentFake) -> None:
    greengrass.add("bd-1", [Step("Running")])
    result = cli("status", "bd-1", "--json")
    assert (result.code, result.json()["stored"]) == (0, None)


def test_status_of_an_unknown_id(cli: Cli, configured: str, greengrass: BulkDeploymentFake) -> None:
    cli("status", "nope").assert_one_error_line(
        1, f"Greengrass in {REGION} does not know bulk deployment 'nope'"
    )


def test_status_when_greengrass_keeps_throttling(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake, no_retry_delay: None
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    greengrass.inject(Fault.throttle(), operation="GetBulkDeploymentStatus", times=10)
    cli("status", "bd-1").assert_one_error_line(1, "throttled", "try again")


def test_status_when_access_is_denied(cli: Cli, configured: str, greengrass: BulkDeploymentFake) -> None:
    denied = Fault(
        "server_error", http_status=403, error_code="AccessDeniedException", message="not authorized"
    )
    greengrass.inject(denied, operation="GetBulkDeploymentStatus")
    cli("status", "bd-1").assert_one_error_line(1, "AccessDeniedException", "not authorized")


def test_status_needs_the_table(cli: Cli, greengrass: BulkDeploymentFake) -> None:
    cli("status", "bd-1").assert_one_error_line(
        2, "no table name", "--table", "GGWATCH_TABLE_NAME", "--stack"
    )


# -- poll -----------------------------------------------------------------------------------------
def test_poll_prints_and_publishes_each_transition(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake, topic: TopicWithSubscriber
) -> None:
    greengrass.add(
        "bd-1", [Step("Initializing"), Step("Failed", records_processed=2, error_message="bad input")]
    )
    cli("track", "bd-1")

    first = cli("poll")
    assert first.lines == [
        "bd-1: (new) -> Initializing (0 processed, 0 invalid, 0 retries)",
        "polled 1: 1 transition",
    ]
    greengrass.advance("bd-1")
    second = cli("poll")
    assert second.lines[0] == "bd-1: Initializing -> Failed (2 processed, 0 invalid, 0 retries): bad input"
    assert second.err == ""

    assert [(d.body["previousStatus"], d.body["status"]) for d in topic.drain()] == [
        (None, "Initializing"),
        ("Initializing", "Failed"),
    ]
    assert cli("poll").lines == ["polled 0: 0 transitions"]


def test_library_logs_stay_off_stdout_and_verbose_shows_them_on_stderr(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    cli("track", "bd-1")
    result = cli("poll", "--json", "--verbose")
    assert result.json()["transitions"][0]["status"] == "Running"
    logged = [json.loads(line) for line in result.err.splitlines()]
    assert any(entry["message"] == "transition published" for entry in logged)
    assert cli("untrack", "bd-1").err == ""


def test_poll_dry_run_publishes_and_stores_nothing(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    configured: str,
    greengrass: BulkDeploymentFake,
    topic: TopicWithSubscriber,
) -> None:
    # Given a tracked deployment and no topic configured at all (a dry run needs none)
    monkeypatch.delenv("GGWATCH_TOPIC_ARN")
    greengrass.add("bd-1", [Step("Running", records_processed=1)])
    cli("track", "bd-1")
    before = stored(configured, "bd-1")

    result = cli("poll", "--dry-run", "--json")

    assert result.code == 0
    body = result.json()
    assert body["dryRun"] is True
    assert [(t["deploymentId"], t["status"]) for t in body["transitions"]] == [("bd-1", "Running")]
    assert stored(configured, "bd-1") == before
    assert topic.drain() == []
    assert cli("poll", "--dry-run").lines[0] == "dry run: nothing was published or stored"


def test_poll_needs_a_topic_unless_dry_run(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, configured: str
) -> None:
    monkeypatch.delenv("GGWATCH_TOPIC_ARN")
    cli("poll").assert_one_error_line(2, "no topic ARN", "--topic-arn", "GGWATCH_TOPIC_ARN", "TopicArn")


def test_poll_names_both_missing_settings_at_once(cli: Cli) -> None:
    cli("poll").assert_one_error_line(2, "no table name", "no topic ARN")


def test_poll_reports_deployments_it_could_not_poll(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake, no_retry_delay: None
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    cli("track", "bd-1")
    greengrass.inject(Fault.throttle(), operation="GetBulkDeploymentStatus", times=10)

    result = cli("poll")

    result_line = next(line for line in result.lines if line.startswith("bd-1"))
    assert result_line.startswith("bd-1: failed")
    Result(result.code, "", result.err).assert_one_error_line(1, "1 of 1 deployments could not be polled")


# -- discover -------------------------------------------------------------------------------------
def test_discover_tracks_only_unfinished_unknown_deployments(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake
) -> None:
    # Given a finished, a running, and an already tracked deployment
    greengrass.add("bd-done", [Step("Completed")])
    greengrass.add("bd-running", [Step("Running")])
    greengrass.add("bd-known", [Step("Running")])
    cli("track", "bd-known")

    # When discovering in a dry run, only the running unknown one would be tracked, and nothing is
    dry = cli("discover", *V1_ONLY, "--dry-run")
    assert dry.lines[0] == "bd-running: would track (Running)"
    assert stored(configured, "bd-running") is None

    # When discovering for real, it is tracked with its ARN, and the others are left alone
    result = cli("discover", *V1_ONLY)
    assert result.code == 0
    assert result.lines == [
        "bd-running: tracked (Running)",
        "found 3 bulk deployments: 1 already known, 1 finished, 1 tracked",
        "the next poll stores and notifies the status of each deployment tracked now",
    ]
    assert stored(configured, "bd-running").deployment_arn.endswith("/bd-running")
    assert stored(configured, "bd-running").tracked_by == "discover"
    assert stored(configured, "bd-done") is None
    assert cli("discover", *V1_ONLY).lines == ["found 3 bulk deployments: 2 already known, 1 finished"]


def test_list_after_discover_shows_the_status_discover_saw_until_the_first_poll(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake
) -> None:
    # Given a running deployment that discover tracks, and one tracked by hand
    greengrass.add("bd-1", [Step("Running"), Step("Completed")])
    cli("discover", *V1_ONLY)
    cli("track", "bd-2")

    # Then list shows what discover saw, and that no poll has stored a status yet; JSON says who
    # tracked it and what it saw, with no status of its own
    listed = cli("list").out
    assert re.search(
        r"^bd-1 +greengrass-v1-bulk +active +Running \(at discovery; not polled yet\)", listed, re.M
    )
    assert re.search(r"^bd-2 +greengrass-v1-bulk +active +\(not polled yet\)", listed, re.M)
    listed_json = {d["deploymentId"]: d for d in cli("list", "--json").json()}
    assert [
        (d["status"], d["discoveredStatus"], d["trackedBy"])
        for d in (listed_json["bd-1"], listed_json["bd-2"])
    ] == [
        (None, "Running", "discover"),
        (None, None, "manual"),
    ]

    # When the poller observes it, its own status replaces what discover saw (and is notified)
    greengrass.advance("bd-1")
    cli("poll")
    assert re.search(r"^bd-1 +greengrass-v1-bulk +\w+ +Completed ", cli("list").out, re.MULTILINE)


def test_discover_leaves_untracked_deployments_untracked(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    cli("track", "bd-1")
    cli("untrack", "bd-1")
    cli("discover", *V1_ONLY)
    assert not stored(configured, "bd-1").active


# -- Greengrass V2 --------------------------------------------------------------------------------
V2 = ("--kind", "greengrass-v2")
V2_KIND = DeploymentKind.GREENGRASS_V2


def stored_v2(table: str, deployment_id: str) -> Any:
    return DynamoDeploymentRepository(table, boto3.client("dynamodb", region_name=REGION)).get(
        V2_KIND, deployment_id
    )


def rolling_out(name: str, target: str, *executions: Execution) -> FleetLife:
    return FleetLife(name, Target("thinggroup", target), (FleetStep("ACTIVE", "IN_PROGRESS", executions),))


def test_track_and_untrack_a_v2_deployment_by_its_kind(cli: Cli, configured: str) -> None:
    assert cli("track", *V2, "d-1").lines == ["d-1: tracked"]
    assert cli("track", *V2, "d-1").lines == ["d-1: already tracked"]
    assert stored_v2(configured, "d-1").active
    # The same ID of the other kind is another deployment
    assert stored(configured, "d-1") is None
    assert cli("untrack", "d-1").lines == ["d-1: not tracked"]

    assert cli("untrack", *V2, "d-1").lines == ["d-1: untracked"]
    assert not stored_v2(configured, "d-1").active


def test_an_unknown_kind_is_a_usage_error(cli: Cli, configured: str) -> None:
    result = cli("track", "--kind", "greengrass-v3", "d-1")
    assert result.code == 2 and "invalid choice: 'greengrass-v3'" in result.err


def test_status_of_a_v2_deployment_shows_name_target_and_device_counts(
    cli: Cli, configured: str, fleet: FleetFake
) -> None:
    # Given a rollout to three devices: one succeeded, one failed, one applying
    fleet.add(
        rolling_out(
            "telemetry 2.4.1",
            "line-3",
            Execution("gw-1", "SUCCEEDED"),
            Execution("gw-2", "FAILED", DeviceFailure("component crashed")),
            Execution("gw-3", "IN_PROGRESS"),
        ),
        "d-1",
    )
    cli("track", *V2, "d-1")

    # When asked, Greengrass's answer is shown beside the stored state (not polled yet)
    result = cli("status", *V2, "d-1")
    assert result.code == 0, result.err
    rows = {row[0]: row[1:] for row in (re.split(r"\s{2,}", line) for line in result.lines[2:])}
    assert result.lines[0] == f"Greengrass V2 deployment d-1 in {REGION}"
    assert rows["status"] == ["ACTIVE", "-"]
    assert rows["name"] == ["telemetry 2.4.1", "-"]
    assert rows["target"] == [f"arn:aws:iot:{REGION}:{fleet.account}:thinggroup/line-3", "-"]
    assert [rows[n][0] for n in ("succeeded", "failed", "in progress", "queued")] == ["1", "1", "1", "0"]
    assert rows["tracking"] == ["-", "active"]

    # And scripts get the same facts under the notification's names
    body = cli("status", *V2, "d-1", "--json").json()
    assert body["deploymentKind"] == "greengrass-v2"
    now = body["greengrass"]
    assert (now["status"], now["deploymentName"], now["terminal"]) == ("ACTIVE", "telemetry 2.4.1", False)
    assert now["metrics"]["failed"] == 1 and now["metrics"]["inProgress"] == 1
    assert now["deploymentArn"] == f"arn:aws:greengrass:{REGION}:{fleet.account}:deployments:d-1"
    assert body["stored"]["deploymentKind"] == "greengrass-v2"


def test_status_of_an_untracked_or_unknown_v2_deployment(cli: Cli, configured: str, fleet: FleetFake) -> None:
    fleet.add(rolling_out("hotfix", "line-4", Execution("gw-9", "QUEUED")), "d-1")
    result = cli("status", *V2, "d-1")
    assert "'ggwatch track --kind greengrass-v2 d-1'" in result.lines[-1]

    cli("status", *V2, "nope").assert_one_error_line(
        1, f"Greengrass in {REGION} does not know Greengrass V2 deployment 'nope'"
    )


def test_list_shows_v2_deployments_with_their_kind(cli: Cli, configured: str) -> None:
    cli("track", *V2, "d-1")
    cli("track", "bd-1")
    lines = cli("list").lines
    assert {tuple(re.split(r"\s{2,}", line)[:4]) for line in lines[1:]} == {
        ("d-1", "greengrass-v2", "active", "(not polled yet)"),
        ("bd-1", "greengrass-v1-bulk", "active", "(not polled yet)"),
    }
    listed = {d["deploymentId"]: d for d in cli("list", "--json").json()}
    assert listed["d-1"]["deploymentKind"] == "greengrass-v2"
    assert tuple(listed["d-1"]["metrics"]) == COUNTERS[V2_KIND]


def test_discover_tracks_the_active_latest_revision_of_each_v2_target(
    cli: Cli, configured: str, fleet: FleetFake
) -> None:
    # Given an active deployment, a completed one, one already tracked, and a target whose first
    # revision a newer one replaced
    fleet.add(rolling_out("running", "line-1", Execution("gw-1", "IN_PROGRESS")), "d-running")
    fleet.add(
        FleetLife(
            "done",
            Target("thing", "gw-2"),
            (FleetStep("COMPLETED", "COMPLETED", (Execution("gw-2", "SUCCEEDED"),)),),
        ),
        "d-done",
    )
    fleet.add(rolling_out("known", "line-2", Execution("gw-3", "IN_PROGRESS")), "d-known")
    fleet.add(rolling_out("first", "line-3", Execution("gw-4", "IN_PROGRESS")), "d-old")
    newer = fleet.revise("d-old", [FleetStep("ACTIVE", "IN_PROGRESS", (Execution("gw-4", "QUEUED"),))])
    cli("track", *V2, "d-known")

    # When discovering V2 in a dry run, nothing is tracked
    dry = cli("discover", *V2, "--dry-run")
    assert sorted(dry.lines[:-1]) == sorted(
        [f"{newer}: would track (ACTIVE)", "d-running: would track (ACTIVE)"]
    )
    assert stored_v2(configured, "d-running") is None

    # When discovering for real, the active latest revisions are tracked with their ARN, by discover
    result = cli("discover", *V2)
    assert result.code == 0, result.err
    assert result.lines[-2:] == [
        "found 4 Greengrass V2 deployments: 1 already known, 1 not active, 2 tracked",
        "the next poll stores and notifies the status of each deployment tracked now",
    ]
    running = stored_v2(configured, "d-running")
    assert running.deployment_arn == f"arn:aws:greengrass:{REGION}:{fleet.account}:deployments:d-running"
    assert running.tracked_by == "discover"
    assert stored_v2(configured, newer).active
    assert stored_v2(configured, "d-done") is None
    assert stored_v2(configured, "d-old") is None


def test_discover_without_a_kind_discovers_both(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake, fleet: FleetFake
) -> None:
    greengrass.add("bd-1", [Step("Running")])
    fleet.add(rolling_out("running", "line-1", Execution("gw-1", "IN_PROGRESS")), "d-1")

    result = cli("discover")

    assert result.code == 0, result.err
    assert "found 1 bulk deployment: 1 tracked" in result.lines
    assert "found 1 Greengrass V2 deployment: 1 tracked" in result.lines
    assert stored(configured, "bd-1").active and stored_v2(configured, "d-1").active


def test_discover_without_a_kind_warns_about_a_kind_it_cannot_reach_and_discovers_the_others(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake, fleet: FleetFake, no_retry_delay: None
) -> None:
    # Given V1 answering only errors (as after its end of life) and a running V2 deployment
    down = Fault("server_error", http_status=503, error_code="ServiceUnavailableException", message="gone")
    greengrass.inject(down, operation="ListBulkDeployments", times=100)
    fleet.add(rolling_out("running", "line-1", Execution("gw-1", "IN_PROGRESS")), "d-1")

    # When discovering every kind, V1 is one warning and V2 is still discovered
    result = cli("discover")
    assert result.code == 0, result.err
    assert result.err.startswith("ggwatch: warning: cannot discover bulk deployments: ")
    assert "ServiceUnavailableException" in result.err and result.err.count("\n") == 1
    assert "found 1 Greengrass V2 deployment: 1 tracked" in result.lines
    assert stored_v2(configured, "d-1").active

    # But asked for V1 alone, its failure is the command's failure
    cli("discover", *V1_ONLY).assert_one_error_line(1, "ServiceUnavailableException")


def test_discover_fails_when_no_kind_can_be_discovered(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake, fleet: FleetFake, no_retry_delay: None
) -> None:
    down = Fault("server_error", http_status=503, error_code="ServiceUnavailableException", message="gone")
    greengrass.inject(down, operation="ListBulkDeployments", times=100)
    fleet.inject(faults.server_error("greengrassv2"), operation="ListDeployments", times=100)

    result = cli("discover")

    assert result.code == 1
    assert result.err.startswith("ggwatch: warning: cannot discover bulk deployments")
    assert result.err.splitlines()[-1].startswith("ggwatch: error: ")


# -- test-notify ----------------------------------------------------------------------------------
def test_test_notify_publishes_a_marked_notification_through_the_topic(
    cli: Cli, configured: str, topic: TopicWithSubscriber
) -> None:
    # When the operator sends two test notifications
    first = cli("test-notify")
    second = cli("test-notify", "--status", "Failed", "--json")

    # Then each reached the topic's subscriber, marked as a test, as its own transition
    assert first.code == 0 and "published test notification ggwatch-test-" in first.out
    delivered = topic.drain()
    assert [d.body["eventType"] for d in delivered] == ["DeploymentTest", "DeploymentTest"]
    assert [d.attributes["status"] for d in delivered] == ["Test", "Failed"]
    assert delivered[0].body["transitionId"] != delivered[1].body["transitionId"]
    assert second.json()["notification"] == delivered[1].body
    # and nothing was stored
    assert cli("list").lines == ["no tracked deployments"]


def test_test_notify_needs_only_a_topic(cli: Cli) -> None:
    cli("test-notify").assert_one_error_line(2, "no topic ARN", "--topic-arn", "TopicArn")
    cli("test-notify", "--topic-arn", "x" * 3000).assert_one_error_line(
        2, "a topic ARN looks like arn:aws:sns:REGION:ACCOUNT:NAME", "(3000 characters)"
    )


# -- configuration from a deployed stack ---------------------------------------------------------
def create_stack(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=name, TemplateBody=json.dumps(template)
    )


def test_stack_outputs_provide_the_table_and_topic(
    cli: Cli, deployments_table: str, topic: TopicWithSubscriber, greengrass: BulkDeploymentFake
) -> None:
    create_stack("ggwatch", {"TableName": deployments_table, "TopicArn": topic.topic_arn})
    greengrass.add("bd-1", [Step("Running")])

    assert cli("track", "--stack", "ggwatch", "bd-1").lines == ["bd-1: tracked"]
    assert cli("poll", "--stack", "ggwatch").code == 0
    assert [d.body["status"] for d in topic.drain()] == ["Running"]


def capture_events(bus_name: str) -> tuple[EventCaptureQueue, EventCapture]:
    """A rule on `bus_name` that sends every ggwatch event to a queue, and a reader of that queue."""
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    capture = create_event_capture(events, sqs, bus_name, f"capture-{bus_name}")
    return capture, EventCapture(sqs, capture.queue_url)


def test_poll_puts_each_transition_on_the_stacks_bus_as_the_poller_does(
    cli: Cli, deployments_table: str, topic: TopicWithSubscriber, greengrass: BulkDeploymentFake
) -> None:
    # Given a stack whose outputs name its bus, and a rule on that bus capturing ggwatch's events
    _, captured = capture_events("ggwatch-ops")
    outputs = {"TableName": deployments_table, "TopicArn": topic.topic_arn, "EventBusName": "ggwatch-ops"}
    create_stack("ggwatch", outputs)
    greengrass.add("bd-1", [Step("Running"), Step("Failed", error_message="bad input")])
    cli("track", "--stack", "ggwatch", "bd-1")

    # When it is polled twice, through a transition each time
    assert cli("poll", "--stack", "ggwatch").code == 0
    greengrass.advance("bd-1")
    assert cli("poll", "--stack", "ggwatch").code == 0

    # Then each transition went to the topic and, as the same transitionId, to the bus
    published = [(d.body["status"], d.body["transitionId"]) for d in topic.drain()]
    events = captured.drain()
    assert [(e.status, e.transition_id) for e in events] == published
    assert [(e.detail_type, e.deployment_id) for e in events] == [("Deployment Status Change", "bd-1")] * 2


def test_poll_publishes_to_the_topic_alone_when_no_bus_is_known(
    cli: Cli, configured: str, greengrass: BulkDeploymentFake, topic: TopicWithSubscriber
) -> None:
    # Given no bus in the environment and no stack, and a rule capturing ggwatch events on the default bus
    _, captured = capture_events("default")
    greengrass.add("bd-1", [Step("Running")])
    cli("track", "bd-1")

    # When it is polled
    assert cli("poll").code == 0

    # Then the topic has the transition and no bus has
    assert [d.body["status"] for d in topic.drain()] == ["Running"]
    assert captured.drain() == []


def test_an_unknown_stack_is_a_configuration_error(cli: Cli, moto_aws: None) -> None:
    cli("list", "--stack", "nope").assert_one_error_line(2, "stack 'nope' does not exist in us-east-1")


def test_a_stack_without_the_outputs_says_which_is_missing(cli: Cli, moto_aws: None) -> None:
    create_stack("other-app", {"Something": "else"})
    cli("list", "--stack", "other-app").assert_one_error_line(
        2, "stack 'other-app' has no TableName output", "--table"
    )


# -- AWS failures ---------------------------------------------------------------------------------
def test_no_credentials(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    cli("list", "--table", "t").assert_one_error_line(2, "no AWS credentials found", "--profile")


def test_an_unknown_profile(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    cli("list", "--table", "t", "--profile", "nope").assert_one_error_line(2, "nope", "--profile")


def test_a_table_that_does_not_exist(cli: Cli, moto_aws: None) -> None:
    cli("list", "--table", "missing").assert_one_error_line(
        1, "DynamoDB table 'missing' (from --table) does not exist in us-east-1"
    )


def test_an_unreachable_endpoint(cli: Cli, monkeypatch: pytest.MonkeyPatch, no_retry_delay: None) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{port}")
    cli("track", "--table", "t", "bd-1").assert_one_error_line(1, "Could not connect", str(port))


# -- usage ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [["track"], ["untrack"], ["list"], ["status"], ["poll"], ["discover"], ["test-notify"], ["local", "up"]],
)
def test_every_command_has_help_with_examples(cli: Cli, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.code == 0
    assert "examples:\n  ggwatch" in result.out


AWS_COMMANDS = [["track", "bd-1"], ["untrack", "bd-1"], ["list"], ["status", "bd-1"], ["poll"], ["discover"]]


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=lambda command: command[0])
def test_every_command_exits_2_for_configuration_and_1_when_the_operation_fails(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    topic: TopicWithSubscriber,
    greengrass: BulkDeploymentFake,
    command: list[str],
) -> None:
    # Given a deployment Greengrass knows, so that every command reaches the table
    greengrass.add("bd-1", [Step("Running")])
    monkeypatch.setenv("GGWATCH_TOPIC_ARN", topic.topic_arn)

    # Without a table to use, the operator must fix the configuration: 2
    cli(*command).assert_one_error_line(2, "no table name")
    # With a table that does not exist, the operation fails: 1
    cli(*command, "--table", "missing").assert_one_error_line(1, "'missing'", "does not exist")


def test_usage_errors_are_one_line(cli: Cli) -> None:
    cli("list", "--no-such-flag").assert_one_error_line(2, "--no-such-flag")
    cli().assert_one_error_line(2, "COMMAND")


# -- local up -------------------------------------------------------------------------------------
@dataclass
class LocalUp:
    """`ggwatch local up` running: its process, the variables it exported, and its later lines."""

    process: subprocess.Popen[str]
    exported: dict[str, str]
    header: list[str]
    lines: queue.Queue[str]

    def wait_for_line(self, prefix: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line.rstrip("\n")
        pytest.fail(f"`ggwatch local up` printed no line starting with {prefix!r}")


@pytest.fixture
def local_up() -> Iterator[LocalUp]:
    """`python -m ggwatch_cli.main local up` in a subprocess, once it printed its exports."""
    pytest.importorskip("ggwatch_local.stack")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("layers/ggwatch", "tools", ".")),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ggwatch_cli.main", "local", "up", "--deployments", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield read_until_ready(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def read_until_ready(process: subprocess.Popen[str], timeout: float = 60) -> LocalUp:
    """The lines up to the ready line; fails with the command's stderr if they never come."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in process.stdout or []:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    header: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith(READY):
            exported = {
                name: value
                for name, _, value in (
                    h.removeprefix("export ").partition("=") for h in header if h.startswith("export ")
                )
            }
            return LocalUp(process, exported, header, lines)
        header.append(line.rstrip("\n"))
    process.kill()
    pytest.fail(f"`ggwatch local up` never got ready; stderr: {process.communicate()[1]}")


def test_local_up_prints_a_working_environment_and_stops_cleanly_on_ctrl_c(local_up: LocalUp) -> None:
    process, exported = local_up.process, local_up.exported
    # The exported variables reach the local DynamoDB and its table
    assert {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_GREENGRASS", "TABLE_NAME", "TOPIC_ARN"} <= exported.keys()
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=exported["AWS_ENDPOINT_URL"],
        region_name=exported["AWS_REGION"],
        aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
    )
    assert dynamodb.describe_table(TableName=exported["TABLE_NAME"])["Table"]["TableStatus"] == "ACTIVE"
    # Ctrl-C ends it with exit code 0 and no traceback
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "local stack stopped" in err


def test_local_up_warns_that_its_exports_hide_the_users_profiles(local_up: LocalUp) -> None:
    assert local_up.exported["AWS_CONFIG_FILE"] == os.devnull
    assert local_up.header[0].startswith(
        "unset GGWATCH_STACK_NAME GGWATCH_TABLE_NAME GGWATCH_TOPIC_ARN GGWATCH_EVENT_BUS_NAME AWS_PROFILE"
    )
    comments = " ".join(line.removeprefix("# ") for line in local_up.header if line.startswith("#"))
    warning = comments[comments.index("note:") :]
    assert "AWS_CONFIG_FILE" in warning and "your profiles are hidden" in warning
    assert "unset AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE" in warning


def in_the_other_shell(local_up: LocalUp, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's environment as a shell's once local up's exports were pasted into it."""
    for name in [n for n in os.environ if n.startswith(("GGWATCH_", "AWS_"))]:
        monkeypatch.delenv(name)
    for name, value in local_up.exported.items():
        monkeypatch.setenv(name, value.strip("'"))


def test_local_up_prints_what_the_local_slack_channels_receive(
    local_up: LocalUp, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shell with the exported variables
    in_the_other_shell(local_up, monkeypatch)

    # When a test notification is published there
    assert cli("test-notify").code == 0

    # Then local up hands it to the Slack notifier and prints what the channel received
    line = local_up.wait_for_line("slack #")
    assert "ggwatch-test-" in line


def test_local_up_prints_the_events_a_poll_put_on_the_bus(
    local_up: LocalUp, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shell with the exported variables, and the seeded bulk deployment tracked there
    in_the_other_shell(local_up, monkeypatch)
    seeded = [
        line.split()[3].rstrip(":") for line in local_up.header if line.startswith("# bulk deployment ")
    ]
    assert cli("track", *seeded).code == 0

    # When it is polled there
    polled = cli("poll", "--json")
    assert polled.code == 0, polled.err

    # Then local up prints the event the poll put on the bus: its detail-type, deployment, status and
    # the transitionId the poll published
    [transition] = polled.json()["transitions"]
    line = local_up.wait_for_line(EVENT_PREFIX)
    assert line == (
        f'{EVENT_PREFIX}"Deployment Status Change" {seeded[0]} {transition["status"]} '
        f"transitionId={transition['transitionId']}"
    )
