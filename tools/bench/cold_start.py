"""Print cold-import times of each Lambda handler and the size of what the layer ships.

A figure, not a test: shared machines are noisy, so this reports medians over fresh interpreters
instead of asserting a limit. Run it with `make bench`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ("poller", "tracker", "slack_notifier")
RUNS = 7
PROBE = (
    "import time, importlib.util, sys; t = time.perf_counter();"
    "spec = importlib.util.spec_from_file_location('app', sys.argv[1]);"
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module);"
    "print((time.perf_counter() - t) * 1000)"
)
BASELINE_PROBE = "import time; t = time.perf_counter(); import boto3; print((time.perf_counter() - t) * 1000)"
"""The floor every handler stands on: boto3 alone, imported the same way."""


def import_ms(*probe: str) -> float:
    """Median wall time of one probe (`-c` code and its arguments) in fresh interpreters, in ms."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "ggwatch"), "PYTHONDONTWRITEBYTECODE": "0"}
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", *probe], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(RUNS)
    ]
    return statistics.median(samples)


def tree_kib(path: Path) -> float:
    return (
        sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts) / 1024
    )


def main() -> None:
    print(f"cold import, median of {RUNS} fresh interpreters ({sys.version.split()[0]}):")
    baseline = import_ms(BASELINE_PROBE)
    print(f"  {'import boto3':<15} {baseline:7.1f} ms  (baseline)")
    for handler in HANDLERS:
        handler_ms = import_ms(PROBE, str(ROOT / "functions" / handler / "app.py"))
        print(f"  {handler:<15} {handler_ms:7.1f} ms  ({handler_ms / baseline:.2f} x boto3)")
    print(f"ggwatch package source: {tree_kib(ROOT / 'layers' / 'ggwatch' / 'ggwatch'):.0f} KiB")
    for function in HANDLERS:
        print(f"function {function:<15} {tree_kib(ROOT / 'functions' / function):.1f} KiB")
    built = ROOT / ".aws-sam" / "build" / "GgwatchLayer"
    if built.exists():
        print(f"built layer (after `make build`): {tree_kib(built) / 1024:.1f} MiB")
    else:
        print("built layer: run `make build` first to measure it")


if __name__ == "__main__":
    main()
