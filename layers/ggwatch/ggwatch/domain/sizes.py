"""Sizes in bytes, counted the way each AWS limit counts them, and the one way ggwatch cuts text to fit.

Every limit a message or an item must fit is in bytes (a DynamoDB item 400 KB, an SNS message or an
EventBridge entry 256 KB), while `len` counts code points: a 4-byte emoji, or a control character that
JSON writes as six bytes (`\\u0000`), makes a text capped in characters overflow a limit in bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

DYNAMODB_ITEM_MAX_BYTES = 400 * 1024
SNS_MESSAGE_MAX_BYTES = 256 * 1024
"""Body plus every attribute's name, data type and value."""
EVENTBRIDGE_ENTRY_MAX_BYTES = 256 * 1024
"""Time (14 bytes when set) plus Source, DetailType, Detail and each Resources entry in UTF-8."""

TRUNCATION_MARKER = "… [truncated by ggwatch]"

_SURROGATE = re.compile("[\ud800-\udfff]")

Measure = Callable[[str], int]
"""How a limit counts a text; it must grow with the text (a longer prefix never measures less)."""


def utf8_size(text: str) -> int:
    """Bytes of the UTF-8 form: how DynamoDB, SNS and EventBridge count strings."""
    return len(text.encode("utf-8", "surrogatepass"))


def json_text_size(text: str) -> int:
    """Bytes the text takes inside a JSON string: UTF-8 plus escapes, without the quotes.

    Never less than `utf8_size`, so a text cut to this measure fits both a JSON body and a plain item.
    """
    return utf8_size(json.dumps(text, ensure_ascii=False)) - 2


def encodable(text: str) -> str:
    """The text with each lone surrogate (which JSON can escape but UTF-8 cannot carry) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def truncate(
    text: str,
    limit: int,
    *,
    size: Measure = json_text_size,
    marker: str = TRUNCATION_MARKER,
    tidy: Callable[[str], str] = lambda cut: cut,
) -> str:
    """`text` when it fits `limit`; else its longest prefix that fits with `marker` appended.

    The cut is deterministic (an unchanged oversized text never looks like a change) and never splits
    a code point. `tidy` may shorten the cut further (Slack uses it to never split an `&amp;` entity).
    """
    if size(text) <= limit:
        return text
    room = limit - size(marker)
    if room < 0:
        return longest_prefix(marker, limit, size)
    return tidy(longest_prefix(text, room, size)) + marker


def truncate_optional(text: str | None, limit: int, *, size: Measure = json_text_size) -> str | None:
    """`truncate` for a text that may be absent."""
    return None if text is None else truncate(text, limit, size=size)


def longest_prefix(text: str, limit: int, size: Measure) -> str:
    """The longest prefix of whole code points whose size is at most `limit` (a binary search)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if size(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low]
