"""Value types shared by the fake's state, wire layer and scripted lives.

They are frozen so a life, once handed to the fake, cannot be changed behind its back by a test
that keeps a reference; the fake only ever swaps whole steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["Initializing", "Running", "Completed", "Stopping", "Stopped", "Failed"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"Completed", "Stopped", "Failed"})

Operation = Literal[
    "StartBulkDeployment",
    "GetBulkDeploymentStatus",
    "ListBulkDeployments",
    "ListBulkDeploymentDetailedReports",
    "StopBulkDeployment",
]

FaultKind = Literal["throttle", "server_error", "delay", "malformed_body", "drop_connection"]

# Valid JSON whose integer field is not an integer: botocore's rest-json parser calls int() on it and
# raises ValueError. (Non-JSON 200 bodies are *not* an error for botocore: it silently parses them as {}.)
WRONGLY_TYPED_BODY = (
    b'{"BulkDeploymentStatus": "Running", "BulkDeploymentMetrics": {"RecordsProcessed": "many"}}'
)
# Cut-off JSON, as from a proxy that truncated the response; botocore returns an empty result for it.
TRUNCATED_BODY = b'{"BulkDeploymentStatus": "Runn'


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of ErrorDetails, as Greengrass reports per-record or per-deployment failures."""

    code: str
    message: str

    def to_wire(self) -> dict[str, str]:
        return {"DetailedErrorCode": self.code, "DetailedErrorMessage": self.message}


@dataclass(frozen=True, slots=True)
class Step:
    """One observable state in a deployment's life.

    ``duration`` is how long (in clock seconds) the step lasts before the fake moves on by itself;
    ``None`` means the step is held until a test calls ``advance``/``set_status`` (deterministic tests).
    """

    status: Status
    records_processed: int = 0
    invalid_input_records: int = 0
    retry_attempts: int = 0
    error_message: str | None = None
    error_details: Sequence[ErrorDetail] = ()
    duration: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_details", tuple(self.error_details))
        if self.duration is not None and self.duration < 0:
            raise ValueError(f"duration must be >= 0, got {self.duration}")

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def metrics_wire(self) -> dict[str, int]:
        return {
            "InvalidInputRecords": self.invalid_input_records,
            "RecordsProcessed": self.records_processed,
            "RetryAttempts": self.retry_attempts,
        }


@dataclass(frozen=True, slots=True)
class Fault:
    """A misbehaviour the server plays instead of (or around) a normal response.

    Build one with the class methods; the fields are the knobs of each kind.
    """

    kind: FaultKind
    http_status: int = 200
    error_code: str = ""
    message: str = ""
    seconds: float = 0.0
    body: bytes = b""
    after_processing: bool = False

    @classmethod
    def throttle(cls, *, http_status: int = 429, error_code: str = "TooManyRequestsException") -> Fault:
        """AWS-style throttling (botocore retries 429 and the ``Throttling*`` / ``TooManyRequests`` codes)."""
        return cls("throttle", http_status=http_status, error_code=error_code, message="Rate exceeded")

    @classmethod
    def server_error(
        cls,
        *,
        http_status: int = 500,
        message: str = "Internal server error",
        error_code: str = "InternalServerErrorException",
    ) -> Fault:
        """A modelled server-side error, by default V1's (botocore retries 500/502/503/504)."""
        return cls("server_error", http_status=http_status, error_code=error_code, message=message)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Answer normally, but only after ``seconds`` (exercises client read timeouts)."""
        return cls("delay", seconds=seconds)

    @classmethod
    def malformed_body(cls, body: bytes = WRONGLY_TYPED_BODY, *, http_status: int = 200) -> Fault:
        """Do the work, then answer with ``body`` instead of the real JSON document."""
        return cls("malformed_body", http_status=http_status, body=body, after_processing=True)

    @classmethod
    def drop_connection(cls, *, after_processing: bool = False) -> Fault:
        """Close the TCP connection without answering; optionally after the operation took effect."""
        return cls("drop_connection", after_processing=after_processing)


@dataclass(frozen=True, slots=True)
class Call[OperationT: str]:
    """One request the server received, as the call log records it."""

    operation: OperationT
    deployment_id: str | None
    fault: FaultKind | None = None
    client_token: str | None = None


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """A consistent snapshot of one fake deployment, for assertions that bypass the HTTP API."""

    deployment_id: str
    arn: str
    created_at: str
    step: Step
    step_index: int
    life: tuple[Step, ...]
    tags: dict[str, str] = field(default_factory=dict)
    execution_role_arn: str = ""
    input_file_uri: str = ""

    @property
    def status(self) -> Status:
        return self.step.status


class GreengrassError(Exception):
    """A modelled Greengrass error; the wire layer turns it into status, x-amzn-ErrorType and body."""

    def __init__(self, message: str, *, code: str = "BadRequestException", http_status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
