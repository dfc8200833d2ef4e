"""One way to say what a pydantic ValidationError found: each field at fault, by its path, in one line.

Settings, inbound events, stored items and the CLI all report bad input with it, so every message
names the field the same way and never echoes the rejected value (which may be a secret).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationError


def describe(
    error: ValidationError,
    *,
    prefix: str = "",
    whole: str = "value",
    first_only: bool = False,
    say: Literal["msg", "type"] = "msg",
) -> str:
    """`loc.of.field: message; ...` for each error.

    `whole` names a problem with the input as a whole; `say="type"` gives pydantic's short error type
    (`missing`, `json_invalid`) instead of its sentence, for terse log lines.
    """
    problems = error.errors(include_url=False, include_input=False, include_context=False)
    if first_only:
        problems = problems[:1]
    return "; ".join(f"{prefix}{location(p['loc']) or whole}: {p[say]}" for p in problems)


def location(loc: tuple[int | str, ...]) -> str:
    """A field's path as dotted text (`detail.responseElements.0`)."""
    return ".".join(str(part) for part in loc)
