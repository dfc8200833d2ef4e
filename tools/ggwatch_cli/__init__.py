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
