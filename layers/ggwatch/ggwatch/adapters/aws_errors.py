"""Reading botocore errors the same way in every adapter."""

from botocore.exceptions import ClientError

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
