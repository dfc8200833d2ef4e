"""What template.yaml says about each function, read the way SAM reads it (Globals and defaults applied).

The code location, handler, timeout, memory and retry count all come from here, so the local runtime
behaves as the deployed function is configured rather than as a test assumes it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ggwatch_local.template import function_properties

from .loader import REPOSITORY

ACCOUNT_ID = "123456789012"
"""moto's default account, which the local stack's ARNs carry."""

SAM_DEFAULT_TIMEOUT = 3
SAM_DEFAULT_MEMORY = 128
LAMBDA_DEFAULT_RETRIES = 2
"""Lambda's defaults when the template leaves Timeout, MemorySize or MaximumRetryAttempts out."""


@dataclass(frozen=True)
class FunctionConfig:
    """What the template says about one AWS::Serverless::Function, Globals applied."""

    logical_id: str
    code_dir: Path
    module: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    max_retry_attempts: int
    variables: Mapping[str, Any]
    """The template's environment variables, intrinsic functions unresolved."""

    @classmethod
    def from_template(cls, template: dict[str, Any], logical_id: str) -> FunctionConfig:
        properties = function_properties(template, logical_id)
        module, _, handler = str(properties["Handler"]).rpartition(".")
        retries = (properties.get("EventInvokeConfig") or {}).get(
            "MaximumRetryAttempts", LAMBDA_DEFAULT_RETRIES
        )
        return cls(
            logical_id=logical_id,
            code_dir=REPOSITORY / str(properties["CodeUri"]),
            module=module,
            handler=handler,
            timeout_seconds=int(properties.get("Timeout", SAM_DEFAULT_TIMEOUT)),
            memory_mb=int(properties.get("MemorySize", SAM_DEFAULT_MEMORY)),
            max_retry_attempts=int(retries),
            variables=dict((properties.get("Environment") or {}).get("Variables") or {}),
        )

    @property
    def function_name(self) -> str:
        return f"ggwatch-local-{self.logical_id}"
