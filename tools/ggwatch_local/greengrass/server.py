"""Serve a BulkDeploymentFake over real HTTP on loopback, so boto3 does its real (de)serialization.

Built on the standard library's threading HTTP server because faults need control below WSGI:
dropping a connection mid-request, answering late, or sending a body that is not the documented JSON.
Routing works on the raw request path so an id with an encoded '/' reaches us as a malformed id.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from .api import handle
from .model import Fault, GreengrassError, Operation
from .state import BulkDeploymentFake

_BASE = ("greengrass", "bulk", "deployments")
_COLLECTION_ROUTES: dict[str, Operation] = {"POST": "StartBulkDeployment", "GET": "ListBulkDeployments"}
_ITEM_ROUTES: dict[tuple[str, str], Operation] = {
    ("GET", "status"): "GetBulkDeploymentStatus",
    ("GET", "detailed-reports"): "ListBulkDeploymentDetailedReports",
    ("PUT", "$stop"): "StopBulkDeployment",
}


def route(method: str, raw_path: str) -> tuple[Operation, str | None] | None:
    """Map a request line to (operation, BulkDeploymentId) following the model's requestUri templates."""
    segments = tuple(unquote(s) for s in raw_path.strip("/").split("/"))
    if segments == _BASE:
        operation = _COLLECTION_ROUTES.get(method)
        return None if operation is None else (operation, None)
    if len(segments) == len(_BASE) + 2 and segments[: len(_BASE)] == _BASE:
        operation = _ITEM_ROUTES.get((method, segments[-1]))
        return None if operation is None else (operation, segments[-2])
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: BulkDeploymentFake
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
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        split = urlsplit(self.path)
        routed = route(self.command, split.path)
        if routed is None:
            self._send_error(GreengrassError("Not Found", code="NotFoundException", http_status=404))
            return
        operation, deployment_id = routed
        token = self.headers.get("X-Amzn-Client-Token") if operation == "StartBulkDeployment" else None
        fake = self.server.fake
        fault = fake.take_fault(operation, deployment_id)
        fake.record(operation, deployment_id, fault.kind if fault else None, token)
        if fault is not None and not self._before(fault):
            return
        try:
            document = handle(fake, operation, deployment_id, dict(parse_qsl(split.query)), body, token)
        except GreengrassError as error:
            self._send_error(error)
            return
        except Exception as error:  # a bug in the fake: answer like AWS would, keep serving
            self._send_error(GreengrassError(f"Fake failed: {error!r}", code="InternalServerErrorException",
                                             http_status=500))  # fmt: skip
            return
        if fault is not None and fault.kind == "drop_connection":
            self._drop()
        elif fault is not None and fault.kind == "malformed_body":
            self._send(fault.http_status, fault.body)
        else:
            self._send(200, json.dumps(document).encode())

    def _before(self, fault: Fault) -> bool:
        """Play the part of ``fault`` that happens before the operation; False if the request ends here."""
        if fault.kind in ("throttle", "server_error"):
            error = GreengrassError(fault.message, code=fault.error_code, http_status=fault.http_status)
            self._send_error(error)
            return False
        if fault.kind == "delay":
            return not self.server.stopping.wait(fault.seconds)
        if fault.kind == "drop_connection" and not fault.after_processing:
            self._drop()
            return False
        return True

    def _send_error(self, error: GreengrassError) -> None:
        self._send(error.http_status, json.dumps({"Message": error.message}).encode(), error.code)

    def _send(self, status: int, body: bytes, error_type: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_type is not None:
            self.send_header(
                "x-amzn-ErrorType", f"{error_type}:http://internal.amazon.com/coral/com.amazon.greengrass/"
            )
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class GreengrassFakeServer:
    """A background-thread HTTP server for ``fake``; use as a context manager or start()/stop()."""

    def __init__(
        self, fake: BulkDeploymentFake | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.fake = fake if fake is not None else BulkDeploymentFake()
        self._host, self._port = host, port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``endpoint_url=`` or AWS_ENDPOINT_URL_GREENGRASS."""
        if self._httpd is None:
            raise RuntimeError("server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        httpd = _Server((self._host, self._port), _Handler)
        httpd.fake, httpd.stopping = self.fake, threading.Event()
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
