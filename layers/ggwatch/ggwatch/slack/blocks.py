"""What a Slack message about one transition says and looks like (pure: Notification in, payload out).

Layout: the header and the change sit in top-level blocks, so they are always shown and feed desktop
notifications; the details sit in one secondary attachment, whose only job is the coloured bar that
tells the outcome at a glance. `text` is the plain fallback that mobile notifications show.

A Greengrass V2 message leads with the deployment's name, its status in words and what changed, shows
the rollout as one progress line of device counts, labels its target, and lists the failed devices
with their reasons; its words come from `v2_words`, its markup and limits from here, as for V1.

Every string that came from AWS goes through `escape`, and every mrkdwn text object is `verbatim`:
Slack then keeps plain text as written instead of turning URLs, channel names and some mentions into
links and notifications (its automatic parsing). Error details are code spans, like IDs and tags. Every limit Slack enforces (header 150, section
3000, 10 fields of 2000, 50 blocks, and the total size of all blocks, which Slack rejects with
`msg_blocks_too_long` somewhere above 13,000 characters) is respected by cutting text with a visible
marker, so an oversized notification is still posted, never rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ggwatch.domain.models import (
    TRACKING_FAILED,
    DeploymentKind,
    ErrorDetail,
    Results,
    V1BulkStatus,
    V2DeploymentStatus,
    counter_label,
)
from ggwatch.domain.notification import PROGRESS_EVENT, RECOVERED_EVENT, STUCK_EVENT, Notification
from ggwatch.slack import pace_words, results_words, v2_words
from ggwatch.slack.escape import TRUNCATED, code, code_block, escape, length, truncate

MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_FIELDS = 10
MAX_FIELD_CHARS = 2000
MAX_BLOCKS = 50
MAX_MESSAGE_CHARS = 12_000
"""All text in all blocks together; kept below what Slack accepts, which it does not document."""
MAX_FALLBACK_CHARS = 300
_MAX_TAGS_CHARS = 1500
_MAX_DETAIL_LINE_CHARS = 600


@dataclass(frozen=True)
class StatusStyle:
    emoji: str
    color: str


STATUS_STYLES: dict[str, StatusStyle] = {
    V1BulkStatus.INITIALIZING: StatusStyle("⏳", "#439FE0"),
    V1BulkStatus.RUNNING: StatusStyle("🔄", "#439FE0"),
    V1BulkStatus.COMPLETED: StatusStyle("✅", "#2EB67D"),
    V1BulkStatus.STOPPING: StatusStyle("🛑", "#ECB22E"),
    V1BulkStatus.STOPPED: StatusStyle("⏹️", "#ECB22E"),
    V1BulkStatus.FAILED: StatusStyle("❌", "#E01E5A"),
    V2DeploymentStatus.ACTIVE: StatusStyle("🔄", "#439FE0"),
    V2DeploymentStatus.COMPLETED: StatusStyle("✅", "#2EB67D"),
    V2DeploymentStatus.CANCELED: StatusStyle("⏹️", "#ECB22E"),
    V2DeploymentStatus.FAILED: StatusStyle("❌", "#E01E5A"),
    V2DeploymentStatus.INACTIVE: StatusStyle("⏭️", "#6B7A8F"),
    TRACKING_FAILED: StatusStyle("⚠️", "#E8912D"),
}
UNKNOWN_STATUS_STYLE = StatusStyle("❔", "#868686")
"""For statuses the API may add later: shown verbatim, in neutral grey."""

EVENT_STYLES: dict[str, StatusStyle] = {
    STUCK_EVENT: StatusStyle("🐢", "#E8912D"),
    RECOVERED_EVENT: StatusStyle("▶️", "#2EB67D"),
    PROGRESS_EVENT: StatusStyle("📶", "#439FE0"),
}
"""A message about a deployment's pace looks unlike any status change, whatever the status."""

KIND_LABELS: dict[str, str] = {
    DeploymentKind.GREENGRASS_V1_BULK: "Greengrass V1 bulk deployment",
    DeploymentKind.GREENGRASS_V2: "Greengrass V2 deployment",
}


def style_of(status: str) -> StatusStyle:
    return STATUS_STYLES.get(status, UNKNOWN_STATUS_STYLE)


def _style(notification: Notification) -> StatusStyle:
    return EVENT_STYLES.get(notification.event_type) or style_of(notification.status)


def render(notification: Notification) -> dict[str, Any]:
    """The webhook payload: fallback text, the always-visible blocks, and the coloured details."""
    budget = _Budget(MAX_MESSAGE_CHARS)
    header = _header(notification, budget)
    summary = _section(_summary(notification), budget)
    context = _context(notification, budget)
    facts = _facts(notification, budget)
    optional = [_error_message(notification, budget), _tags(notification, budget)]
    error_message, tags = optional
    room = MAX_BLOCKS - 4 - sum(block is not None for block in optional)
    details = _error_details(notification, budget, room)
    secondary = [facts, error_message, *details, tags, context]
    fallback = fallback_text(notification)
    return {
        "text": fallback,
        "blocks": [header, summary],
        "attachments": [
            {
                "color": _style(notification).color,
                "fallback": fallback,
                "blocks": [block for block in secondary if block is not None],
            }
        ],
    }


def fallback_text(notification: Notification) -> str:
    """One line for notifications and clients that show no blocks, e.g. `✅ Greengrass V1 bulk …`.

    A V2 line names the deployment and its target (each cut short, so the change and the counts stay
    on the line) and ends with the device counts.
    """
    where = f" in {notification.region}" if notification.region else ""
    what = notification.deployment_id
    progress = ""
    if _is_v2(notification):
        target = v2_words.target(notification.target_arn)
        name = truncate(v2_words.title(notification), _FALLBACK_NAME)
        what = name + (f" ({target[0]} {truncate(target[1], _FALLBACK_NAME)})" if target else "")
        progress = f" · {v2_words.progress_counts(notification)}"
    line = (
        f"{_style(notification).emoji} {_kind_label(notification.deployment_kind)} "
        f"{what}{where}: {_change_words(notification)}{progress}"
    )
    return truncate(escape(line), MAX_FALLBACK_CHARS)


def _is_v2(notification: Notification) -> bool:
    return notification.deployment_kind == DeploymentKind.GREENGRASS_V2


class _Budget:
    """What is left of the message-wide text allowance; each block takes at most what remains."""

    def __init__(self, chars: int) -> None:
        self.remaining = chars

    def allow(self, limit: int) -> int:
        return max(min(limit, self.remaining), 0)

    def spend(self, text: str) -> str:
        self.remaining -= length(text)
        return text


def _header(notification: Notification, budget: _Budget) -> dict[str, Any]:
    emoji = _style(notification).emoji
    if _is_v2(notification):
        text = _v2_header(emoji, notification)
    else:
        text = truncate(
            escape(
                " · ".join(
                    [
                        f"{emoji} {notification.status}",
                        *_pace_headline(notification),
                        notification.deployment_id,
                    ]
                )
            ),
            MAX_HEADER_CHARS,
        )
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": budget.spend(text), "emoji": True},
    }


def _v2_header(emoji: str, notification: Notification) -> str:
    """`❌ fleet-rollout · Failed · 3 more devices failed`: a long name is cut so the rest stays shown."""
    words = [
        v2_words.status_words(notification.status),
        *_pace_headline(notification),
        *v2_words.news(notification),
    ]
    rest = escape(" · " + " · ".join(words))
    room = max(MAX_HEADER_CHARS - length(rest) - length(emoji) - 1, _SHORT_NAME)
    name = truncate(escape(v2_words.title(notification)), room)
    return truncate(f"{emoji} {name}{rest}", MAX_HEADER_CHARS)


def _summary(notification: Notification) -> str:
    lines = [f"*{escape(_change_words(notification))}*"]
    if _is_v2(notification):
        lines.append(f"{code(v2_words.progress_bar(notification))} {v2_words.progress_counts(notification)}")
    else:
        region = f" in {code(notification.region, _SHORT)}" if notification.region else ""
        kind = escape(_kind_label(notification.deployment_kind))
        lines.append(f"{kind} {code(notification.deployment_id, _ID)}{region}")
    if notification.status == TRACKING_FAILED:
        lines.append(
            "The deployment source no longer knows this deployment: ggwatch has stopped tracking it."
        )
    if notification.results is not None:
        lines.append(_results_line(notification.results))
    return "\n".join(lines)


def _results_line(results: Results) -> str:
    """`*Results:* 48 succeeded · 2 failed — first failures: `group-a`: `reason`, …`: the counts and the
    first few failures; the full list stays in the SNS and EventBridge bodies."""
    if results.error is not None:
        return _cut_spans(f"*Results:* not available {code(results.error, _RESULT_REASON)}", _RESULTS_LINE)
    line = f"*Results:* {escape(results_words.counts(results))}"
    named = [
        f"{code(results_words.failure_name(f), _SHORT)}: {code(results_words.failure_reason(f), _RESULT_REASON)}"
        for f in results_words.first_failures(results)
    ]
    if named:
        more = results_words.unnamed(results)
        line += " — first failures: " + ", ".join(named) + (f", and {more} more" if more else "")
    return _cut_spans(line, _RESULTS_LINE)


def _pace_headline(notification: Notification) -> list[str]:
    headline = pace_words.headline(notification)
    return [headline] if headline else []


def _change_words(notification: Notification) -> str:
    if sentence := pace_words.sentence(notification):
        return sentence
    if _is_v2(notification):
        return v2_words.change_words(notification)
    if notification.previous_status is None:
        return f"First seen: {notification.status}"
    if notification.changes == ("errors",):
        return f"Error details changed (still {notification.status})"
    return f"{notification.previous_status} → {notification.status}"


def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


_SHORT = 100
_ID = 300
"""Caps for values that are short in practice, so that the fixed part of a message stays small."""
_SHORT_NAME = 40
"""What a V2 header keeps of a name at least, however long its status and change words."""
_FALLBACK_NAME = 48
"""Room for a V2 name and target each, so that both and the counts fit the fallback's 300."""
_UNKNOWN = "_unknown_"
_RESULT_REASON = 160
_RESULTS_LINE = 900


def _facts(notification: Notification, budget: _Budget) -> dict[str, Any]:
    facts = _v2_facts(notification) if _is_v2(notification) else _v1_facts(notification)
    times = [
        (
            "Created at",
            truncate(escape(notification.created_at), _SHORT) if notification.created_at else _UNKNOWN,
        ),
        ("Observed at", truncate(escape(notification.observed_at), _SHORT)),
    ]
    fields = [_mrkdwn(budget.spend(f"*{label}*\n{value}")) for label, value in [*facts, *times]]
    return {"type": "section", "fields": fields[:MAX_FIELDS]}


def _v1_facts(notification: Notification) -> list[tuple[str, str]]:
    return [
        ("Deployment", code(notification.deployment_id, _ID)),
        ("Kind", code(notification.deployment_kind, _SHORT)),
        _region(notification),
        *((escape(counter_label(name)), str(value)) for name, value in notification.metrics.root.items()),
    ]


def _v2_facts(notification: Notification) -> list[tuple[str, str]]:
    """Target, revision and ID first: what an operator needs to find the deployment in the console."""
    target = v2_words.target(notification.target_arn)
    return [
        (target[0], code(target[1], _ID)) if target else ("Target", _UNKNOWN),
        ("Revision", code(notification.revision_id, _SHORT) if notification.revision_id else _UNKNOWN),
        ("Deployment", code(notification.deployment_id, _ID)),
        *([("IoT job", code(notification.job_id, _ID))] if notification.job_id else []),
        _region(notification),
    ]


def _region(notification: Notification) -> tuple[str, str]:
    return ("Region", code(notification.region, _SHORT) if notification.region else _UNKNOWN)


def _error_message(notification: Notification, budget: _Budget) -> dict[str, Any] | None:
    if not notification.error_message:
        return None
    title = "*Error message*\n"
    limit = budget.allow(MAX_SECTION_CHARS) - length(title)
    if limit < _MIN_USEFUL:
        return None
    return _section(title + code_block(notification.error_message, limit), budget)


def _tags(notification: Notification, budget: _Budget) -> dict[str, Any] | None:
    if not notification.tags:
        return None
    pairs = "  ·  ".join(f"{code(k, _ID)} = {code(v, _ID)}" for k, v in sorted(notification.tags.items()))
    limit = budget.allow(_MAX_TAGS_CHARS)
    if limit < _MIN_USEFUL:
        return None
    return _section(_cut_spans(f"*Tags ({len(notification.tags)})*\n{pairs}", limit), budget)


def _error_details(
    notification: Notification, budget: _Budget, max_blocks: int
) -> list[dict[str, Any] | None]:
    """The details as a bulleted list over as many sections as the limits allow, then a count of the rest.

    They are listed in the notification's order: a V2 deployment's failed devices come newest first.
    """
    details = notification.error_details
    if not details or budget.allow(MAX_SECTION_CHARS) < _MIN_USEFUL + _OMITTED_RESERVE:
        return []
    available = budget.remaining - _OMITTED_RESERVE
    heading = "Failed devices" if _is_v2(notification) else "Error details"
    chunks = [f"*{heading} ({len(details)})*"]
    used = length(chunks[0])
    shown = 0
    for line in map(_detail_line, details):
        if used + 1 + length(line) > available:
            break
        if length(chunks[-1]) + 1 + length(line) <= MAX_SECTION_CHARS - _OMITTED_RESERVE:
            chunks[-1] = f"{chunks[-1]}\n{line}"
        elif len(chunks) < max_blocks:
            chunks.append(line)
        else:
            break
        used += 1 + length(line)
        shown += 1
    if shown < len(details):
        chunks[-1] += f"\n_…and {len(details) - shown} more not shown_"
    return [_section(chunk, budget) for chunk in chunks]


_MIN_USEFUL = 64
_OMITTED_RESERVE = 40
"""Room kept for the `…and N more not shown` line."""


def _detail_line(detail: ErrorDetail) -> str:
    """`• `thing-7`: `CODE` `reason``; a V1 error names no device."""
    parts = [
        f"{code(detail.thing_name, _SHORT)}:" if detail.thing_name else "",
        code(detail.code, _SHORT) if detail.code else "",
        code(detail.message, _MAX_DETAIL_LINE_CHARS) if detail.message else "",
    ]
    line = "• " + (" ".join(part for part in parts if part) or "_(no code or message)_")
    return _cut_spans(line, _MAX_DETAIL_LINE_CHARS)


def _context(notification: Notification, budget: _Budget) -> dict[str, Any]:
    elements = [f"transition {code(notification.transition_id, _ID)}"]
    if notification.deployment_arn:
        elements.append(code(notification.deployment_arn, _ID))
    if notification.truncated:
        elements.append("_some error texts were shortened by ggwatch to fit the notification size limit_")
    return {"type": "context", "elements": [_mrkdwn(budget.spend(e)) for e in elements]}


def _section(text: str, budget: _Budget) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(budget.spend(truncate(text, MAX_SECTION_CHARS)))}


def _mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object that Slack shows as written: no automatic links or mentions."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _cut_spans(text: str, limit: int) -> str:
    """Truncate mrkdwn made of code spans; a span left open by the cut is closed before the marker."""
    cut = truncate(text, limit - 1)
    if not cut.endswith(TRUNCATED):
        return cut
    body = cut[: -len(TRUNCATED)]
    return f"{body}`{TRUNCATED}" if body.count("`") % 2 else cut
