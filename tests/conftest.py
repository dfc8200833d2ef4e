"""Fixtures every test may use: a clean fake AWS environment, a Lambda context, a moto table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ggwatch_local.lambda_runtime import ACCOUNT_ID, LambdaContext

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach real AWS or inherit a developer's endpoints or profile."""
    for name in list(__import__("os").environ):
        if name.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ggwatch")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    """Metrics are module-level in powertools: start and end every test with none pending."""
    from ggwatch.observability import metrics

    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def context_with(remaining_ms: int = 50_000, *, clock: Callable[[], float] = lambda: 0.0) -> LambdaContext:
    """The local runtime's Lambda context for a test function, `remaining_ms` from its deadline.

    `clock` reads the seconds spent since the run started (0 at first). The default one stands still,
    so the time left stays what the test set; pass one that moves to make the time run out where the
    test decides.
    """
    return LambdaContext(
        function_name="ggwatch-test",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ggwatch-test",
        memory_limit_in_mb=256,
        deadline=remaining_ms / 1000,
        clock=clock,
    )


@pytest.fixture
def lambda_context() -> LambdaContext:
    return context_with()


@pytest.fixture
def moto_aws() -> Iterator[None]:
    """moto's in-process AWS for DynamoDB, SNS, SQS and Secrets Manager."""
    with mock_aws():
        yield


@pytest.fixture
def deployments_table(moto_aws: None) -> Any:
    """The deployments table, created from template.yaml's own definition."""
    from ggwatch_local.template import create_table_from_template

    return create_table_from_template(boto3.client("dynamodb", region_name=REGION), "ggwatch-test-table")
