"""Opaque NextToken paging, as the fakes' list operations answer it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence


def encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": value}).encode()).decode()


def decode_token(token: str) -> str | None:
    """The value a token carries; None when it is not one of ours."""
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return value if isinstance(value, str) else None


def offset_page[T](
    items: Sequence[T], token: str | None, max_results: int, invalid: Callable[[], Exception]
) -> tuple[Sequence[T], str | None]:
    """One page of ``items`` from where ``token`` left off, and the token of the next page if any.

    ``invalid`` builds the service's own error for a token that is garbled or points past the end.
    """
    start = 0
    if token is not None:
        offset = decode_token(token)
        if offset is None or not offset.isdigit() or int(offset) > len(items):
            raise invalid()
        start = int(offset)
    end = start + max_results
    return items[start:end], encode_token(str(end)) if end < len(items) else None
