"""Metrics and logs carry the stack's names from the environment, so two stacks never mix them.

Powertools reads its names when `ggwatch.observability` is imported (a Lambda cold start), so each
case imports it afresh in its own interpreter with the environment a stack would give it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

EMIT = """
from aws_lambda_powertools.metrics import MetricUnit
from ggwatch.observability import logger, metrics
metrics.add_metric(name="DeploymentsPolled", unit=MetricUnit.Count, value=0)
print(metrics.serialize_metric_set()["_aws"]["CloudWatchMetrics"][0]["Namespace"])
print(metrics.serialize_metric_set()["service"])
print(logger.service)
"""


def names_at_cold_start(environment: dict[str, str]) -> list[str]:
    """(metrics namespace, metrics service dimension, logger service) of a fresh import."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    answer = subprocess.run(
        [sys.executable, "-c", EMIT], env=clean | environment, capture_output=True, text=True, check=True
    )
    return answer.stdout.split()


def test_the_stacks_namespace_and_service_name_come_from_the_environment() -> None:
    names = names_at_cold_start(
        {"POWERTOOLS_METRICS_NAMESPACE": "ggwatch-prod", "POWERTOOLS_SERVICE_NAME": "ggwatch-prod"}
    )
    assert names == ["ggwatch-prod", "ggwatch-prod", "ggwatch-prod"]


def test_two_stacks_emit_under_different_namespaces() -> None:
    first = names_at_cold_start({"POWERTOOLS_METRICS_NAMESPACE": "a", "POWERTOOLS_SERVICE_NAME": "a"})
    second = names_at_cold_start({"POWERTOOLS_METRICS_NAMESPACE": "b", "POWERTOOLS_SERVICE_NAME": "b"})
    assert first != second


@pytest.mark.parametrize("unset", [{}, {"POWERTOOLS_METRICS_NAMESPACE": "", "POWERTOOLS_SERVICE_NAME": ""}])
def test_outside_a_stack_the_names_fall_back_to_ggwatch(unset: dict[str, str]) -> None:
    assert names_at_cold_start(unset) == ["ggwatch", "ggwatch", "ggwatch"]


class _ReadThenWriteMetrics:
    """Adds the way Metrics does, read then write, with room for another thread in between."""

    def __init__(self) -> None:
        self.total = 0.0

    def add_metric(self, *, name: str, unit: object, value: float) -> None:
        seen = self.total
        time.sleep(0.0005)
        self.total = seen + value


def test_counts_from_concurrent_workers_are_all_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from ggwatch import observability

    recorder = _ReadThenWriteMetrics()
    monkeypatch.setattr(observability, "metrics", recorder)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: observability.count("TransitionsPublished"), range(200)))
    assert recorder.total == 200
