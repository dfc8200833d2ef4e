"""The item format of a tracked deployment: one mapping each way, for any kind's counters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ggwatch.adapters.dynamodb_items import (
    deployment_key,
    item_size,
    observation_attributes,
    to_attribute_values,
    tracked_deployment,
)
from ggwatch.domain.models import DeploymentKind, ErrorDetail, Metrics, Observation
from ggwatch.exceptions import CorruptItemError

KIND = DeploymentKind.GREENGRASS_V1_BULK
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def item(**attributes: Any) -> dict[str, Any]:
    base = {
        "pk": deployment_key(KIND, "bd-1"),
        "deploymentKind": KIND.value,
        "deploymentId": "bd-1",
        "version": 2,
        "trackedAt": NOW.isoformat(),
        "activeKind": KIND.value,
    }
    return to_attribute_values({**base, **attributes})


def stored_as(observation: Observation) -> dict[str, Any]:
    """The item after a commit: None attributes are removed, not stored."""
    attributes = {k: v for k, v in observation_attributes(observation).items() if v is not None}
    return item(**attributes)


def test_an_observation_reads_back_from_its_item_as_it_was_seen() -> None:
    # Given an observation with every fact a source can report
    observation = Observation(
        kind=KIND,
        deployment_id="bd-1",
        status="Failed",
        metrics=Metrics({"recordsProcessed": 5, "invalidInputRecords": 1, "retryAttempts": 2}),
        error_message="failed",
        error_details=(ErrorDetail(code="E1", message="m1"), ErrorDetail(code=None, message="m2")),
        created_at="2026-11-28T11:00:00Z",
        tags={"team": "iot"},
        deployment_name="fleet-7",
        target_arn="arn:aws:iot:us-east-1:123456789012:thinggroup/fleet",
        revision_id="3",
        job_id="job-1",
    )
    # When it is stored and read back
    stored = tracked_deployment(stored_as(observation))
    # Then every fact is the same model it was (results are not a fact: they ride to the notification only)
    fields = observation.model_dump(exclude={"kind", "deployment_id", "results"})
    assert stored.model_dump(include=set(fields)) == fields
    assert stored.metrics == observation.metrics


def test_counters_of_another_kind_are_stored_under_their_own_names() -> None:
    # A Greengrass V2 deployment counts devices, not records: the same mapping carries them.
    device_counts = {"queued": 1, "inProgress": 2, "succeeded": 40, "failed": 3, "timedOut": 1}
    observation = Observation(
        kind=KIND, deployment_id="bd-1", status="Running", metrics=Metrics(device_counts)
    )
    attributes = observation_attributes(observation)
    assert attributes["metrics"] == device_counts
    assert tracked_deployment(stored_as(observation)).metrics.root == device_counts


def test_a_never_observed_item_reads_as_the_kinds_counters_at_zero() -> None:
    stored = tracked_deployment(item())
    assert stored.metrics.root == {"recordsProcessed": 0, "invalidInputRecords": 0, "retryAttempts": 0}
    assert stored.status is None and stored.error_details == ()


@pytest.mark.parametrize(
    ("attributes", "named"),
    [
        ({"metrics": {"recordsProcessed": "many"}}, "metrics.recordsProcessed"),
        ({"errorDetails": ["not a map"]}, "error_details.0"),
        ({"status": "S" * 500}, "status"),
    ],
)
def test_a_garbled_fact_is_reported_by_its_attribute(attributes: dict[str, Any], named: str) -> None:
    with pytest.raises(CorruptItemError, match=named):
        tracked_deployment(item(**attributes))


def test_item_size_counts_bytes_as_dynamodb_does() -> None:
    # "pk"(2) + "😀"(4); "n"(1) + digits; "m"(1) + map(3) + per element 1 + "a"(1) + "é"(2)
    assert item_size({"pk": {"S": "😀"}}) == 6
    assert item_size({"m": {"M": {"a": {"S": "é"}}}}) == 1 + 3 + 1 + 1 + 2
    assert item_size({"l": {"L": [{"NULL": True}, {"BOOL": False}]}}) == 1 + 3 + 2 * (1 + 1)


def test_a_failed_device_is_stored_by_its_thing_name_and_a_v1_error_keeps_its_item_format() -> None:
    # Given a V2 observation naming a failed core device, and a V1 one whose errors name no device
    device = ErrorDetail(code="DEVICE_ERROR", message="disk full", thing_name="gw-7")
    v2 = Observation(
        kind=DeploymentKind.GREENGRASS_V2, deployment_id="d-1", status="ACTIVE", error_details=(device,)
    )
    v1 = Observation(kind=KIND, deployment_id="bd-1", status="Failed", error_details=(ErrorDetail(code="E"),))
    # When they are stored: camelCase like the notification, and nothing new in a V1 item
    assert observation_attributes(v2)["errorDetails"] == [
        {"code": "DEVICE_ERROR", "message": "disk full", "thingName": "gw-7"}
    ]
    assert observation_attributes(v1)["errorDetails"] == [{"code": "E", "message": None}]
    # Then each reads back as it was
    assert tracked_deployment(stored_as(v2)).error_details == (device,)
    assert tracked_deployment(stored_as(v1)).error_details == (ErrorDetail(code="E"),)
