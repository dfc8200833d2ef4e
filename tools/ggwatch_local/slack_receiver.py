"""A local stand-in for Slack incoming webhooks, on 127.0.0.1, for tests and the terminal demo.

Any POST to any path is taken like a webhook post: it is recorded and answered `ok`, unless faults
were scripted (a 429 with Retry-After, a 500, Slack's 4xx error codes, a reply slower than the
client's timeout), or `min_interval_seconds` is set and the path took a message less than that long
ago: then it answers 429 with Retry-After, as Slack does for more than about one message a second per
webhook. Its clock can be the test's. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from ggwatch.slack.escape import unescape


@dataclass(frozen=True)
class Reply:
    """One scripted answer; `delay_seconds` holds it back (past a client's timeout, for instance)."""

    status: int = 200
    body: str = "ok"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


OK = Reply()


def rate_limited(retry_after: int = 1) -> Reply:
    return Reply(429, "rate_limited", {"Retry-After": str(retry_after)})


def server_error() -> Reply:
    return Reply(500, "rollup_error")


def invalid_payload() -> Reply:
    return Reply(400, "invalid_payload")


def no_service() -> Reply:
    return Reply(404, "no_service")


def channel_is_archived() -> Reply:
    return Reply(410, "channel_is_archived")


def slow(seconds: float) -> Reply:
    """Accepted, but only after `seconds`: Slack may post a message whose request timed out."""
    return Reply(delay_seconds=seconds)


@dataclass(frozen=True)
class Received:
    path: str
    payload: Any
    reply: Reply


class SlackReceiver:
    """Start it, point webhooks at `url(...)`, then read `messages` (accepted) or `requests` (all)."""

    def __init__(
        self,
        on_message: Callable[[str, Any], None] | None = None,
        *,
        min_interval_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_message = on_message
        self._min_interval = min_interval_seconds
        self._clock = clock
        self._last_accepted: dict[str, float] = {}
        self._refusing: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._script: deque[Reply] = deque()
        self._scripted_by_path: dict[str, deque[Reply]] = {}
        self._received: list[Received] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_address[1])

    def url(self, path: str = "/services/T0000/B0000/local") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *replies: Reply, path: str | None = None) -> None:
        """Queue answers for the next posts (to one path, or to any); once used up, posts get `ok`."""
        with self._lock:
            queue = self._script if path is None else self._scripted_by_path.setdefault(path, deque())
            queue.extend(replies)

    def refuse(self, path: str, reply: Reply) -> None:
        """Answer every post to `path` with `reply` from now on (a webhook that is gone for good)."""
        with self._lock:
            self._refusing[path] = reply

    @property
    def requests(self) -> list[Received]:
        """Every post received, with the reply it got."""
        with self._lock:
            return list(self._received)

    @property
    def messages(self) -> list[tuple[str, Any]]:
        """(path, payload) of every post answered 2xx: what would be in the channel."""
        return [(r.path, r.payload) for r in self.requests if r.reply.accepted]

    def messages_to(self, path: str) -> list[Any]:
        return [payload for received_path, payload in self.messages if received_path == path]

    def _take(self, path: str, payload: Any) -> Reply:
        with self._lock:
            queue = self._scripted_by_path.get(path)
            reply = queue.popleft() if queue else self._script.popleft() if self._script else OK
            reply = self._refusing.get(path, reply)
            now = self._clock()
            reply = self._rate_limited(path, now) or reply
            if reply.accepted:
                self._last_accepted[path] = now
            self._received.append(Received(path, payload, reply))
        if reply.accepted and self._on_message is not None:
            self._on_message(path, payload)
        return reply

    def _rate_limited(self, path: str, now: float) -> Reply | None:
        """A 429 when the path took a message less than `min_interval_seconds` ago."""
        last = self._last_accepted.get(path)
        if self._min_interval is None or last is None or now - last >= self._min_interval:
            return None
        return rate_limited(max(math.ceil(last + self._min_interval - now), 1))


def _handler_for(receiver: SlackReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK wait

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                payload: Any = json.loads(body)
            except ValueError:
                payload = body.decode("utf-8", errors="replace")
            reply = receiver._take(self.path, payload)
            if reply.delay_seconds and receiver._stopping.wait(reply.delay_seconds):
                return
            try:
                self.send_response(reply.status)
                for name, value in {"Content-Type": "text/plain", **reply.headers}.items():
                    self.send_header(name, value)
                encoded = reply.body.encode()
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)
            except OSError:
                return  # the client gave up (timed out) before the answer

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests and the demo print what they need

    return Handler


def render_for_terminal(payload: Any) -> str:
    """A received Block Kit payload as readable plain text, for the terminal demo."""
    if not isinstance(payload, dict):
        return str(payload)
    lines: list[str] = []
    blocks = list(payload.get("blocks") or [])
    for attachment in payload.get("attachments") or []:
        blocks.extend(attachment.get("blocks") or [])
    for block in blocks:
        lines.extend(_block_lines(block))
    if not lines and payload.get("text"):
        lines.append(str(payload["text"]))
    return unescape("\n".join(lines))


def _block_lines(block: Mapping[str, Any]) -> Iterable[str]:
    kind = block.get("type")
    if kind == "header":
        title = str(block.get("text", {}).get("text", ""))
        return [title, "=" * min(len(title), 60)]
    if kind == "section":
        text = block.get("text", {}).get("text")
        fields = [str(f.get("text", "")).replace("\n", ": ", 1) for f in block.get("fields") or []]
        return [*([_plain(str(text))] if text else []), *(_plain(f) for f in fields)]
    if kind == "context":
        return ["  " + "  |  ".join(_plain(str(e.get("text", ""))) for e in block.get("elements") or [])]
    if kind == "divider":
        return ["-" * 40]
    return []


def _plain(mrkdwn: str) -> str:
    """Drop the mrkdwn markers a terminal cannot show (bold stars, code ticks)."""
    return mrkdwn.replace("```", "").replace("`", "").replace("*", "")
