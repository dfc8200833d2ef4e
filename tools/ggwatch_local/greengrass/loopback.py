"""The loopback HTTP server every fake service shares: routing to backends, faults, AWS-style errors.

Built on the standard library's threading HTTP server because faults need control below WSGI:
dropping a connection mid-request, answering late, or sending a body that is not the documented JSON.
A backend (the V1 bulk-deployment fake, the V2 fleet fake) maps a raw request to an operation; this
module plays the fault queued for it, runs it, and writes the answer the way a rest-json service does.
One server can hold several backends, so one port serves every fake service of the local stack.
Its Pacing adds latency to every answer and throttles each (region, operation) above a rate, with
the throttling error each service really sends (ErrorStyle.throttling).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import parse_qsl, urlsplit

from .faults import FaultJournal
from .model import Fault, GreengrassError
from .pacing import UNPACED, Pacing, RateLimits
from .regions import region_of

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorStyle:
    """How one service spells its errors on the wire."""

    internal_error_code: str
    """What a bug in the fake is answered as (the service's own 500 error)."""
    throttling: Fault
    """What a request over the rate limit is answered with (the service's own throttling error)."""
    message_key: str = "message"
    namespace: str | None = None
    """Appended to x-amzn-ErrorType after a colon, as some services do; botocore strips it."""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as a backend sees it: the raw path (still percent-encoded) and the query."""

    method: str
    raw_path: str
    query: Mapping[str, str]
    body: bytes
    headers: Mapping[str, str]
    """Names in lower case."""
    region: str | None = None
    """The region the request was signed for; None when it was not signed."""


@dataclass(frozen=True, slots=True)
class Routed:
    """A request a backend recognised: what the call log records and faults match on, and the work."""

    operation: str
    deployment_id: str | None
    run: Callable[[], JsonDict]
    """Does the operation and returns the response document; raises GreengrassError."""
    style: ErrorStyle
    journal: FaultJournal[Any]
    """Where this request's faults come from and its call is recorded (its region's fake)."""
    client_token: str | None = None


class Backend(Protocol):
    """A fake service: routes requests to the fake (fault queue, call log, state) of their region."""

    def route(self, request: Request) -> Routed | None:
        """The operation this request calls, or None when the path is not this backend's."""
        ...


_UNROUTED = ErrorStyle(
    internal_error_code="InternalServerError", throttling=Fault.throttle(), message_key="Message"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    backends: Sequence[Backend]
    pacing: Pacing
    limits: RateLimits
    stopping: threading.Event
    connections: set[socket.socket]
    lock: threading.Lock

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (timeouts, drop faults) are expected here; stay quiet about them."""


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK wait
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no per-request line on stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(
            method=self.command,
            raw_path=split.path,
            query=dict(parse_qsl(split.query)),
            body=self.rfile.read(int(self.headers.get("Content-Length") or 0)),
            headers=headers,
            region=region_of(headers),
        )
        routed = self._route(request)
        admitted = routed is None or self.server.limits.admit(request.region, routed.operation)
        if self.server.pacing.latency and self.server.stopping.wait(self.server.pacing.latency):
            return
        if routed is None:
            self._send_error(
                GreengrassError("Not Found", code="NotFoundException", http_status=404), _UNROUTED
            )
            return
        journal = routed.journal
        if admitted:
            fault = journal.take_fault(routed.operation, routed.deployment_id)
        else:
            fault = routed.style.throttling
        journal.record(
            routed.operation, routed.deployment_id, fault.kind if fault else None, routed.client_token
        )
        if fault is not None and not self._before(fault, routed.style):
            return
        try:
            document = routed.run()
        except GreengrassError as error:
            self._send_error(error, routed.style)
            return
        except Exception as error:  # a bug in the fake: answer like AWS would, keep serving
            code = routed.style.internal_error_code
            self._send_error(
                GreengrassError(f"Fake failed: {error!r}", code=code, http_status=500), routed.style
            )
            return
        if fault is not None and fault.kind == "drop_connection":
            self._drop()
        elif fault is not None and fault.kind == "malformed_body":
            self._send(fault.http_status, fault.body)
        else:
            self._send(200, json.dumps(document).encode())

    def _route(self, request: Request) -> Routed | None:
        for backend in self.server.backends:
            routed = backend.route(request)
            if routed is not None:
                return routed
        return None

    def _before(self, fault: Fault, style: ErrorStyle) -> bool:
        """Play the part of ``fault`` that happens before the operation; False if the request ends here."""
        if fault.kind in ("throttle", "server_error"):
            error = GreengrassError(fault.message, code=fault.error_code, http_status=fault.http_status)
            self._send_error(error, style)
            return False
        if fault.kind == "delay":
            return not self.server.stopping.wait(fault.seconds)
        if fault.kind == "drop_connection" and not fault.after_processing:
            self._drop()
            return False
        return True

    def _send_error(self, error: GreengrassError, style: ErrorStyle) -> None:
        error_type = error.code if style.namespace is None else f"{error.code}:{style.namespace}"
        self._send(error.http_status, json.dumps({style.message_key: error.message}).encode(), error_type)

    def _send(self, status: int, body: bytes, error_type: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_type is not None:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class LoopbackServer:
    """A background-thread HTTP server for ``backends``; use as a context manager or start()/stop()."""

    def __init__(
        self,
        backends: Sequence[Backend],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pacing: Pacing = UNPACED,
    ) -> None:
        if not backends:
            raise ValueError("a server needs at least one backend")
        self._backends = tuple(backends)
        self._pacing = pacing
        self._host, self._port = host, port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``endpoint_url=`` or an AWS_ENDPOINT_URL_<SERVICE> variable."""
        if self._httpd is None:
            raise RuntimeError("server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        httpd = _Server((self._host, self._port), _Handler)
        httpd.backends, httpd.stopping = self._backends, threading.Event()
        httpd.pacing, httpd.limits = self._pacing, RateLimits(self._pacing)
        httpd.connections, httpd.lock = set(), threading.Lock()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="greengrass-fake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut open keep-alive connections and in-flight delays, release the port."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        with httpd.lock:
            for conn in list(httpd.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
