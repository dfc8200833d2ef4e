"""The Slack message for a transition: what it says, how it looks, and that Slack always accepts it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ggwatch.domain.models import ErrorDetail, Metrics
from ggwatch.slack.blocks import (
    MAX_BLOCKS,
    MAX_FALLBACK_CHARS,
    MAX_FIELD_CHARS,
    MAX_FIELDS,
    MAX_HEADER_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_CHARS,
    UNKNOWN_STATUS_STYLE,
    fallback_text,
    render,
    style_of,
)
from ggwatch.slack.escape import TRUNCATED, length
from tests.factories import notification_factory

HOSTILE = "<!channel> <@U0123> <#C0123> <https://evil.example|click> & `tick`"


notification = notification_factory(
    transition_id="7f3c0d2e9a1b4c5d",
    deployment_arn="arn:aws:greengrass:us-east-1:123456789012:/greengrass/bulk/deployments/bd-1",
    previous_status="Initializing",
    status="Running",
    metrics=Metrics({"recordsProcessed": 12, "invalidInputRecords": 2, "retryAttempts": 1}),
    created_at="2026-11-28T11:58:00Z",
)


def all_blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [*payload["blocks"], *(b for a in payload["attachments"] for b in a["blocks"])]


def texts(node: Any) -> Iterator[str]:
    """Every string Slack renders as text in the payload."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("text", "fallback") and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from texts(item)


def visible(payload: dict[str, Any]) -> str:
    return "\n".join(texts(payload))


def assert_within_slack_limits(payload: dict[str, Any]) -> None:
    blocks = all_blocks(payload)
    assert len(blocks) <= MAX_BLOCKS
    assert sum(length(text) for text in texts(all_blocks(payload))) <= MAX_MESSAGE_CHARS
    assert length(payload["text"]) <= MAX_FALLBACK_CHARS
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < length(block["text"]["text"]) <= MAX_HEADER_CHARS
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < length(block["text"]["text"]) <= MAX_SECTION_CHARS
            assert len(block.get("fields", [])) <= MAX_FIELDS
            assert all(0 < length(f["text"]) <= MAX_FIELD_CHARS for f in block.get("fields", []))


# ---------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("status", "emoji"),
    [
        ("Initializing", "⏳"),
        ("Running", "🔄"),
        ("Completed", "✅"),
        ("Stopping", "🛑"),
        ("Stopped", "⏹️"),
        ("Failed", "❌"),
        ("TrackingFailed", "⚠️"),
        ("Rebalancing", "❔"),
    ],
)
def test_the_header_shows_the_status_with_its_emoji(status: str, emoji: str) -> None:
    # When a notification in each status is rendered
    payload = render(notification(status=status))

    # Then the header starts with the status's emoji and carries the status verbatim
    header = payload["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] == f"{emoji} {status} · bd-1"


def test_each_outcome_has_its_own_colour_and_unknown_statuses_are_neutral() -> None:
    colours = {status: style_of(status).color for status in ("Running", "Completed", "Stopped", "Failed")}
    assert len(set(colours.values())) == 4
    assert style_of("Rebalancing") == UNKNOWN_STATUS_STYLE
    assert render(notification(status="Failed"))["attachments"][0]["color"] == colours["Failed"]


def test_tracking_failed_explains_that_tracking_stopped() -> None:
    payload = render(notification(status="TrackingFailed", previous_status="Running", terminal=True))

    assert "stopped tracking" in visible(payload)
    assert payload["attachments"][0]["color"] == style_of("TrackingFailed").color


# ---------------------------------------------------------------- the change


def test_a_status_change_reads_previous_arrow_current() -> None:
    payload = render(notification(previous_status="Initializing", status="Running"))

    assert "*Initializing → Running*" in payload["blocks"][1]["text"]["text"]


def test_a_first_observation_reads_first_seen() -> None:
    payload = render(notification(previous_status=None, status="Running"))

    assert "*First seen: Running*" in payload["blocks"][1]["text"]["text"]


def test_a_change_of_error_details_only_says_so() -> None:
    payload = render(notification(previous_status="Failed", status="Failed", changes=("errors",)))

    assert "*Error details changed (still Failed)*" in payload["blocks"][1]["text"]["text"]


# ---------------------------------------------------------------- the details


def test_the_details_show_deployment_kind_region_metrics_and_times() -> None:
    # Given a notification with every detail
    payload = render(notification())

    # When the facts section is read
    facts = [field["text"] for field in payload["attachments"][0]["blocks"][0]["fields"]]

    # Then each detail is labelled
    assert facts == [
        "*Deployment*\n`bd-1`",
        "*Kind*\n`greengrass-v1-bulk`",
        "*Region*\n`us-east-1`",
        "*Records processed*\n12",
        "*Invalid input records*\n2",
        "*Retry attempts*\n1",
        "*Created at*\n2026-11-28T11:58:00Z",
        "*Observed at*\n2026-11-28T12:00:00Z",
    ]


def test_unknown_region_and_creation_time_read_unknown() -> None:
    facts = render(notification(region=None, created_at=None))["attachments"][0]["blocks"][0]["fields"]

    assert {"*Region*\n_unknown_", "*Created at*\n_unknown_"} <= {f["text"] for f in facts}


def test_the_error_message_is_shown_as_preformatted_text() -> None:
    payload = render(notification(status="Failed", error_message="Access denied\nfor role x"))

    assert "*Error message*\n```Access denied\nfor role x```" in visible(payload)


def test_error_details_are_a_list_of_code_and_message_in_code_spans() -> None:
    details = (
        ErrorDetail(code="InvalidInput", message="record 3 is not JSON"),
        ErrorDetail(code=None, message="no code"),
        ErrorDetail(code="OnlyCode", message=None),
    )
    payload = render(notification(status="Failed", error_details=details))

    assert (
        "*Error details (3)*\n• `InvalidInput` `record 3 is not JSON`\n• `no code`\n• `OnlyCode`"
        in visible(payload)
    )


def test_tags_are_listed_sorted_by_key() -> None:
    payload = render(notification(tags={"team": "edge", "env": "prod"}))

    assert "*Tags (2)*\n`env` = `prod`  ·  `team` = `edge`" in visible(payload)


def test_the_context_names_the_transition_and_the_arn() -> None:
    context = render(notification())["attachments"][0]["blocks"][-1]

    assert context["type"] == "context"
    assert context["elements"][0]["text"] == "transition `7f3c0d2e9a1b4c5d`"
    assert "arn:aws:greengrass" in context["elements"][1]["text"]


def test_a_notification_shortened_for_sns_says_so() -> None:
    assert "shortened" in visible(render(notification(truncated=True)))


def test_sections_without_content_are_left_out() -> None:
    kinds = [block["type"] for block in render(notification())["attachments"][0]["blocks"]]

    assert kinds == ["section", "context"]


# ---------------------------------------------------------------- fallback text


def test_the_fallback_text_is_one_compact_line() -> None:
    text = fallback_text(notification(status="Completed", previous_status="Running"))

    assert text == "✅ Greengrass V1 bulk deployment bd-1 in us-east-1: Running → Completed"
    assert render(notification(status="Completed", previous_status="Running"))["text"] == text


def test_the_fallback_of_an_unknown_kind_shows_the_kind_verbatim() -> None:
    assert fallback_text(notification(deployment_kind="greengrass-v2-fleet", region=None)).startswith(
        "🔄 greengrass-v2-fleet bd-1: "
    )


# ---------------------------------------------------------------- escaping of AWS text


@pytest.mark.parametrize(
    "field",
    ["deployment_id", "deployment_arn", "region", "status", "previous_status", "error_message",
     "created_at", "observed_at", "transition_id", "deployment_kind"],
)  # fmt: skip
def test_every_aws_provided_string_field_is_escaped(field: str) -> None:
    # Given a hostile value in one field
    payload = render(notification(**{field: HOSTILE}))

    # Then nothing in the message can be parsed by Slack as a mention or a link
    assert "<" not in json.dumps(payload, ensure_ascii=False)
    assert "&lt;!channel&gt;" in visible(payload)


def test_error_details_and_tags_are_escaped() -> None:
    payload = render(
        notification(
            error_details=(ErrorDetail(code=HOSTILE, message=HOSTILE),),
            tags={HOSTILE: HOSTILE},
        )
    )

    assert "<" not in json.dumps(payload, ensure_ascii=False)
    assert visible(payload).count("&lt;!channel&gt;") >= 4


def mrkdwn_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node
        for value in node.values():
            yield from mrkdwn_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_objects(item)


def test_every_mrkdwn_text_object_is_verbatim_so_slack_links_and_mentions_nothing_by_itself() -> None:
    # Given a notification with every optional part, each holding text Slack would auto-link or notify
    auto = "@channel @here #general https://evil.example www.evil.example"
    payload = render(
        notification(
            status="Failed",
            region=auto,
            created_at=auto,
            error_message=auto,
            error_details=(ErrorDetail(code=auto, message=auto),),
            tags={auto: auto},
            truncated=True,
        )
    )

    # Then every mrkdwn text object turns Slack's automatic parsing off
    objects = list(mrkdwn_objects(payload))
    assert len(objects) >= 10
    assert all(obj["verbatim"] is True for obj in objects)


@pytest.mark.parametrize("message", [HOSTILE, "see https://evil.example @here", "a ``` b ` c", "` *x* `"])
def test_an_error_detail_message_stays_inside_its_code_span(message: str) -> None:
    # When a detail message holds mentions, links or backticks
    payload = render(notification(status="Failed", error_details=(ErrorDetail(code="E1", message=message),)))

    # Then its line is two whole code spans: nothing of the message is outside them
    line = next(line for text in texts(payload) for line in text.splitlines() if line.startswith("• "))
    assert re.fullmatch(r"• `E1` `[^`]+`", line), line


def test_a_backtick_in_an_id_cannot_open_formatting_after_the_code_span() -> None:
    summary = render(notification(deployment_id="x` *bold* `y"))["blocks"][1]["text"]["text"]

    assert re.search(r"`x\S+ \*bold\* \S+y`", summary)


# ---------------------------------------------------------------- limits


def test_a_huge_notification_is_truncated_visibly_within_every_limit() -> None:
    # Given every text far beyond Slack's limits
    huge = notification(
        deployment_id="d" * 5000,
        status="Failed",
        previous_status="Running",
        error_message="m" * 50_000,
        error_details=tuple(ErrorDetail(code=f"E{i}", message="x" * 2000) for i in range(500)),
        tags={f"key{i}": "v" * 256 for i in range(50)},
    )

    # When rendered
    payload = render(huge)

    # Then Slack's limits hold and the reader can see that text was cut
    assert_within_slack_limits(payload)
    assert TRUNCATED in payload["blocks"][0]["text"]["text"]
    assert TRUNCATED in visible(payload)
    assert re.search(r"…and \d+ more not shown", visible(payload))


def test_many_small_error_details_spread_over_sections_and_the_rest_are_counted() -> None:
    details = tuple(ErrorDetail(code=f"E{i}", message="bad record") for i in range(2000))

    payload = render(notification(status="Failed", error_details=details))

    assert_within_slack_limits(payload)
    detail_texts = [t for t in texts(payload["attachments"]) if t.startswith(("*Error details", "• "))]
    assert len(detail_texts) > 1
    assert detail_texts[0].startswith("*Error details (2000)*")
    assert re.search(r"…and \d+ more not shown", visible(payload))


def test_a_truncated_code_span_is_closed_before_the_marker() -> None:
    payload = render(notification(tags={f"key{i}": "v" * 200 for i in range(40)}))

    tags = next(t for t in texts(payload) if t.startswith("*Tags"))
    assert tags.endswith(f"`{TRUNCATED}")
    assert tags.count("`") % 2 == 0


text_or_none = st.none() | st.text(max_size=3000)


@settings(max_examples=60, deadline=None)
@given(
    status=st.text(min_size=1, max_size=300),
    previous=st.none() | st.text(max_size=300),
    deployment_id=st.text(min_size=1, max_size=3000),
    error_message=text_or_none,
    details=st.lists(st.tuples(text_or_none, text_or_none), max_size=60),
    tags=st.dictionaries(st.text(max_size=128), st.text(max_size=256), max_size=50),
)
def test_any_notification_renders_within_limits_and_without_control_sequences(
    status: str,
    previous: str | None,
    deployment_id: str,
    error_message: str | None,
    details: list[tuple[str | None, str | None]],
    tags: dict[str, str],
) -> None:
    payload = render(
        notification(
            status=status,
            previous_status=previous,
            deployment_id=deployment_id,
            error_message=error_message,
            error_details=tuple(ErrorDetail(code=c, message=m) for c, m in details),
            tags=tags,
        )
    )

    assert_within_slack_limits(payload)
    assert "<" not in json.dumps(payload, ensure_ascii=False)
