"""The table printed at the end: one row per deployment, then a line that totals the run."""

from __future__ import annotations

from collections import Counter

from ggwatch_local.stack import SlackChannel

from .report import DemoReport
from .timeline import Console, short

SUMMARY_COLUMNS = ("deployment", "kind", "life", "final", "transitions", "devices", "events")
FINAL_COLUMN = SUMMARY_COLUMNS.index("final")


def print_summary(report: DemoReport, channels: tuple[SlackChannel, ...], console: Console) -> None:
    """One row per deployment of either kind (V2 rows with their device progress, every row with the
    events put on the bus for it); columns are separated by at least two spaces, for eyes and for
    tests. Before it, the results summaries the notifications carried, if any."""
    names = [channel.name for channel in channels]
    rows = [
        [
            short(t.deployment_id),
            t.kind,
            t.life_name,
            t.status or "-",
            t.chain or "-",
            t.devices or "-",
            str(sum(t.events.values())) + ("" if t.events_match else " (not one per transition!)"),
            *(str(t.messages[n]) for n in names),
        ]
        for t in report.deployments.values()
    ]
    header = [*SUMMARY_COLUMNS, *(f"#{n}" for n in names)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    console.line()
    for tracked in report.deployments.values():
        if tracked.results:
            console.line(f"results of {short(tracked.deployment_id)}: {tracked.results}")
    console.line(
        console.paint("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), "bold")
    )
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        cells[FINAL_COLUMN] = console.paint(cells[FINAL_COLUMN], row[FINAL_COLUMN])
        console.line("  ".join(cells).rstrip())
    totals = Counter[str]()
    for tracked in report.deployments.values():
        totals.update(tracked.messages)
    transitions = sum(len(t.transitions) for t in report.deployments.values())
    messages = ", ".join(f"#{n} {totals[n]}" for n in names)
    mismatches = report.event_mismatches
    matched = (
        "one per transition" if not mismatches else f"not one per transition for {mismatches} deployments"
    )
    ending = "interrupted" if report.interrupted else "done" if report.finished else "time limit reached"
    console.line(
        f"{ending} after {report.elapsed:.1f} s: {len(report.deployments)} deployments, {transitions} transitions, "
        f"messages {messages}, events {report.events} ({matched}); {report.duplicates} duplicates, {report.failed_deliveries} failed deliveries, "
        f"{len(report.failed_invocations)} failed invocations"
    )
