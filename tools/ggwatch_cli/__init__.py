"""ggwatch_cli: the operator's command line (`ggwatch track|untrack|list|status|poll|discover|local up`).

It drives the same services and adapters as the Lambda functions, so what an operator does by hand
behaves exactly like what the deployed stack does. Expected failures are raised as CliError and
reported by `main` as one line on stderr; nothing else in the package prints an error.
"""


class CliError(Exception):
    """An expected operational failure (AWS refused, throttled, unreachable): exit code 1."""

    exit_code = 1


class UsageError(CliError):
    """Bad arguments or missing/invalid configuration the operator must fix first: exit code 2."""

    exit_code = 2


MAX_ECHOED_CHARS = 64
"""What an error message repeats of a value the operator gave: enough to recognise it, never a flood."""


def shown(value: str) -> str:
    """`value` quoted for an error message; a long one is cut and its length given instead."""
    if len(value) <= MAX_ECHOED_CHARS:
        return repr(value)
    return f"{value[:MAX_ECHOED_CHARS] + '…'!r} ({len(value)} characters)"
