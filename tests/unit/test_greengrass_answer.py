"""A GetBulkDeploymentStatus answer in ggwatch's words: counters by name, one error model, no garbage."""

from __future__ import annotations

import pytest

from ggwatch.adapters.greengrass_v1 import observation_from_answer
from ggwatch.domain.models import ErrorDetail, Metrics
from ggwatch.exceptions import SourceUnavailableError


def test_the_answer_maps_to_the_notifications_counter_names_and_error_model() -> None:
    observation = observation_from_answer(
        "bd-1",
        {
            "BulkDeploymentStatus": "Failed",
            "BulkDeploymentMetrics": {"RecordsProcessed": 7, "RetryAttempts": 3},
            "ErrorDetails": [{"DetailedErrorCode": "E1", "DetailedErrorMessage": "first"}],
        },
    )
    assert observation.metrics == Metrics(
        {"recordsProcessed": 7, "invalidInputRecords": 0, "retryAttempts": 3}
    )
    assert observation.error_details == (ErrorDetail(code="E1", message="first"),)


@pytest.mark.parametrize(
    "answer",
    [
        {"BulkDeploymentStatus": "R" * 10_000},
        {"BulkDeploymentStatus": "Running", "ErrorDetails": [{"DetailedErrorCode": 42}]},
        {"BulkDeploymentStatus": "Running", "tags": {"k": 1}},
    ],
)
def test_a_garbled_answer_is_a_source_failure_naming_the_field(answer: dict[str, object]) -> None:
    with pytest.raises(SourceUnavailableError, match="garbled answer"):
        observation_from_answer("bd-1", answer)
