"""Fixtures every test may use: a clean fake AWS environment, a Lambda context, a moto table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

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


@dataclass
class LambdaContext:
    """Just enough of Lambda's context object for powertools and the poller's deadline."""

    function_name: str = "ggwatch-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:ggwatch-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining_ms: int = 50_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


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
