"""Reading botocore errors the same way in every adapter, and translating DynamoDB's in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from ggwatch.exceptions import ConflictError, RepositoryError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError ("" when the answer had none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    """The AWS error message of a ClientError, falling back to botocore's own text."""
    return str(error.response.get("Error", {}).get("Message") or error)


def is_throttling(error: ClientError) -> bool:
    return error_code(error) in THROTTLING_CODES


@contextmanager
def dynamodb_errors(conflict: str = "a condition of the write did not hold") -> Iterator[None]:
    """SDK failures of DynamoDB calls as the package's errors: a failed condition is a ConflictError
    (a lost race, carrying `conflict` as its message), anything else a RepositoryError."""
    try:
        yield
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise ConflictError(conflict) from error
        raise RepositoryError(f"DynamoDB answered {error_code(error)}: {error_message(error)}") from error
    except BotoCoreError as error:
        raise RepositoryError(f"DynamoDB call failed: {error}") from error
