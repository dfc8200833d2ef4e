"""One logger and one metrics object for the whole package, named by the stack's environment.

template.yaml sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE per stack (so two stacks
in one account never trip each other's alarms); outside a stack (unit tests, the CLI on a developer's
machine) both fall back to `ggwatch`.

Tracing is left to Lambda's active tracing: the powertools Tracer would add the X-Ray SDK to the layer
and its boto patching to every cold start.
"""

import os
import threading

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

FALLBACK_NAME = "ggwatch"

service = os.environ.get("POWERTOOLS_SERVICE_NAME") or FALLBACK_NAME
logger = Logger(service=service)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or FALLBACK_NAME, service=service)

_metrics_lock = threading.Lock()


def count(name: str, value: float = 1) -> None:
    """Add to a Count metric from any thread: the poller's workers count concurrently, and Metrics
    keeps its values in plain dicts and lists that a race between two first adds would lose."""
    with _metrics_lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
