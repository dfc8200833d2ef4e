"""Making text from AWS safe to put in a Slack message.

Slack parses `&`, `<` and `>` as control characters in every text it renders (`<!channel>`, `<@U…>`,
`<https://…|label>`, `<!date^…>`), so an error message from AWS could ping a whole channel or disguise
a link. Escaping the three characters as HTML entities is Slack's documented rule and removes every
control sequence; nothing else is entity-encoded (Slack would show `&#39;` literally).
"""

from __future__ import annotations

from ggwatch.domain.sizes import truncate as cut_to_size

_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_LONGEST_ENTITY = max(len(entity) for _, entity in _ENTITIES)

BACKTICK_STAND_IN = "\u02cb"
"""U+02CB looks like a backtick but does not end a code span, so a value cannot break out of one."""

TRUNCATED = "… [truncated]"


def escape(text: str) -> str:
    """Text shown as written: the three control characters become entities (`&` first)."""
    for char, entity in _ENTITIES:
        text = text.replace(char, entity)
    return text


def unescape(text: str) -> str:
    """The inverse of escape, for showing a received message outside Slack (`&` last)."""
    for char, entity in reversed(_ENTITIES):
        text = text.replace(entity, char)
    return text


def code(text: str, limit: int | None = None) -> str:
    """An inline code span: IDs, codes and tags, shown verbatim without any mrkdwn formatting.

    Backticks inside would close the span early and newlines would break it, so both are replaced.
    An empty value gets a visible placeholder instead of an empty (unrendered) span.
    """
    inner = escape(" ".join(text.replace("`", BACKTICK_STAND_IN).split()) or "(empty)")
    if limit is not None:
        inner = truncate(inner, limit - 2)
    return f"`{inner}`"


def code_block(text: str, limit: int | None = None) -> str:
    """A preformatted block for long free text (error messages): line breaks kept, no formatting."""
    inner = escape(text.replace("`", BACKTICK_STAND_IN).strip()) or "(empty)"
    if limit is not None:
        inner = truncate(inner, limit - 6)
    return f"```{inner}```"


def length(text: str) -> int:
    """Length as Slack counts it (UTF-16 code units, like JavaScript): emoji count twice."""
    return len(text.encode("utf-16-le")) // 2


def truncate(text: str, limit: int, marker: str = TRUNCATED) -> str:
    """Cut already-escaped text to `limit` Slack characters with a visible marker, never inside an
    `&…;` entity.

    Oversized texts must never make a post fail, and a half entity like `&am` would show as noise.
    """
    return cut_to_size(text, limit, size=length, marker=marker, tidy=_whole_entities)


def _whole_entities(cut: str) -> str:
    """The cut without a trailing, incomplete `&…;` entity."""
    ampersand = cut.rfind("&", max(len(cut) - _LONGEST_ENTITY + 1, 0))
    if ampersand != -1 and ";" not in cut[ampersand:]:
        return cut[:ampersand]
    return cut
