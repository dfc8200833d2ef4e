"""Cutting text to a limit in bytes: never over the limit, never inside a character, always the same."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel

from ggwatch.domain.sizes import (
    TRUNCATION_MARKER,
    encodable,
    json_text_size,
    truncate,
    utf8_size,
)

HOSTILE = st.text(alphabet=st.sampled_from(["a", "é", "€", "😀", "\x00", "\n", '"', "\\", "\u2028", "\x7f"]))
"""Characters whose size in bytes differs from their count: multi-byte UTF-8 and JSON escapes."""


class Body(BaseModel):
    text: str


@given(HOSTILE)
@example("\x00" * 50)
@example("😀" * 50)
def test_json_text_size_is_what_the_notification_serializer_writes(text: str) -> None:
    empty = len(Body(text="").model_dump_json().encode())
    assert json_text_size(text) == len(Body(text=text).model_dump_json().encode()) - empty
    assert json_text_size(text) >= utf8_size(text)


@given(HOSTILE, st.integers(min_value=0, max_value=400))
@example("😀" * 100, 30)
@example("\x00" * 100, 31)
def test_a_cut_text_fits_its_limit_in_bytes_and_keeps_whole_characters(text: str, limit: int) -> None:
    for size in (utf8_size, json_text_size):
        cut = truncate(text, limit, size=size)
        assert size(cut) <= limit or (cut == text and size(text) <= limit)
        cut.encode("utf-8")  # whole code points only: a split character would not encode
        if cut != text and size(TRUNCATION_MARKER) <= limit:
            assert cut.endswith(TRUNCATION_MARKER)
            assert text.startswith(cut[: -len(TRUNCATION_MARKER)])
        assert truncate(text, limit, size=size) == cut


def test_text_that_fits_is_returned_as_it_is() -> None:
    assert truncate("😀" * 10, 40, size=utf8_size) == "😀" * 10


def test_characters_count_by_their_bytes_not_their_number() -> None:
    # 100 emoji are 100 characters but 400 bytes: a cap of 100 must keep far fewer than 100 of them
    cut = truncate("😀" * 100, 100, size=utf8_size)
    assert utf8_size(cut) <= 100
    assert cut.count("😀") == (100 - utf8_size(TRUNCATION_MARKER)) // 4


def test_lone_surrogates_become_replacement_characters() -> None:
    assert encodable("a\ud800b") == "a\ufffdb"
    assert encodable("plain 😀") == "plain 😀"
