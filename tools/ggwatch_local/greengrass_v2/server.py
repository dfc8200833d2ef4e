"""Serve the fleet fake's Greengrass V2 and IoT job operations over loopback HTTP.

One port serves both services and, alongside, the V1 bulk-deployment fake: their paths never meet
(/greengrass/bulk/..., /greengrass/v2/..., /jobs/..., /things/...). Point AWS_ENDPOINT_URL_GREENGRASS,
AWS_ENDPOINT_URL_GREENGRASSV2 and AWS_ENDPOINT_URL_IOT at ``endpoint_url`` and ordinary boto3 clients
reach it. Each region can keep its own fleet (``regions``); ``fleet`` answers every other region.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from ggwatch_local.greengrass.loopback import ErrorStyle, Request, Routed
from ggwatch_local.greengrass.regions import Regional
from ggwatch_local.greengrass.server import GreengrassFakeServer
from ggwatch_local.greengrass.state import BulkDeploymentFake

from . import faults
from .api import HANDLERS, JsonDict
from .service_models import ModelledOperation
from .state import FleetFake

_STYLES = {
    "greengrassv2": ErrorStyle(
        internal_error_code="InternalServerException", throttling=faults.throttling("greengrassv2")
    ),
    "iot": ErrorStyle(internal_error_code="InternalFailureException", throttling=faults.throttling("iot")),
}
_OPERATIONS = tuple(ModelledOperation.load(service, name) for service, name in HANDLERS)


class FleetBackend:
    """The Greengrass V2 and IoT job operations as a backend of the loopback server, a fleet per region."""

    def __init__(self, fleets: Regional[FleetFake]) -> None:
        self.fleets = fleets

    def route(self, request: Request) -> Routed | None:
        for op in _OPERATIONS:
            labels = op.match(request.method, request.raw_path)
            if labels is not None:
                fleet = self.fleets.of(request.region)
                return Routed(
                    operation=op.name,
                    deployment_id=_deployment_of(fleet, labels),
                    run=partial(_run, fleet, op, labels, request),
                    style=_STYLES[op.service],
                    journal=fleet,
                )
        return None


def _run(fleet: FleetFake, op: ModelledOperation, labels: dict[str, str], request: Request) -> JsonDict:
    params = op.params(labels, request.query)
    document = HANDLERS[op.service, op.name](fleet, op, params)
    op.check_output(document)
    return document


def _deployment_of(fleet: FleetFake, labels: dict[str, str]) -> str | None:
    """The deployment a request is about, so a fault can target every call about one deployment."""
    if "deploymentId" in labels:
        return labels["deploymentId"]
    view = fleet.by_job(labels["jobId"]) if "jobId" in labels else None
    return None if view is None else view.deployment_id


class FleetFakeServer(GreengrassFakeServer):
    """One loopback server for the V2 fleet fake (``fleet``) and the V1 bulk fake (``fake``)."""

    def __init__(
        self,
        fleet: FleetFake | None = None,
        *,
        bulk: BulkDeploymentFake | None = None,
        regions: Mapping[str, FleetFake] | None = None,
        **server: Any,
    ) -> None:
        self.fleet = fleet if fleet is not None else FleetFake()
        backend = FleetBackend(Regional(self.fleet, regions or {}))
        super().__init__(bulk, more=(backend,), **server)
