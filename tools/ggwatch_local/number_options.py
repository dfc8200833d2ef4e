"""Numeric command-line options that refuse bad input in words, shared by `ggwatch local up` and the demo.

argparse's own message for `--deployments abc` names a Python function ("invalid parse value"); these
say what a valid value is instead.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

ECHOED_CHARS = 20
"""How much of a refused value the message repeats."""


def number[T: (int, float)](kind: type[T], *, minimum: T, inclusive: bool = True) -> Callable[[str], T]:
    """An argparse `type`: a `kind` number of at least `minimum` (more than it, if not `inclusive`)."""
    noun = "a whole number" if kind is int else "a number"
    rule = f"must be {noun}, {minimum:g} or more" if inclusive else f"must be {noun} more than {minimum:g}"

    def parse(text: str) -> T:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if (
            value is None
            or not math.isfinite(value)
            or value < minimum
            or (value == minimum and not inclusive)
        ):
            echoed = text if len(text) <= ECHOED_CHARS else text[:ECHOED_CHARS] + "…"
            raise argparse.ArgumentTypeError(f"{rule} (got {echoed!r})")
        return value

    return parse
