"""The functions' log streams: what a handler prints is filed under it, not shown on the terminal.

Powertools' JSON logs, EMF metrics and warnings would otherwise interleave with the caller's output;
`LambdaRuntime.logs` reads them back per function, as CloudWatch Logs would.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections import deque
from collections.abc import Iterator


class LogRouter(io.TextIOBase):
    """A text stream that files each line under the function being run (CloudWatch Logs, locally).

    Installed as stdout and stderr during cold starts and invocations. A logger built at a cold start
    keeps a reference to it for the life of the process, which is why there is one router per process
    and it files by the function running now, not by the one that built the logger.
    """

    def __init__(self, max_lines: int) -> None:
        super().__init__()
        self.current = "-"
        self._lines: dict[str, deque[str]] = {}
        self._partial: dict[str, str] = {}
        self._max_lines = max_lines
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            pending = self._partial.pop(self.current, "") + text
            *lines, rest = pending.split("\n")
            self._lines.setdefault(self.current, deque(maxlen=self._max_lines)).extend(lines)
            if rest:
                self._partial[self.current] = rest
        return len(text)

    def lines(self, name: str) -> list[str]:
        with self._lock:
            return list(self._lines.get(name, ()))

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()
            self._partial.clear()

    @contextlib.contextmanager
    def capturing(self, name: str) -> Iterator[None]:
        previous, self.current = self.current, name
        try:
            with contextlib.redirect_stdout(self), contextlib.redirect_stderr(self):
                yield
        finally:
            self.current = previous


LOGS = LogRouter(max_lines=2000)
"""The process's one router (see LogRouter for why there is only one)."""
