"""The functions' environment variables: resolved against the local stack, applied, then restored.

The handlers validate their settings on their first invocation, so the variables must be in place
before the cold start. Everything runs in one process, so whatever is set is undone afterwards, and
the variables that could send a call to real AWS are removed meanwhile.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from .config import FunctionConfig

STRAY_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)
"""Removed while a local environment is applied: each could send a call to real AWS, or break one."""


class LocalConfigurationError(Exception):
    """The template asks for something the local stack does not provide."""


def function_environment(
    config: FunctionConfig, template: dict[str, Any], provided: Mapping[str, str]
) -> dict[str, str]:
    """The function's variables with values: literals as written, a `!Ref` from `provided` (the stack
    names the variable after what it holds), else a parameter's non-empty default."""
    environment: dict[str, str] = {}
    for name, value in config.variables.items():
        if isinstance(value, bool):
            environment[name] = "true" if value else "false"
        elif not isinstance(value, dict):
            environment[name] = str(value)
        elif name in provided:
            environment[name] = provided[name]
        else:
            default = _parameter_default(template, value)
            if default is None:
                raise LocalConfigurationError(
                    f"{config.logical_id} needs {name} ({value}); the local stack does not provide it"
                )
            environment[name] = default
    return environment


def _parameter_default(template: dict[str, Any], value: dict[str, Any]) -> str | None:
    parameter = template.get("Parameters", {}).get(value.get("Ref"))
    default = parameter.get("Default") if isinstance(parameter, dict) else None
    return None if default in (None, "") else str(default)


@contextlib.contextmanager
def applied_environment(environment: Mapping[str, str]) -> Iterator[None]:
    """Set `environment` in os.environ, without the variables that could reach real AWS; then restore."""
    names = set(environment) | {
        name for name in os.environ if name in STRAY_VARIABLES or name.startswith("AWS_ENDPOINT_URL_")
    }
    saved = {name: os.environ.get(name) for name in names}
    for name in names - set(environment):
        del os.environ[name]
    os.environ.update(environment)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
