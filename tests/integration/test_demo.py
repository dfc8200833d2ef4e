"""`make demo` in a short mode: the whole loop runs by itself and its summary adds up.

No timing is asserted: at 20x speed a poll may miss a short-lived status on a loaded machine, so the
checks are about what must hold whatever the timing (final statuses, no repeats, channel filters).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass

from ggwatch_local.demo import UNKNOWN_LIFE, main
from ggwatch_local.greengrass import lives
from ggwatch_local.stack import SLACK_CHANNELS

TRACKING_FAILED = "TrackingFailed"


@dataclass(frozen=True)
class Row:
    deployment: str
    life: str
    final: str
    chain: list[str]
    messages: dict[str, int]

    @property
    def transitions(self) -> list[tuple[str, str]]:
        return list(zip(self.chain, self.chain[1:], strict=False))


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
            name.removeprefix("#"): int(cell) for name, cell in zip(header[4:], cells[4:], strict=True)
        }
        rows.append(Row(cells[0], cells[1], cells[2], cells[3].split(" → "), channels))
    raise AssertionError(f"no closing line after the summary:\n{output}")


def expected_final(life: str) -> str:
    return TRACKING_FAILED if life == UNKNOWN_LIFE else lives.NAMED_LIVES[life]()[-1].status


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
    # and every deployment, one of each life plus the unknown ID, reached the status its life ends with
    assert sorted(row.life for row in rows) == sorted([*lives.NAMED_LIVES, UNKNOWN_LIFE])
    for row in rows:
        assert row.final == expected_final(row.life), row
        assert row.chain[0] == "new"
        assert row.chain[-1] == row.final
        # and each transition happened once
        assert len(set(row.transitions)) == len(row.transitions), row
        # and each channel got one message per transition its filter accepts
        for channel in SLACK_CHANNELS:
            accepted = [status for _, status in row.transitions if channel.accepts(status)]
            assert row.messages[channel.name] == len(accepted), (channel.name, row)
    # and the alerts channel only ever heard of bad endings
    assert {row.final for row in rows if row.messages["alerts"]} == {"Failed", "Stopped", TRACKING_FAILED}
    # and the timeline showed each published transition once, as the summary counts them
    shown = Counter(
        (match["deployment"], match["change"])
        for match in re.finditer(r"^\S+\s+sns\s+(?P<deployment>\w{8})\s+(?P<change>\S+ → \S+)", output, re.M)
    )
    assert set(shown.values()) == {1}
    assert sorted(shown) == sorted(
        (row.deployment, f"{before} → {after}") for row in rows for before, after in row.transitions
    )
