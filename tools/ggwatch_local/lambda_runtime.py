"""Run the real handlers in this process the way Lambda runs them, against a local stack.

What Lambda does and this module copies:

- the function's code, handler, timeout and memory come from template.yaml; the code is loaded once
  per execution environment (the cold start) from functions/<name>/app.py, like Lambda's importer;
- the environment variables are set before the cold start, because the handlers validate their
  settings on their first invocation; the template's own variables are applied, with every `!Ref`
  resolved to the local resource that the stack provides;
- each invocation gets a context object with a real deadline taken from the function's timeout;
- what a function prints (powertools' JSON logs, EMF metrics, warnings) goes to its log stream,
  not to the terminal: read it with `LambdaRuntime.logs`;
- an SNS subscription invokes the function once per message and retries failures, which
  `SnsQueueDelivery` plays from the queue the stack subscribed in place of the function;
- a StartBulkDeployment call reaches the tracker as a CloudTrail event (`cloudtrail_start_event`).

All functions of a runtime share this process's `os.environ`, so a runtime is a context manager that
restores the environment it changed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import json
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from aws_lambda_powertools.utilities import parameters

from ggwatch_local.template import TEMPLATE_PATH, function_properties, load_template

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

REPOSITORY = TEMPLATE_PATH.parent
FUNCTIONS = REPOSITORY / "functions"
ACCOUNT_ID = "123456789012"
"""moto's default account, which the local stack's ARNs carry."""

SAM_DEFAULT_TIMEOUT = 3
SAM_DEFAULT_MEMORY = 128
LAMBDA_DEFAULT_RETRIES = 2
"""Lambda's defaults when the template leaves Timeout, MemorySize or MaximumRetryAttempts out."""

STRAY_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)
"""Removed while a local environment is applied: each could send a call to real AWS, or break one."""


# -- loading code ---------------------------------------------------------------------------------
def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/app.py once under a unique module name (all three are called `app`).

    The same module object is returned on every call, as tests that clear a handler's caches need.
    """
    module_name = f"ggwatch_handler_{name}"
    loaded = sys.modules.get(module_name)
    return loaded if loaded is not None else load_module(FUNCTIONS / name / "app.py", module_name)


def load_module(path: Path, module_name: str) -> ModuleType:
    """Execute a handler file as a new module registered as `module_name` (a fresh cold start)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load a module from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


# -- configuration from the template --------------------------------------------------------------
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


# -- logs -----------------------------------------------------------------------------------------
class _LogRouter(io.TextIOBase):
    """A text stream that files each line under the function being run (CloudWatch Logs, locally).

    Installed as stdout and stderr during cold starts and invocations. A logger built at a cold start
    keeps a reference to it for the life of the process, which is why there is one router per process
    and it files by the function running now, not by the one that built the logger.
    """

    def __init__(self, max_lines: int) -> None:
        super().__init__()
        self.current = "-"
        self._lines: dict[str, deque[str]] = {}
        self._partial: dict[str, str] = {}
        self._max_lines = max_lines
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            pending = self._partial.pop(self.current, "") + text
            *lines, rest = pending.split("\n")
            self._lines.setdefault(self.current, deque(maxlen=self._max_lines)).extend(lines)
            if rest:
                self._partial[self.current] = rest
        return len(text)

    def lines(self, name: str) -> list[str]:
        with self._lock:
            return list(self._lines.get(name, ()))

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()
            self._partial.clear()

    @contextlib.contextmanager
    def capturing(self, name: str) -> Iterator[None]:
        previous, self.current = self.current, name
        try:
            with contextlib.redirect_stdout(self), contextlib.redirect_stderr(self):
                yield
        finally:
            self.current = previous


_LOGS = _LogRouter(max_lines=2000)


# -- invoking -------------------------------------------------------------------------------------
@dataclass
class LambdaContext:
    """The context object Lambda passes: identity of the function and a deadline that runs."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    deadline: float
    """time.monotonic() at which Lambda would stop the invocation."""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.deadline - time.monotonic()) * 1000), 0)


@dataclass(frozen=True)
class Invocation:
    """How one invocation ended: a result, or the error Lambda would report."""

    function: str
    request_id: str
    result: Any
    error: Exception | None
    duration_seconds: float
    timed_out: bool

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out

    @property
    def error_text(self) -> str:
        if self.timed_out:
            return f"Task timed out after {self.duration_seconds:.2f} seconds"
        return "" if self.error is None else f"{type(self.error).__name__}: {self.error}"


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
        with _LOGS.capturing(config.logical_id):
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
        _LOGS.clear()
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
        return _LOGS.lines(logical_id)

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


# -- events ---------------------------------------------------------------------------------------
def cloudtrail_start_event(
    answer: Mapping[str, Any],
    *,
    region: str,
    request_parameters: Mapping[str, Any] | None = None,
    account_id: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """The EventBridge event CloudTrail emits for a successful StartBulkDeployment call.

    `answer` is boto3's start_bulk_deployment response; CloudTrail writes its members camelCased.
    """
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.greengrass",
        "account": account_id,
        "time": now,
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "eventTime": now,
            "eventSource": "greengrass.amazonaws.com",
            "eventName": "StartBulkDeployment",
            "awsRegion": region,
            "sourceIPAddress": "127.0.0.1",
            "userAgent": "ggwatch-local",
            "requestParameters": dict(request_parameters or {}),
            "responseElements": {
                "bulkDeploymentId": answer["BulkDeploymentId"],
                "bulkDeploymentArn": answer["BulkDeploymentArn"],
            },
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account_id,
            "eventCategory": "Management",
        },
    }


def sns_event(envelope: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The Lambda SNS event for one message, from the envelope SNS delivered to an SQS subscriber.

    The envelope spells SigningCertURL and UnsubscribeURL; Lambda's event spells them ...Url, always
    carries Subject (null when absent) and MessageAttributes, and names the subscription.
    """
    region = str(envelope["TopicArn"]).split(":")[3]
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope["MessageId"],
                    "TopicArn": envelope["TopicArn"],
                    "Subject": envelope.get("Subject"),
                    "Message": envelope["Message"],
                    "Timestamp": envelope["Timestamp"],
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Signature": envelope.get("Signature", ""),
                    "SigningCertUrl": envelope.get("SigningCertURL", ""),
                    "UnsubscribeUrl": (
                        f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
                    ),
                    "MessageAttributes": {
                        name: {"Type": attribute["Type"], "Value": attribute["Value"]}
                        for name, attribute in (envelope.get("MessageAttributes") or {}).items()
                    },
                },
            }
        ]
    }


# -- SNS deliveries -------------------------------------------------------------------------------
DeliveryOutcome = Literal["delivered", "retrying", "failed"]


@dataclass(frozen=True)
class Delivery:
    """One attempt at handing one SNS message to the function."""

    message_id: str
    message: str
    attributes: dict[str, str]
    attempt: int
    invocation: Invocation
    outcome: DeliveryOutcome


class SnsQueueDelivery:
    """SNS's Lambda subscription, played from the queue that stands in for it.

    One event per message, deleted once the function succeeded. A failed attempt leaves the message
    for a retry after `retry_delay_seconds` (Lambda waits a minute, then two); after the function's
    MaximumRetryAttempts retries it is reported `failed` and removed, as Lambda would send it to the
    on-failure destination.
    """

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        subscription_arn: str,
        function: LocalFunction,
        *,
        retry_delay_seconds: int = 1,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._subscription_arn = subscription_arn
        self._function = function
        self._retry_delay = retry_delay_seconds
        self._max_attempts = 1 + function.config.max_retry_attempts

    def deliver_ready(
        self,
        *,
        on_message: Callable[[str, str, int], None] | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> list[Delivery]:
        """Deliver every message visible now, one invocation each, and return how each went.

        `on_message(message_id, message, attempt)` is called before the function sees a message and
        `on_delivery(delivery)` right after, so a caller can tell which message caused what.
        """
        deliveries: list[Delivery] = []
        while True:
            answer = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=self._function.config.timeout_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            messages = answer.get("Messages", [])
            if not messages:
                return deliveries
            for message in messages:
                delivery = self._deliver(message, on_message)
                deliveries.append(delivery)
                if on_delivery is not None:
                    on_delivery(delivery)

    def idle(self) -> bool:
        """True when no message is waiting, being handled or waiting for its retry."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return all(int(count) == 0 for count in attributes.values())

    def _deliver(self, message: Any, on_message: Callable[[str, str, int], None] | None) -> Delivery:
        envelope = json.loads(message["Body"])
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if on_message is not None:
            on_message(envelope["MessageId"], envelope["Message"], attempt)
        invocation = self._function.invoke(sns_event(envelope, self._subscription_arn))
        outcome: DeliveryOutcome
        if invocation.ok:
            outcome = "delivered"
        elif attempt < self._max_attempts:
            outcome = "retrying"
        else:
            outcome = "failed"
        if outcome == "retrying":
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self._retry_delay,
            )
        else:
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        attributes = {name: a["Value"] for name, a in (envelope.get("MessageAttributes") or {}).items()}
        return Delivery(envelope["MessageId"], envelope["Message"], attributes, attempt, invocation, outcome)
