"""The template's functions together, sharing this process and one environment for as long as it runs.

A runtime is a context manager because all functions share `os.environ`: entering applies their
environment, leaving restores the one it changed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from aws_lambda_powertools.utilities import parameters

from ggwatch_local.template import load_template

from .config import FunctionConfig
from .context import Invocation
from .environment import LocalConfigurationError, applied_environment, function_environment
from .function import LocalFunction
from .logs import LOGS


class LambdaRuntime:
    """The template's functions, run in this process with a local stack's environment.

    `overrides` win over everything (the demo quiets powertools' log level with it).
    """

    def __init__(
        self,
        environment: Mapping[str, str],
        *,
        template: dict[str, Any] | None = None,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._template = template if template is not None else load_template()
        self._provided = dict(environment)
        self._overrides = dict(overrides or {})
        self._functions: dict[str, LocalFunction] = {}
        self._exit: contextlib.ExitStack | None = None

    def __enter__(self) -> Self:
        configs = [
            FunctionConfig.from_template(self._template, logical_id)
            for logical_id, body in self._template["Resources"].items()
            if isinstance(body, dict) and body.get("Type") == "AWS::Serverless::Function"
        ]
        environment = self._environment(configs)
        region = environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._functions = {config.logical_id: LocalFunction(config, region) for config in configs}
        LOGS.clear()
        with contextlib.ExitStack() as stack:
            stack.enter_context(applied_environment(environment))
            # A new execution environment must not reuse a secrets client built for an earlier endpoint.
            _forget_parameter_providers()
            self._exit = stack.pop_all()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        _forget_parameter_providers()
        if self._exit is not None:
            self._exit.close()
            self._exit = None

    def function(self, logical_id: str) -> LocalFunction:
        if self._exit is None:
            raise RuntimeError("enter the runtime (with LambdaRuntime(...) as runtime) before invoking")
        try:
            return self._functions[logical_id]
        except KeyError:
            raise KeyError(f"template.yaml has no function {logical_id!r}") from None

    def invoke(self, logical_id: str, event: Any) -> Invocation:
        return self.function(logical_id).invoke(event)

    def logs(self, logical_id: str) -> list[str]:
        """The last lines the function wrote (its log stream), oldest first."""
        return LOGS.lines(logical_id)

    def _environment(self, configs: list[FunctionConfig]) -> dict[str, str]:
        """One environment for all functions (they share this process), refusing contradictions."""
        merged: dict[str, str] = {}
        for config in configs:
            for name, value in function_environment(config, self._template, self._provided).items():
                if merged.setdefault(name, value) != value and name not in self._overrides:
                    raise LocalConfigurationError(
                        f"{name} differs between functions ({merged[name]!r}, {value!r}); "
                        "they cannot share one process"
                    )
        return {**merged, **self._provided, **self._overrides}


def _forget_parameter_providers() -> None:
    """Powertools keeps its parameter providers, and their boto3 clients, for the process's life."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]
