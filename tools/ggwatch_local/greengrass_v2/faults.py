"""Faults the way Greengrass V2 and IoT answer them, status codes read from their service models.

The same Fault kinds as the V1 fake; only the error codes and statuses differ: greengrassv2 throttles
with ThrottlingException 429 and fails with InternalServerException 500, IoT throttles with
ThrottlingException 400 and fails with ServiceUnavailableException 503.
"""

from __future__ import annotations

from typing import Literal

from ggwatch_local.greengrass.model import Fault

from .service_models import service_model

Service = Literal["greengrassv2", "iot"]
_SERVER_ERRORS: dict[Service, str] = {
    "greengrassv2": "InternalServerException",
    "iot": "ServiceUnavailableException",
}


def throttling(service: Service) -> Fault:
    """The service's ThrottlingException (botocore's standard mode retries it)."""
    return Fault.throttle(
        http_status=_status(service, "ThrottlingException"), error_code="ThrottlingException"
    )


def server_error(service: Service) -> Fault:
    """The service's own server-side error (botocore retries 500 and 503)."""
    code = _SERVER_ERRORS[service]
    return Fault.server_error(
        http_status=_status(service, code), error_code=code, message="Service unavailable"
    )


def _status(service: Service, code: str) -> int:
    status: int = service_model(service).shape_for(code).metadata["error"]["httpStatusCode"]
    return status
