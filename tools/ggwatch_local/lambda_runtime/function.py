"""One function's execution environment: a cold start on the first invocation, warm ones after.

Each cold start loads the code afresh under a new module name, so two runtimes in one process (two
tests, say) never share a handler's module-level state.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from .config import ACCOUNT_ID, FunctionConfig
from .context import Invocation, LambdaContext
from .loader import load_module
from .logs import LOGS


class LocalFunction:
    """One execution environment of one function: cold start on the first invocation, warm after."""

    _generation = itertools.count(1)

    def __init__(self, config: FunctionConfig, region: str) -> None:
        self.config = config
        self._region = region
        self._handler: Callable[[Any, Any], Any] | None = None

    def invoke(self, event: Any) -> Invocation:
        """Run the handler on `event`. Its exceptions are reported, not raised (Ctrl-C still is)."""
        config = self.config
        started = time.monotonic()
        context = LambdaContext(
            function_name=config.function_name,
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{ACCOUNT_ID}:function:{config.function_name}",
            memory_limit_in_mb=config.memory_mb,
            deadline=started + config.timeout_seconds,
            log_group_name=f"/aws/lambda/{config.function_name}",
        )
        result: Any = None
        error: Exception | None = None
        with LOGS.capturing(config.logical_id):
            try:
                result = self._cold_started()(event, context)
            except Exception as raised:
                error = raised
                print(json.dumps({"errorType": type(raised).__name__, "errorMessage": str(raised)}))
        duration = time.monotonic() - started
        return Invocation(
            config.logical_id,
            context.aws_request_id,
            result,
            error,
            duration,
            duration > config.timeout_seconds,
        )

    def _cold_started(self) -> Callable[[Any, Any], Any]:
        if self._handler is None:
            module_name = f"ggwatch_local_{self.config.logical_id}_{next(self._generation)}"
            module = load_module(self.config.code_dir / f"{self.config.module}.py", module_name)
            self._handler = getattr(module, self.config.handler)
        return self._handler
