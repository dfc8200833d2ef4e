"""One translation of SDK failures into ggwatch's errors, for every deployment source's calls."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from ggwatch.adapters.aws_errors import error_code, error_message, is_throttling
from ggwatch.exceptions import DeploymentNotFoundError, SourceThrottledError, SourceUnavailableError


@contextmanager
def source_errors(service: str, operation: str, *, not_found: Collection[str] = ()) -> Iterator[None]:
    """Raise SourceThrottledError, DeploymentNotFoundError (for a code in ``not_found``) or
    SourceUnavailableError instead of whatever the SDK raised inside the block."""
    try:
        yield
    except ClientError as error:
        if is_throttling(error):
            raise SourceThrottledError(f"{service} throttled the request: {error_message(error)}") from error
        if error_code(error) in not_found:
            raise DeploymentNotFoundError(error_message(error)) from error
        raise SourceUnavailableError(
            f"{service} answered {error_code(error)}: {error_message(error)}"
        ) from error
    except (BotoCoreError, ValueError) as error:
        # ValueError: botocore could not parse a garbled answer (a string where the model has an int).
        raise SourceUnavailableError(f"{operation} failed: {error}") from error
