"""Text from AWS cannot ping, link or break out of formatting in Slack, and reads as it was written."""

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ggwatch.slack.escape import (
    BACKTICK_STAND_IN,
    TRUNCATED,
    code,
    code_block,
    escape,
    length,
    truncate,
    unescape,
)

CONTROL_SEQUENCE = re.compile(r"<[^>]*>")
"""Anything Slack could parse: <!channel>, <!here>, <!everyone>, <@U…>, <#C…>, <!date^…>, <http…|…>."""

hostile = st.text() | st.lists(
    st.sampled_from(
        ["<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<http://x|y>", "&", "`", "a"]
    )
).map("".join)


@given(hostile)
@example("<!channel> deploy failed")
@example("&lt;!here&gt;")
def test_escaped_text_contains_no_control_sequence(text: str) -> None:
    # Given any text from AWS, When it is escaped
    escaped = escape(text)

    # Then no `<`/`>` is left for Slack to parse, and every `&` starts an entity
    assert "<" not in escaped
    assert ">" not in escaped
    assert not CONTROL_SEQUENCE.search(escaped)
    assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", escaped, flags=re.DOTALL)


@given(st.text())
def test_escaping_is_lossless(text: str) -> None:
    assert unescape(escape(text)) == text


@given(st.text(alphabet=st.characters(blacklist_characters="&<>")))
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert escape(text) == text


def test_already_escaped_text_is_escaped_again_so_it_reads_as_written() -> None:
    assert escape("&lt;!here&gt;") == "&amp;lt;!here&amp;gt;"


@given(hostile)
def test_a_code_span_cannot_be_closed_early_or_broken_by_newlines(text: str) -> None:
    # When a value is shown as inline code
    span = code(text)

    # Then it is one span: backticks only at both ends, one line, no control sequence
    assert span.startswith("`")
    assert span.endswith("`")
    assert "`" not in span[1:-1]
    assert "\n" not in span
    assert "<" not in span
    assert ">" not in span


def test_a_code_span_shows_backticks_as_a_lookalike_and_empty_values_visibly() -> None:
    assert code("a`b") == f"`a{BACKTICK_STAND_IN}b`"
    assert code("  ") == "`(empty)`"


@given(hostile)
def test_a_code_block_cannot_be_closed_early(text: str) -> None:
    block = code_block(text)

    assert block.startswith("```")
    assert block.endswith("```")
    assert "`" not in block[3:-3]
    assert "<" not in block
    assert ">" not in block


def test_a_code_block_keeps_line_breaks() -> None:
    assert code_block("line 1\nline 2") == "```line 1\nline 2```"


@given(hostile, st.integers(min_value=0, max_value=60))
def test_truncated_text_fits_and_never_ends_in_half_an_entity(text: str, limit: int) -> None:
    # Given escaped text and any limit
    cut = truncate(escape(text), limit)

    # Then it fits, and stripping the marker leaves only whole entities
    assert length(cut) <= limit
    body = cut.removesuffix(TRUNCATED)
    assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", body, flags=re.DOTALL)


def test_truncation_shows_a_visible_marker() -> None:
    assert truncate("x" * 100, 20) == "x" * (20 - len(TRUNCATED)) + TRUNCATED


def test_text_within_the_limit_is_not_truncated() -> None:
    assert truncate("short", 5) == "short"


@pytest.mark.parametrize(("text", "expected"), [("ab", 2), ("✅", 1), ("😀", 2), ("⏹️", 2)])
def test_length_counts_like_slack_in_utf16_units(text: str, expected: int) -> None:
    assert length(text) == expected


@given(st.text(), st.integers(min_value=0, max_value=40))
def test_code_spans_with_a_limit_fit_it(text: str, limit: int) -> None:
    assert length(code(text, max(limit, len(TRUNCATED) + 2))) <= max(limit, len(TRUNCATED) + 2)
