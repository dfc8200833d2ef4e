"""DynamoDB's SDK errors become the package's in one place, for every adapter that writes the table."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ggwatch.adapters.aws_errors import dynamodb_errors
from ggwatch.exceptions import ConflictError, RepositoryError


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, "UpdateItem")


def test_a_failed_condition_is_a_lost_race_with_the_callers_words() -> None:
    with pytest.raises(ConflictError, match="already claimed"), dynamodb_errors("already claimed"):
        raise client_error("ConditionalCheckFailedException")


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (client_error("ProvisionedThroughputExceededException"), "DynamoDB answered ProvisionedThroughput"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "DynamoDB call failed"),
    ],
)
def test_any_other_failure_is_a_repository_error(error: Exception, text: str) -> None:
    with pytest.raises(RepositoryError, match=text), dynamodb_errors():
        raise error
