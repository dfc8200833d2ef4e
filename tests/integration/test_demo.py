"""`make demo` in a short mode: the whole loop runs by itself and its summary adds up.

No timing is asserted: at 20x speed a poll may miss a short-lived V1 status on a loaded machine, so the
V1 checks are about what must hold whatever the timing (final statuses, no repeats, channel filters,
one EventBridge event per notification).
A V2 life moves on only once a poll has seen its step, so its notifications are known in advance:
they are derived here from the simulator's lives and must each arrive exactly once.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass

from ggwatch_local.demo import UNKNOWN_LIFE, V2_LIVES, main
from ggwatch_local.demo.report import DemoReport, Tracked, results_summary
from ggwatch_local.greengrass import lives
from ggwatch_local.greengrass_v2 import FleetLife
from ggwatch_local.greengrass_v2 import lives as fleet_lives
from ggwatch_local.stack import SLACK_CHANNELS

TRACKING_FAILED = "TrackingFailed"
V1, V2 = "v1 bulk", "v2"
DEVICE_FAILURES = {"FAILED", "REJECTED", "TIMED_OUT"}
UNFINISHED = {"QUEUED", "IN_PROGRESS"}


@dataclass(frozen=True)
class Row:
    deployment: str
    kind: str
    life: str
    final: str
    chain: list[str]
    devices: str
    events: str
    messages: dict[str, int]

    @property
    def transitions(self) -> list[tuple[str, str]]:
        return list(zip(self.chain, self.chain[1:], strict=False))


def status_of(marked: str) -> str:
    """``ACTIVE+errors`` -> ``ACTIVE``: the status without the other reasons it was news."""
    return marked.split("+")[0]


def summary_rows(output: str) -> tuple[list[Row], str]:
    """The summary table (columns split on two or more spaces) and the closing line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("deployment  "))
    header = re.split(r"\s{2,}", lines[start])
    rows: list[Row] = []
    for line in lines[start + 1 :]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != len(header):
            return rows, line
        channels = {
            name.removeprefix("#"): int(cell) for name, cell in zip(header[7:], cells[7:], strict=True)
        }
        chain = cells[4].split(" → ")
        rows.append(Row(cells[0], cells[1], cells[2], cells[3], chain, cells[5], cells[6], channels))
    raise AssertionError(f"no closing line after the summary:\n{output}")


def expected_final(life: str) -> str:
    return TRACKING_FAILED if life == UNKNOWN_LIFE else lives.NAMED_LIVES[life]()[-1].status


def expected_v2_chain(life: FleetLife) -> list[str]:
    """What each step of a V2 life is news for, from the life itself: a new status, more failed
    devices than before, a rollout that finished (no device queued or running) since the step before."""
    chain, status, failures, settled = ["new"], None, 0, False
    for step in life.steps:
        now_failures = sum(e.status in DEVICE_FAILURES for e in step.executions)
        now_settled = bool(step.executions) and not any(e.status in UNFINISHED for e in step.executions)
        changes = [
            reason
            for reason, news in (
                ("errors", now_failures > failures),
                ("settled", now_settled and not settled),
            )
            if news
        ]
        if step.status != status or changes:
            chain.append("+".join([step.status, *changes]))
        status, failures, settled = step.status, now_failures, now_settled
    return chain


def expected_devices(life: FleetLife) -> str:
    """The closing device progress: succeeded of all, then the failed ones if any."""
    last = life.steps[-1].executions
    text = f"{sum(e.status == 'SUCCEEDED' for e in last)}/{len(last)} ok"
    failed = sum(e.status in DEVICE_FAILURES for e in last)
    return f"{text}, {failed} failed" if failed else text


def assert_each_channel_got_what_its_filter_accepts(row: Row) -> None:
    """One message per transition whose status the channel's filter accepts."""
    for channel in SLACK_CHANNELS:
        accepted = [after for _, after in row.transitions if channel.accepts(status_of(after))]
        assert row.messages[channel.name] == len(accepted), (channel.name, row)


def test_the_demo_runs_every_deployment_to_its_end_and_posts_each_transition_once() -> None:
    # Given the demo in a short mode, writing to a captured stream
    out = io.StringIO()

    # When it runs (it stops by itself once everything is terminal and delivered; --seconds is only a
    # bound, far above the few seconds it takes, so that two busy cores do not cut it short)
    code = main(["--deployments", "4", "--speed", "20", "--seconds", "120", "--no-color"], out=out)

    # Then it finished cleanly, in plain text
    output = out.getvalue()
    assert code == 0, output
    assert "\033[" not in output
    assert '"level"' not in output  # the handlers' JSON logs stay in their log streams
    rows, closing = summary_rows(output)
    assert closing.startswith("done after"), closing
    assert closing.endswith("0 duplicates, 0 failed deliveries, 0 failed invocations"), closing
    # and every transition was put on the EventBridge bus exactly once, with the transitionId SNS carried
    # (the demo compares them by transitionId; a row shows how many, flagged when they differ)
    transitions = sum(len(row.transitions) for row in rows)
    assert f"events {transitions} (one per transition)" in closing, closing
    assert [row.events for row in rows] == [str(len(row.transitions)) for row in rows]
    # and every V1 deployment, one of each life plus the unknown ID, reached the status its life ends with
    v1_rows = [row for row in rows if row.kind == V1]
    v2_rows = [row for row in rows if row.kind == V2]
    assert len(v1_rows) + len(v2_rows) == len(rows)
    assert sorted(row.life for row in v1_rows) == sorted([*lives.NAMED_LIVES, UNKNOWN_LIFE])
    for row in v1_rows:
        assert row.final == expected_final(row.life), row
        assert row.chain[0] == "new"
        assert status_of(row.chain[-1]) == row.final
        # and each transition happened once
        assert len(set(row.transitions)) == len(row.transitions), row
        # and each channel got one message per transition its filter accepts
        assert_each_channel_got_what_its_filter_accepts(row)
    # and each V2 deployment, one of each demo life, was news exactly where its life says, once each
    # (its repeated ACTIVE → ACTIVE for new failed devices and a finished rollout included), every
    # notification went to the channels whose filter accepts its status, and its devices add up
    assert sorted(row.life for row in v2_rows) == sorted(V2_LIVES)
    for row in v2_rows:
        life = fleet_lives.NAMED_LIVES[row.life]()
        assert row.chain == expected_v2_chain(life), row
        assert row.final == life.steps[-1].status, row
        assert row.devices.startswith(expected_devices(life)), row
        assert_each_channel_got_what_its_filter_accepts(row)
    # and the alerts channel only ever heard of bad endings
    assert {row.final for row in rows if row.messages["alerts"]} == {"Failed", "Stopped", TRACKING_FAILED}
    # and the timeline showed each published transition once, as the summary counts them
    shown = Counter(
        (match["deployment"], match["change"])
        for match in re.finditer(r"^\S+\s+sns\s+(?P<deployment>\w{8})\s+(?P<change>\S+ → \S+)", output, re.M)
    )
    assert shown == Counter(
        (row.deployment, f"{status_of(before)} → {after}")
        for row in rows
        for before, after in row.transitions
    )
    # and each event on the bus, once, with its detail-type, as the notifications count them
    put = Counter(
        (match["deployment"], match["status"], match["type"])
        for match in re.finditer(
            r'^\S+\s+events\s+(?P<deployment>\w{8})\s+(?P<status>\S+)\s+"(?P<type>[^"]+)"', output, re.M
        )
    )
    assert put == Counter(
        (
            row.deployment,
            status_of(after),
            "Deployment Status Change" if after != TRACKING_FAILED else "Deployment Tracking Failed",
        )
        for row in rows
        for _, after in row.transitions
    )


def test_the_report_holds_the_events_to_one_per_notification() -> None:
    # Given deployments whose SNS notifications carried transitions a and b
    def tracked(events: list[str]) -> Tracked:
        seen = Tracked("d-1", "life", transition_ids={"a", "b"})
        seen.events.update(events)
        return seen

    # Then the events match only when each transition was put on the bus once, and nothing else was
    assert tracked(["a", "b"]).events_match
    assert not tracked(["a"]).events_match
    assert not tracked(["a", "b", "b"]).events_match
    assert not tracked(["a", "b", "c"]).events_match
    # and one deployment whose events do not match makes the run fail
    report = DemoReport({"1": tracked(["a", "b"]), "2": tracked(["a"])}, finished=True)
    assert (report.events, report.event_mismatches, report.ok) == (3, 1, False)


def test_a_results_summary_reads_the_notifications_results() -> None:
    results = {
        "total": 10,
        "counts": {"Completed": 7, "Failed": 3},
        "failures": [{"groupArn": "arn:g1"}, {"groupArn": "arn:g2"}, {"groupArn": "arn:g3"}],
        "truncated": True,
    }
    assert results_summary(results) == "7 Completed, 3 Failed; 3 failures listed (list cut)"
    assert results_summary({"counts": {"SUCCEEDED": 1}, "failures": []}) == "1 SUCCEEDED"
    assert results_summary({"error": "AccessDenied"}) == "not available: AccessDenied"
    nothings: tuple[object, ...] = (None, "text", [], {}, {"counts": {"x": "y"}})
    for nothing in nothings:
        assert results_summary(nothing) is None
