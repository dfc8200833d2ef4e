"""Serve a BulkDeploymentFake over real HTTP on loopback, so boto3 does its real (de)serialization.

Routing works on the raw request path so an id with an encoded '/' reaches us as a malformed id.
The HTTP plumbing and fault playing are shared with the other fakes (loopback.py). Each region can
keep its own fake (``regions``); the one passed as ``fake`` answers every other region.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from .api import handle
from .loopback import Backend, ErrorStyle, LoopbackServer, Request, Routed
from .model import Fault, Operation
from .pacing import UNPACED, Pacing
from .regions import Regional
from .state import BulkDeploymentFake

_BASE = ("greengrass", "bulk", "deployments")
_COLLECTION_ROUTES: dict[str, Operation] = {"POST": "StartBulkDeployment", "GET": "ListBulkDeployments"}
_ITEM_ROUTES: dict[tuple[str, str], Operation] = {
    ("GET", "status"): "GetBulkDeploymentStatus",
    ("GET", "detailed-reports"): "ListBulkDeploymentDetailedReports",
    ("PUT", "$stop"): "StopBulkDeployment",
}
V1_ERRORS = ErrorStyle(
    internal_error_code="InternalServerErrorException",
    # The 2017-06-07 model declares no throttling error; Greengrass V1 answers 429 TooManyRequests.
    throttling=Fault.throttle(),
    message_key="Message",
    namespace="http://internal.amazon.com/coral/com.amazon.greengrass/",
)


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


class BulkBackend:
    """The V1 bulk-deployment API as a backend of the loopback server, one fake per region."""

    def __init__(self, fakes: Regional[BulkDeploymentFake]) -> None:
        self.fakes = fakes

    def route(self, request: Request) -> Routed | None:
        found = route(request.method, request.raw_path)
        if found is None:
            return None
        operation, deployment_id = found
        fake = self.fakes.of(request.region)
        token = request.headers.get("x-amzn-client-token") if operation == "StartBulkDeployment" else None
        return Routed(
            operation=operation,
            deployment_id=deployment_id,
            run=lambda: handle(fake, operation, deployment_id, request.query, request.body, token),
            style=V1_ERRORS,
            journal=fake,
            client_token=token,
        )


class GreengrassFakeServer(LoopbackServer):
    """A background-thread HTTP server for ``fake``, plus any ``more`` backends on the same port."""

    def __init__(
        self,
        fake: BulkDeploymentFake | None = None,
        *,
        regions: Mapping[str, BulkDeploymentFake] | None = None,
        more: tuple[Backend, ...] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        pacing: Pacing = UNPACED,
    ) -> None:
        self.fake = fake if fake is not None else BulkDeploymentFake()
        backend = BulkBackend(Regional(self.fake, regions or {}))
        super().__init__((backend, *more), host=host, port=port, pacing=pacing)
