"""Print cold-import times of each Lambda handler beside `import boto3` and beside the stack's floor,
and the size of what `sam build` ships, each beside its goal (import within 1.5 x boto3; layer and
functions within 10 MB).

The stack's floor is what any handler of this stack must import before its own code: boto3, Powertools'
logger and metrics, and pydantic with one model (the settings are validated with pydantic at cold
start). A handler's figure above the floor is ggwatch's own cost.

Beside each import, the import plus what the handler builds on its first invocation (settings, SDK
clients: its cached builder, called with a dummy environment that reaches nothing): work moved from
import to first use shows there instead of vanishing. Later calls on the network (the Slack
notifier's secret, read at its first delivery) are in neither figure.

A figure, not a test: shared machines are noisy, so this reports medians over fresh interpreters
instead of asserting a limit, measuring boto3 and the handlers in turns so that a burst of load on the
machine weighs on all alike. Run it with `make bench`; `make build` first for the package size.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ("poller", "tracker", "slack_notifier")
BUILDERS = {"poller": "cold_start", "tracker": "tracker", "slack_notifier": "slack_delivery"}
"""Each handler's function that builds, on the first invocation, what every invocation reuses."""
SETUP = " + setup"
"""Suffix of the figure that adds the builder's call to the handler's import."""
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_REGION": "us-east-1",  # both, as Lambda sets them: botocore reads the second
    "AWS_DEFAULT_REGION": "us-east-1",
    "TABLE_NAME": "bench",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench",
    "SLACK_WEBHOOKS_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",  # as template.yaml sets it for every function
}
"""What the builders read (dummy keys, no profile: nothing here can reach AWS) and the functions'
fixed settings that weigh on a cold start, set for every probe."""
BUILT_FUNCTIONS = {
    "poller": "PollerFunction",
    "tracker": "TrackerFunction",
    "slack_notifier": "SlackNotifierFunction",
}
BUILD = ROOT / ".aws-sam" / "build"
RUNS = 9
IMPORT_GOAL = 1.5
"""Handler import time, as a multiple of `import boto3`'s."""
SIZE_GOAL_BYTES = 10_000_000
"""The layer and the three functions together, unzipped."""
PROBE = (
    "import time, importlib.util, sys; t = time.perf_counter();"
    "spec = importlib.util.spec_from_file_location('app', sys.argv[1]);"
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module);"
    "[getattr(module, builder)() for builder in sys.argv[2:]];"
    "print((time.perf_counter() - t) * 1000)"
)
"""Imports a handler's app.py; then calls the builder named after it, if any."""
BASELINE_PROBE = "import time; t = time.perf_counter(); import boto3; print((time.perf_counter() - t) * 1000)"
"""What every handler stands on: boto3 alone, imported the same way."""
STACK_FLOOR = (
    "import boto3\n"
    "from aws_lambda_powertools import Logger, Metrics\n"
    "from pydantic import BaseModel\n"
    "class Settings(BaseModel):\n"
    "    TABLE_NAME: str\n"
)
"""The least any handler of this stack imports: boto3, Powertools' logger and metrics, and pydantic with
the one model that validates the settings at cold start. No ggwatch code: the difference between a
handler and this is ggwatch's own."""
STACK_FLOOR_PROBE = (
    "import time; t = time.perf_counter(); exec(__import__('sys').argv[1]);"
    " print((time.perf_counter() - t) * 1000)"
)
FLOOR = "stack floor"
"""The name of the stack floor's figure."""


def probe_ms(*probe: str) -> float:
    """Wall time of one probe (`-c` code and its arguments) in a fresh interpreter, in ms."""
    # Bytecode is cached (as the layer ships it): any value of PYTHONDONTWRITEBYTECODE, "0" too, stops that.
    # No AWS_ setting of the caller's (a profile, an endpoint) reaches the builders.
    env = {
        name: value
        for name, value in os.environ.items()
        if name != "PYTHONDONTWRITEBYTECODE" and not name.startswith("AWS_")
    }
    env |= ENVIRONMENT | {"PYTHONPATH": str(ROOT / "layers" / "ggwatch")}
    run = subprocess.run([sys.executable, "-c", *probe], env=env, check=True, capture_output=True, text=True)
    return float(run.stdout)


def probes() -> dict[str, tuple[str, ...]]:
    """`boto3`, the stack floor, each handler's import, and each handler's import + setup (named
    `<handler> + setup`)."""
    apps = {handler: str(ROOT / "functions" / handler / "app.py") for handler in HANDLERS}
    return (
        {"boto3": (BASELINE_PROBE,), FLOOR: (STACK_FLOOR_PROBE, STACK_FLOOR)}
        | {handler: (PROBE, app) for handler, app in apps.items()}
        | {handler + SETUP: (PROBE, app, BUILDERS[handler]) for handler, app in apps.items()}
    )


def import_medians(runs: int = RUNS) -> dict[str, float]:
    """Median ms of every probe (`boto3`, each handler, each handler + setup), measured in turns."""
    measured = probes()
    for probe in measured.values():  # bytecode caches written before anything is timed
        probe_ms(*probe)
    samples: dict[str, list[float]] = {name: [] for name in measured}
    for _ in range(runs):
        for name, probe in measured.items():
            samples[name].append(probe_ms(*probe))
    return {name: statistics.median(values) for name, values in samples.items()}


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    print(f"cold import, median of {RUNS} fresh interpreters ({sys.version.split()[0]}):")
    medians = import_medians()
    baseline = medians["boto3"]
    print(f"  {'import boto3':<15} {baseline:7.1f} ms  (baseline)")
    floor = medians[FLOOR]
    print(
        f"  {FLOOR:<15} {floor:7.1f} ms  ({floor / baseline:.2f} x boto3: boto3, Powertools' Logger and"
        " Metrics, pydantic with one model; no ggwatch code)"
    )
    for handler in HANDLERS:
        ratio = medians[handler] / baseline
        verdict = "within" if ratio <= IMPORT_GOAL else "OVER"
        print(
            f"  {handler:<15} {medians[handler]:7.1f} ms  ({ratio:.2f} x boto3; {verdict} the {IMPORT_GOAL} x goal)"
        )
        setup = medians[handler + SETUP]
        print(
            f"  {'  + setup':<15} {setup:7.1f} ms  ({setup / baseline:.2f} x boto3; {BUILDERS[handler]}() built)"
        )
    layer = BUILD / "GgwatchLayer"
    if not layer.exists():
        print("package size: run `make build` first to measure what it ships")
        return
    sizes = {"layer": tree_bytes(layer)} | {
        handler: tree_bytes(BUILD / built) for handler, built in BUILT_FUNCTIONS.items()
    }
    total = sum(sizes.values())
    print("package size, unzipped (`make build` output in .aws-sam/build):")
    for name, size in sizes.items():
        print(f"  {name:<15} {size / 1e6:7.3f} MB")
    verdict = "within" if total <= SIZE_GOAL_BYTES else "OVER"
    print(f"  {'total':<15} {total / 1e6:7.3f} MB  ({verdict} the {SIZE_GOAL_BYTES / 1e6:.0f} MB goal)")
    bytecode = sum(f.stat().st_size for f in layer.rglob("*.pyc"))
    print(f"  of which the layer's bytecode for the cold-start imports: {bytecode / 1e6:.3f} MB")


if __name__ == "__main__":
    main()
