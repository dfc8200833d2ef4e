"""Compare ways of staying under an API's rate limit: the same calls against the simulator throttling
at R requests a second, from many threads at once.

Modes: `standard` (botocore's standard retries, no client-side limit: the baseline), `adaptive`
(botocore's adaptive retry mode: standard retries plus its own client-side limiter) and
`token-bucket` (standard retries plus ggwatch.adapters.rate_limit at R, with the full budget's wait).
Each mode gets a fresh simulator, so no bucket carries over. A figure, not a test: run it with
`.venv/bin/python tools/bench/rate_modes.py [--calls 300 --rate 20 --threads 32 --latency 0.05]`
(`--client-rate` sets the bucket above the service's limit, `--budget hurried` uses the poller's
one-attempt budget).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from ggwatch.adapters.rate_limit import RateLimits
from ggwatch.adapters.sdk_config import FULL, HURRIED, CallBudget
from ggwatch.adapters.source_errors import source_errors
from ggwatch.exceptions import SourceThrottledError
from ggwatch_local.greengrass.pacing import Pacing
from ggwatch_local.greengrass_v2 import Execution, FleetFake, FleetFakeServer, FleetLife, FleetStep, Target

REGION = "us-east-1"
LIFE = FleetLife(
    "telemetry",
    Target("thinggroup", "line-1"),
    (FleetStep("ACTIVE", "IN_PROGRESS", (Execution("a", "QUEUED"),)),),
)


@dataclass(frozen=True)
class Figures:
    mode: str
    calls: int
    throttles_met: int
    surfaced: int
    other_failures: int
    seconds: float
    longest_call: float


BUDGETS = {"full": FULL, "hurried": HURRIED}


def client_for(mode: str, rate: float, budget: CallBudget) -> Any:
    retries: dict[str, Any] = {"mode": "adaptive" if mode == "adaptive" else "standard"}
    retries["total_max_attempts"] = budget.attempts
    config = Config(
        retries=retries,  # type: ignore[arg-type]
        connect_timeout=budget.connect_timeout_seconds,
        read_timeout=budget.read_timeout_seconds,
        max_pool_connections=64,
    )
    client = boto3.client("greengrassv2", region_name=REGION, config=config)
    if mode == "token-bucket":
        limits = RateLimits({("greengrassv2", "GetDeployment"): rate})
        limits.attach(client, max_wait_seconds=budget.token_wait_seconds)
    return client


def run(
    mode: str,
    *,
    calls: int,
    rate: float,
    client_rate: float,
    threads: int,
    latency: float,
    budget: CallBudget,
) -> Figures:
    fleet = FleetFake()
    ids = [fleet.add(LIFE) for _ in range(min(calls, 100))]
    with FleetFakeServer(fleet, pacing=Pacing(latency=latency, rate_limit=rate)) as server:
        os.environ["AWS_ENDPOINT_URL_GREENGRASSV2"] = server.endpoint_url
        client = client_for(mode, client_rate, budget)
        client.meta.events.register("before-send", _warm_guard)  # fail loudly if not on the simulator
        surfaced, other = _Counter(), _Counter()

        def one(index: int) -> float:
            started = time.perf_counter()
            try:
                with source_errors("Greengrass V2", "GetDeployment"):
                    client.get_deployment(deploymentId=ids[index % len(ids)])
            except SourceThrottledError:
                surfaced.add()
            except Exception:
                other.add()
            return time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            longest = max(pool.map(one, range(calls)))
        seconds = time.perf_counter() - started
        throttles = sum(1 for call in fleet.calls if call.fault == "throttle")
    return Figures(mode, calls, throttles, surfaced.value, other.value, seconds, longest)


def _warm_guard(request: Any, **_: Any) -> None:
    if not request.url.startswith("http://127.0.0.1") and not request.url.startswith("http://localhost"):
        raise RuntimeError(f"the benchmark must only reach the simulator, not {request.url}")


class _Counter:
    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.value += 1


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="the simulator's limit, requests/s")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument(
        "--client-rate",
        type=float,
        help="the token bucket's configured rate (default: the limit); "
        "above the limit it shows the bucket adapting to the throttles it meets",
    )
    parser.add_argument(
        "--budget", choices=sorted(BUDGETS), default="full", help="the poller's SDK budget the clients use"
    )
    parser.add_argument("--modes", default="standard,adaptive,token-bucket")
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    client_rate = args.client_rate or args.rate
    bound = max(args.calls / args.rate, args.calls * args.latency / args.threads)
    out(
        f"{args.calls} GetDeployment calls, {args.threads} threads, limit {args.rate:g}/s, token bucket at "
        f"{client_rate:g}/s, latency {args.latency * 1000:g} ms, {args.budget} budget: bound {bound:.1f} s"
    )
    out(
        f"{'mode':<13} {'calls':>6} {'throttles met':>14} {'surfaced':>9} {'other':>6} {'seconds':>8} {'x bound':>8}"
    )
    for mode in args.modes.split(","):
        f = run(
            mode,
            calls=args.calls,
            rate=args.rate,
            client_rate=client_rate,
            threads=args.threads,
            latency=args.latency,
            budget=BUDGETS[args.budget],
        )
        out(
            f"{f.mode:<13} {f.calls:>6} {f.throttles_met:>14} {f.surfaced:>9} {f.other_failures:>6} "
            f"{f.seconds:>8.1f} {f.seconds / bound:>8.2f} {f.longest_call:>15.1f}"
        )


if __name__ == "__main__":
    main()
