"""The terminal: one timestamped line per thing that happened, coloured by who did it.

Colour is used only when asked for and the output is a terminal, so captured output (tests, logs)
stays plain text.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TextIO

STYLES = {
    "dim": "2",
    "bold": "1",
    "operator": "34",
    "tracker": "35",
    "poller": "2",
    "sns": "36",
    "slack": "32",
    "events": "94",
    "warn": "33",
    "error": "31",
}
STATUS_STYLES = {
    "Completed": "32",
    "Failed": "31",
    "TrackingFailed": "35",
    "Stopped": "33",
    "Stopping": "33",
    "COMPLETED": "32",
    "FAILED": "31",
    "CANCELED": "33",
    "INACTIVE": "2",
}


class Console:
    """Timestamped lines, coloured only when asked to; survives a terminal that cannot show emoji."""

    WHO_WIDTH = 10

    def __init__(self, out: TextIO, color: bool) -> None:
        self._out = out
        self._color = color

    def paint(self, text: str, style: str) -> str:
        code = STYLES.get(style) or STATUS_STYLES.get(style, "36")
        return f"\033[{code}m{text}\033[0m" if self._color else text

    def status(self, status: str | None) -> str:
        return self.paint(status or "new", status or "dim")

    def event(
        self, who: str, text: str, *, style: str, more: list[str] | None = None, at: float | None = None
    ) -> None:
        stamp = datetime.fromtimestamp(time.time() if at is None else at).strftime("%H:%M:%S.%f")[:-5]
        lines = [f"{self.paint(stamp, 'dim')}  {self.paint(who.ljust(self.WHO_WIDTH), style)}  {text}"]
        indent = " " * (len(stamp) + self.WHO_WIDTH + 4)
        lines += [f"{indent}{line}" for line in more or []]
        self.line("\n".join(lines))

    def line(self, text: str = "") -> None:
        try:
            self._out.write(text + "\n")
        except UnicodeEncodeError:
            encoding = getattr(self._out, "encoding", None) or "ascii"
            self._out.write(text.encode(encoding, "replace").decode(encoding) + "\n")
        self._out.flush()


def short(deployment_id: str) -> str:
    return deployment_id[:8]
