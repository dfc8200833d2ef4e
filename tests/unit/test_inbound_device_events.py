"""Greengrass V2 device events: a well-formed one names a deployment; any other is logged and counted."""

from __future__ import annotations

from typing import Any

import pytest

from ggwatch.inbound.device_events import DeviceStatusChange, device_status_change, is_device_event
from ggwatch.observability import metrics

DEPLOYMENT = "4d5e6f70-8a9b-4c1d-8e2f-3a4b5c6d7e8f"
DEVICE = "arn:aws:greengrass:us-east-1:123456789012:coreDevices:line-7-gateway"


def device_event(**detail: Any) -> dict[str, Any]:
    return {
        "source": "aws.greengrass",
        "detail-type": "Greengrass V2 Effective Deployment Status Change",
        "resources": [DEVICE],
        "detail": {"deploymentId": DEPLOYMENT, "coreDeviceExecutionStatus": "FAILED", **detail},
    }


def malformed_count() -> int:
    stored = metrics.metric_set.get("MalformedEvents")
    return sum(stored["Value"]) if stored else 0


def test_a_device_event_names_its_deployment_and_device() -> None:
    event = device_event(statusDetails={"errorStack": ["DEPLOYMENT_FAILURE"], "errorTypes": ["DEVICE_ERROR"]})
    assert is_device_event(event)
    assert device_status_change(event) == DeviceStatusChange(DEPLOYMENT, DEVICE, "FAILED")


@pytest.mark.parametrize(
    "event",
    [{}, {"source": "ggwatch.schedule"}, None, [], "aws.greengrass"],
)
def test_the_schedule_and_direct_invocations_are_not_device_events(event: Any) -> None:
    assert not is_device_event(event)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"detail": {}}, "detail.deploymentId"),
        ({"detail": {"deploymentId": DEPLOYMENT}}, "detail.coreDeviceExecutionStatus"),
        ({"detail": {"deploymentId": "../x", "coreDeviceExecutionStatus": "FAILED"}}, "detail.deploymentId"),
        ({"detail-type": "AWS API Call via CloudTrail"}, "detail-type"),
        ({"detail": "FAILED"}, "detail"),
    ],
)
def test_a_malformed_device_event_is_logged_and_counted_not_raised(
    change: dict[str, Any], problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = malformed_count()
    assert device_status_change({**device_event(), **change}) is None
    assert malformed_count() == before + 1
    (error,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert error.getMessage() == "malformed Greengrass device event ignored"
    assert problem in error.__dict__["problem"]


def test_a_device_event_without_a_resource_still_names_its_deployment() -> None:
    change = device_status_change({**device_event(), "resources": []})
    assert change == DeviceStatusChange(DEPLOYMENT, None, "FAILED")
