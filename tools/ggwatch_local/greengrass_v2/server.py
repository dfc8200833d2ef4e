"""Serve the fleet fake's Greengrass V2 and IoT job operations over loopback HTTP.

One port serves both services and, alongside, the V1 bulk-deployment fake: their paths never meet
(/greengrass/bulk/..., /greengrass/v2/..., /jobs/..., /things/...). Point AWS_ENDPOINT_URL_GREENGRASS,
AWS_ENDPOINT_URL_GREENGRASSV2 and AWS_ENDPOINT_URL_IOT at ``endpoint_url`` and ordinary boto3 clients
reach it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ggwatch_local.greengrass.loopback import ErrorStyle, Request, Routed
from ggwatch_local.greengrass.server import GreengrassFakeServer
from ggwatch_local.greengrass.state import BulkDeploymentFake

from .api import HANDLERS, JsonDict
from .service_models import ModelledOperation
from .state import FleetFake

_STYLES = {
    "greengrassv2": ErrorStyle(internal_error_code="InternalServerException"),
    "iot": ErrorStyle(internal_error_code="InternalFailureException"),
}
_OPERATIONS = tuple(ModelledOperation.load(service, name) for service, name in HANDLERS)


class FleetBackend:
    """The Greengrass V2 and IoT job operations as a backend of the loopback server."""

    def __init__(self, fleet: FleetFake) -> None:
        self.fleet = fleet

    @property
    def journal(self) -> FleetFake:
        return self.fleet

    def route(self, request: Request) -> Routed | None:
        for op in _OPERATIONS:
            labels = op.match(request.method, request.raw_path)
            if labels is not None:
                return Routed(
                    operation=op.name,
                    deployment_id=self._deployment_of(labels),
                    run=partial(self._run, op, labels, request),
                    style=_STYLES[op.service],
                )
        return None

    def _run(self, op: ModelledOperation, labels: dict[str, str], request: Request) -> JsonDict:
        params = op.params(labels, request.query)
        document = HANDLERS[op.service, op.name](self.fleet, op, params)
        op.check_output(document)
        return document

    def _deployment_of(self, labels: dict[str, str]) -> str | None:
        """The deployment a request is about, so a fault can target every call about one deployment."""
        if "deploymentId" in labels:
            return labels["deploymentId"]
        view = self.fleet.by_job(labels["jobId"]) if "jobId" in labels else None
        return None if view is None else view.deployment_id


class FleetFakeServer(GreengrassFakeServer):
    """One loopback server for the V2 fleet fake (``fleet``) and the V1 bulk fake (``fake``)."""

    def __init__(
        self, fleet: FleetFake | None = None, *, bulk: BulkDeploymentFake | None = None, **server: Any
    ) -> None:
        self.fleet = fleet if fleet is not None else FleetFake()
        super().__init__(bulk, more=(FleetBackend(self.fleet),), **server)
