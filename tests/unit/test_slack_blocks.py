"""The Slack message for a transition: what it says, how it looks, and that Slack always accepts it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ggwatch.domain.models import V2_DEVICE_COUNTERS, DeploymentKind, ErrorDetail, Metrics
from ggwatch.domain.notification import ProgressDetail, StuckDetail
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
from ggwatch.slack.pace_words import duration
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


# ================================================================ Greengrass V2

THING_GROUP = "arn:aws:iot:us-east-1:123456789012:thinggroup/edge-fleet"

v2_notification = notification_factory(
    deployment_kind="greengrass-v2",
    deployment_id="d-4a1f",
    deployment_arn="arn:aws:greengrass:us-east-1:123456789012:deployments:d-4a1f",
    deployment_name="fleet-rollout",
    target_arn=THING_GROUP,
    revision_id="3",
    job_id="job-9",
    previous_status="ACTIVE",
    status="ACTIVE",
    changes=("errors",),
    metrics=Metrics(
        {"queued": 0, "inProgress": 0, "succeeded": 47, "failed": 3, "rejected": 0, "timedOut": 0,
         "canceled": 0, "removed": 0}
    ),
    error_message="3 of 50 devices failed: component com.example.App failed to start",
    error_details=(
        ErrorDetail(thing_name="edge-49", code="COMPONENT_BROKEN", message="App exited with 1"),
        ErrorDetail(thing_name="edge-12", code="DOWNLOAD_FAILED", message="artifact not found"),
        ErrorDetail(thing_name="edge-03", code="FAILED", message="timed out waiting for Nucleus"),
    ),
    created_at="2026-11-28T11:58:00Z",
)  # fmt: skip


def header_text(payload: dict[str, Any]) -> str:
    text: str = payload["blocks"][0]["text"]["text"]
    return text


def summary_lines(payload: dict[str, Any]) -> list[str]:
    text: str = payload["blocks"][1]["text"]["text"]
    return text.splitlines()


def v2_facts(payload: dict[str, Any]) -> list[str]:
    return [field["text"] for field in payload["attachments"][0]["blocks"][0]["fields"]]


def failed_device_lines(payload: dict[str, Any]) -> list[str]:
    return [
        line for text in texts(payload["attachments"]) for line in text.splitlines() if line.startswith("• ")
    ]


# ---------------------------------------------------------------- V2 header


@pytest.mark.parametrize(
    ("previous", "status", "header"),
    [
        (None, "ACTIVE", "🔄 fleet-rollout · Active"),
        ("ACTIVE", "COMPLETED", "✅ fleet-rollout · Completed"),
        ("ACTIVE", "CANCELED", "⏹️ fleet-rollout · Canceled"),
        ("ACTIVE", "FAILED", "❌ fleet-rollout · Failed"),
        ("ACTIVE", "INACTIVE", "⏭️ fleet-rollout · Replaced by a newer revision"),
        ("ACTIVE", "TrackingFailed", "⚠️ fleet-rollout · TrackingFailed"),
        ("ACTIVE", "PAUSED", "❔ fleet-rollout · PAUSED"),
    ],
)
def test_a_v2_header_names_the_deployment_and_says_its_status_in_words(
    previous: str | None, status: str, header: str
) -> None:
    # When a V2 status change is rendered
    payload = render(v2_notification(previous_status=previous, status=status, changes=("status",)))

    # Then the header reads emoji, name and status in words, not the API's upper-case value
    assert header_text(payload) == header


def test_every_v2_status_has_its_own_style_and_words_in_the_summary() -> None:
    statuses = ("ACTIVE", "COMPLETED", "CANCELED", "FAILED", "INACTIVE")

    assert all(style_of(status) != UNKNOWN_STATUS_STYLE for status in statuses)
    assert len({style_of(status).color for status in statuses}) == 5
    assert summary_lines(render(v2_notification(status="INACTIVE", changes=("status",))))[0] == (
        "*Active → Replaced by a newer revision*"
    )


def test_a_v2_header_says_how_many_more_devices_failed() -> None:
    payload = render(v2_notification())

    assert header_text(payload) == "🔄 fleet-rollout · Active · 3 more devices failed"
    assert summary_lines(payload)[0] == "*3 more devices failed (still Active)*"


def test_one_more_failed_device_is_singular() -> None:
    payload = render(v2_notification(error_details=(ErrorDetail(thing_name="edge-1", code="FAILED"),)))

    assert header_text(payload).endswith("· 1 more device failed")


@pytest.mark.parametrize(
    "details",
    [
        (),
        (ErrorDetail(thing_name="edge-1", code="FAILED"), ErrorDetail(message="7 more not shown")),
    ],
)
def test_without_an_exact_count_of_newly_failed_devices_the_header_gives_no_number(
    details: tuple[ErrorDetail, ...],
) -> None:
    assert header_text(render(v2_notification(error_details=details))).endswith("· more devices failed")


def test_a_notification_shortened_for_sns_gives_no_count_of_newly_failed_devices() -> None:
    assert header_text(render(v2_notification(truncated=True))).endswith("· Active · more devices failed")


def test_a_settled_rollout_says_so() -> None:
    payload = render(v2_notification(changes=("settled",), error_details=()))

    assert header_text(payload) == "🔄 fleet-rollout · Active · rollout settled"
    assert summary_lines(payload)[0] == "*Rollout settled (still Active)*"


def test_a_status_change_with_failures_and_settling_says_all_three() -> None:
    payload = render(v2_notification(status="FAILED", changes=("status", "errors", "settled")))

    assert header_text(payload) == "❌ fleet-rollout · Failed · 3 more devices failed · rollout settled"
    assert summary_lines(payload)[0] == "*Active → Failed · 3 more devices failed · rollout settled*"


def test_a_first_seen_v2_deployment_says_first_seen() -> None:
    payload = render(v2_notification(previous_status=None, changes=("status",)))

    assert summary_lines(payload)[0] == "*First seen: Active*"


def test_a_deployment_without_a_name_is_named_by_its_id() -> None:
    payload = render(v2_notification(deployment_name=None, changes=("status",), status="COMPLETED"))

    assert header_text(payload) == "✅ d-4a1f · Completed"
    assert payload["text"].startswith("✅ Greengrass V2 deployment d-4a1f (Thing group edge-fleet)")


def test_a_long_name_is_cut_so_that_the_status_and_the_change_stay_in_the_header() -> None:
    payload = render(v2_notification(deployment_name="n" * 500))

    assert length(header_text(payload)) <= MAX_HEADER_CHARS
    assert TRUNCATED in header_text(payload)
    assert header_text(payload).endswith(" · Active · 3 more devices failed")


# ---------------------------------------------------------------- V2 fields and progress


def test_v2_fields_show_the_target_revision_and_deployment_id() -> None:
    assert v2_facts(render(v2_notification())) == [
        "*Thing group*\n`edge-fleet`",
        "*Revision*\n`3`",
        "*Deployment*\n`d-4a1f`",
        "*IoT job*\n`job-9`",
        "*Region*\n`us-east-1`",
        "*Created at*\n2026-11-28T11:58:00Z",
        "*Observed at*\n2026-11-28T12:00:00Z",
    ]


@pytest.mark.parametrize(
    ("target_arn", "field"),
    [
        ("arn:aws:iot:eu-west-1:123456789012:thing/edge-07", "*Thing*\n`edge-07`"),
        ("arn:aws-cn:iot:cn-north-1:123456789012:thinggroup/a:b", "*Thing group*\n`a:b`"),
        ("arn:aws:iot:us-east-1:123456789012:billinggroup/x", "*Target*\n`arn:aws:iot:us-east-1:123456789012:billinggroup/x`"),
        ("not an arn", "*Target*\n`not an arn`"),
        (None, "*Target*\n_unknown_"),
    ],
)  # fmt: skip
def test_the_target_is_labelled_by_its_kind_and_shown_by_name(target_arn: str | None, field: str) -> None:
    assert v2_facts(render(v2_notification(target_arn=target_arn)))[0] == field


def test_missing_revision_and_job_read_unknown_or_are_left_out() -> None:
    facts = v2_facts(render(v2_notification(revision_id=None, job_id=None)))

    assert "*Revision*\n_unknown_" in facts
    assert not any(fact.startswith("*IoT job*") for fact in facts)


def test_v2_progress_is_one_line_of_a_bar_and_the_headline_counts() -> None:
    payload = render(v2_notification())

    assert summary_lines(payload)[1] == "`▰▰▰▰▰▰▰▰▰▱` 47/50 succeeded · 3 failed · 0 in progress"


def counts(**values: int) -> Metrics:
    return Metrics(values).for_kind(DeploymentKind.GREENGRASS_V2)


@pytest.mark.parametrize(
    ("metrics", "line"),
    [
        (counts(), "`▱▱▱▱▱▱▱▱▱▱` 0/0 succeeded · 0 failed · 0 in progress"),
        (counts(succeeded=50), "`▰▰▰▰▰▰▰▰▰▰` 50/50 succeeded · 0 failed · 0 in progress"),
        (counts(succeeded=99, failed=1), "`▰▰▰▰▰▰▰▰▰▱` 99/100 succeeded · 1 failed · 0 in progress"),
        (
            counts(queued=20, inProgress=10, succeeded=5, rejected=1, timedOut=2, canceled=3, removed=4),
            "`▰▱▱▱▱▱▱▱▱▱` 5/45 succeeded · 0 failed · 1 rejected · 2 timed out · 10 in progress"
            " · 20 queued · 3 canceled · 4 removed",
        ),
        (counts(succeeded=-5, failed=3), "`▱▱▱▱▱▱▱▱▱▱` -5/-2 succeeded · 3 failed · 0 in progress"),
    ],
)
def test_the_progress_line_leaves_out_zero_counts_except_the_headline_ones(
    metrics: Metrics, line: str
) -> None:
    assert summary_lines(render(v2_notification(metrics=metrics)))[1] == line


# ---------------------------------------------------------------- V2 failed devices


def test_failed_devices_are_listed_with_their_reasons_in_the_order_given_newest_first() -> None:
    payload = render(v2_notification())

    assert "*Failed devices (3)*" in visible(payload)
    assert failed_device_lines(payload) == [
        "• `edge-49`: `COMPONENT_BROKEN` `App exited with 1`",
        "• `edge-12`: `DOWNLOAD_FAILED` `artifact not found`",
        "• `edge-03`: `FAILED` `timed out waiting for Nucleus`",
    ]


@pytest.mark.parametrize("reason", [HOSTILE, "see https://evil.example @here", "a ``` b ` c", "` *x* `"])
def test_a_hostile_device_name_or_reason_stays_inside_its_code_spans(reason: str) -> None:
    # Given a failed device whose name and reason hold mentions, links and backticks
    details = (ErrorDetail(thing_name=reason, code="FAILED", message=reason),)

    # When rendered
    payload = render(v2_notification(error_details=details, deployment_name=reason, target_arn=reason))

    # Then no control sequence reaches Slack and the line is whole code spans only
    assert "<" not in json.dumps(payload, ensure_ascii=False)
    assert re.fullmatch(r"• `[^`]+`: `FAILED` `[^`]+`", failed_device_lines(payload)[0])
    assert all(obj["verbatim"] is True for obj in mrkdwn_objects(payload))


def test_hostile_names_in_the_header_and_fallback_are_escaped() -> None:
    payload = render(v2_notification(deployment_name=HOSTILE))

    assert header_text(payload).startswith("🔄 &lt;!channel&gt; &lt;@U0123&gt;")
    assert payload["text"].startswith("🔄 Greengrass V2 deployment &lt;!channel&gt;")


def test_many_failed_devices_stay_within_slack_limits_and_the_rest_are_counted() -> None:
    # Given more failed devices with long reasons than one message can hold
    details = tuple(
        ErrorDetail(thing_name=f"edge-{i:04}", code="COMPONENT_BROKEN", message="r" * 1500)
        for i in range(300)
    )

    payload = render(
        v2_notification(error_details=details, error_message="e" * 20_000, tags={"k": "v" * 256})
    )

    # Then the limits hold, the newest come first and the rest are counted
    assert_within_slack_limits(payload)
    lines = failed_device_lines(payload)
    assert lines[0].startswith("• `edge-0000`:")
    assert 1 < len(lines) < 300
    assert f"…and {300 - len(lines)} more not shown" in visible(payload)


# ---------------------------------------------------------------- V2 fallback text


def test_the_v2_fallback_names_deployment_target_change_and_counts() -> None:
    assert fallback_text(v2_notification()) == (
        "🔄 Greengrass V2 deployment fleet-rollout (Thing group edge-fleet) in us-east-1: "
        "3 more devices failed (still Active) · 47/50 succeeded · 3 failed · 0 in progress"
    )


def test_the_v2_fallback_without_a_target_or_region_stays_compact() -> None:
    text = fallback_text(
        v2_notification(target_arn=None, region=None, changes=("status",), status="COMPLETED")
    )

    assert text == (
        "✅ Greengrass V2 deployment fleet-rollout: Active → Completed · 47/50 succeeded · 3 failed · 0 in progress"
    )


def test_a_long_name_and_target_are_cut_so_the_fallback_keeps_the_change_and_counts() -> None:
    text = fallback_text(v2_notification(deployment_name="n" * 500, target_arn="t" * 500))

    assert length(text) <= MAX_FALLBACK_CHARS
    assert text.endswith(
        ": 3 more devices failed (still Active) · 47/50 succeeded · 3 failed · 0 in progress"
    )


@settings(max_examples=60, deadline=None)
@given(
    status=st.text(min_size=1, max_size=300),
    previous=st.none() | st.text(max_size=300),
    name=text_or_none,
    target_arn=text_or_none,
    changes=st.lists(st.sampled_from(["status", "errors", "settled"]), unique=True),
    metrics=st.dictionaries(st.sampled_from(list(V2_DEVICE_COUNTERS)), st.integers(-10, 10**9)),
    details=st.lists(st.tuples(text_or_none, text_or_none, text_or_none), max_size=60),
)
def test_any_v2_notification_renders_within_limits_and_without_control_sequences(
    status: str,
    previous: str | None,
    name: str | None,
    target_arn: str | None,
    changes: list[str],
    metrics: dict[str, int],
    details: list[tuple[str | None, str | None, str | None]],
) -> None:
    payload = render(
        v2_notification(
            status=status,
            previous_status=previous,
            deployment_name=name,
            target_arn=target_arn,
            changes=tuple(changes),
            metrics=Metrics(metrics),
            error_details=tuple(ErrorDetail(thing_name=t, code=c, message=m) for t, c, m in details),
        )
    )

    assert_within_slack_limits(payload)
    assert "<" not in json.dumps(payload, ensure_ascii=False)


# ---------------------------------------------------------------- pace: stuck, moving again, progress

STUCK_FOR_2H = StuckDetail(
    reason="progress",
    since="2026-11-28T10:00:00Z",
    duration_seconds=7500,
    threshold_seconds=1800,
    progress=12,
)


def test_a_stuck_bulk_deployment_says_what_did_not_move_and_for_how_long() -> None:
    payload = render(
        notification(event_type="DeploymentStuck", previous_status="Running", changes=(), stuck=STUCK_FOR_2H)
    )
    assert header_text(payload) == "🐢 Running · stuck · bd-1"
    assert (
        summary_lines(payload)[0]
        == "*Stuck: no progress for 2 h 5 min (still Running, 12 records processed)*"
    )
    assert payload["attachments"][0]["color"] == "#E8912D"
    assert payload["text"].startswith(
        "🐢 Greengrass V1 bulk deployment bd-1 in us-east-1: Stuck: no progress"
    )


def test_a_v2_rollout_stuck_in_its_status_and_then_moving_again_read_differently() -> None:
    unsettled = StuckDetail(
        reason="status",
        since="2026-11-27T10:00:00Z",
        duration_seconds=93600,
        threshold_seconds=86400,
        progress=47,
    )
    stuck = render(v2_notification(event_type="DeploymentStuck", changes=(), stuck=unsettled))
    moving = render(v2_notification(event_type="DeploymentRecovered", changes=(), stuck=unsettled))
    assert header_text(stuck) == "🐢 fleet-rollout · Active · stuck"
    assert summary_lines(stuck)[0] == "*Stuck: rollout not settled after 1 d 2 h (47 devices finished)*"
    assert header_text(moving) == "▶️ fleet-rollout · Active · moving again"
    assert summary_lines(moving)[0] == "*Moving again after 1 d 2 h stuck*"
    assert stuck["attachments"][0]["color"] != moving["attachments"][0]["color"]


def test_a_progress_step_names_the_share_reached() -> None:
    reached = ProgressDetail(percent=50, finished=25, total=50)
    payload = render(v2_notification(event_type="DeploymentProgress", changes=(), progress=reached))
    assert header_text(payload) == "📶 fleet-rollout · Active · 50 % finished"
    assert summary_lines(payload)[0] == "*Rollout at 50 %: 25 of 50 devices finished*"


def test_a_hostile_status_in_a_stuck_message_is_escaped() -> None:
    payload = render(
        notification(event_type="DeploymentStuck", status=HOSTILE, changes=(), stuck=STUCK_FOR_2H)
    )
    assert "<!channel>" not in visible(payload)
    assert "&lt;!channel&gt;" in summary_lines(payload)[0]
    assert_within_slack_limits(payload)


@pytest.mark.parametrize(
    ("seconds", "words"), [(59, "0 min"), (2700, "45 min"), (3600, "1 h"), (86400, "1 d")]
)
def test_durations_read_in_their_two_largest_units(seconds: int, words: str) -> None:
    assert duration(seconds) == words
