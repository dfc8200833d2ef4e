"""Run the real handlers in this process the way Lambda runs them, against a local stack.

What Lambda does and this package copies:

- the function's code, handler, timeout and memory come from template.yaml (`config`); the code is
  loaded once per execution environment (the cold start) from functions/<name>/app.py, like Lambda's
  importer (`loader`, `function`);
- the environment variables are set before the cold start, because the handlers validate their
  settings on their first invocation; the template's own variables are applied, with every `!Ref`
  resolved to the local resource that the stack provides (`environment`);
- each invocation gets a context object with a real deadline taken from the function's timeout
  (`context`);
- what a function prints (powertools' JSON logs, EMF metrics, warnings) goes to its log stream,
  not to the terminal: read it with `LambdaRuntime.logs` (`logs`);
- an SNS subscription invokes the function once per message and retries failures, which
  `SnsQueueDelivery` plays from the queue the stack subscribed in place of the function
  (`sns_delivery`);
- a StartBulkDeployment call reaches the tracker as a CloudTrail event (`cloudtrail_start_event`,
  in `events`).

All functions of a runtime share this process's `os.environ`, so a runtime is a context manager that
restores the environment it changed (`runtime`).
"""

from .config import (
    ACCOUNT_ID,
    LAMBDA_DEFAULT_RETRIES,
    SAM_DEFAULT_MEMORY,
    SAM_DEFAULT_TIMEOUT,
    FunctionConfig,
)
from .context import Invocation, LambdaContext
from .environment import (
    STRAY_VARIABLES,
    LocalConfigurationError,
    applied_environment,
    function_environment,
)
from .events import cloudtrail_start_event, sns_event
from .function import LocalFunction
from .loader import FUNCTIONS, REPOSITORY, load_handler, load_module
from .runtime import LambdaRuntime
from .sns_delivery import Delivery, DeliveryOutcome, SnsQueueDelivery

__all__ = [
    "ACCOUNT_ID",
    "FUNCTIONS",
    "LAMBDA_DEFAULT_RETRIES",
    "REPOSITORY",
    "SAM_DEFAULT_MEMORY",
    "SAM_DEFAULT_TIMEOUT",
    "STRAY_VARIABLES",
    "Delivery",
    "DeliveryOutcome",
    "FunctionConfig",
    "Invocation",
    "LambdaContext",
    "LambdaRuntime",
    "LocalConfigurationError",
    "LocalFunction",
    "SnsQueueDelivery",
    "applied_environment",
    "cloudtrail_start_event",
    "function_environment",
    "load_handler",
    "load_module",
    "sns_event",
]
