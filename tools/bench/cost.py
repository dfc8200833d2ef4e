"""What ggwatch costs a month, from the counts `make bench` measured (tools/bench/fleet.py --json).

The benchmark measures one idle cycle at a few fleet sizes: the poller's billed seconds, DynamoDB
read and write units, Greengrass calls, log bytes and custom metrics. Each figure is fitted as a
fixed part plus a part per deployment, then priced at the template's schedule and memory for the
fleet sizes asked. Prices are list prices in one region on the date below, free tiers left out.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, TextIO

HOURS_PER_MONTH = 730
"""AWS's own month in its price examples."""


@dataclass(frozen=True)
class Prices:
    """US dollars, list prices without free tiers."""

    region: str
    as_of: str
    lambda_request: float
    lambda_arm_gb_second: float
    dynamodb_read_unit: float
    """On-demand, per read request unit (4 KB strongly or 8 KB eventually consistent)."""
    dynamodb_write_unit: float
    """On-demand, per write request unit (1 KB)."""
    sns_publish: float
    """Per publish request (64 KB chunk); a PublishBatch of small messages is one request."""
    logs_ingested_gb: float
    metric_month: float
    """Per custom metric (name and dimensions) published in the month, first 10,000 metrics."""
    scheduler_invocation: float


PRICES = Prices(
    region="us-east-1",
    as_of="2026-12-02",
    lambda_request=0.20 / 1e6,
    lambda_arm_gb_second=0.0000133334,
    dynamodb_read_unit=0.125 / 1e6,  # on-demand, after the November 2024 price reduction
    dynamodb_write_unit=0.625 / 1e6,
    sns_publish=0.50 / 1e6,
    logs_ingested_gb=0.50,
    metric_month=0.30,
    scheduler_invocation=1.00 / 1e6,
)
NOT_BILLED_PER_CALL = (
    "Greengrass and IoT API calls are not billed per call: Greengrass bills active core devices, IoT "
    "jobs bill job executions (the deployments' own cost, the same with or without ggwatch)."
)


@dataclass(frozen=True)
class Curve:
    """A figure measured at a few fleet sizes: straight between them, and beyond them along the
    nearest segment (through the origin when there is one size), never below zero."""

    points: tuple[tuple[int, float], ...]

    @classmethod
    def line(cls, fixed: float, per_deployment: float) -> Curve:
        return cls(((0, fixed), (1, fixed + per_deployment)))

    def at(self, deployments: int) -> float:
        points = sorted(self.points)
        if len(points) == 1:
            ((n, value),) = points
            return value * deployments / n if n else value
        segments = list(pairwise(points))
        (n0, v0), (n1, v1) = next(
            (segment for segment in segments if deployments <= segment[1][0]), segments[-1]
        )
        return max(v0 + (v1 - v0) * (deployments - n0) / (n1 - n0), 0.0)

    def describe(self, unit: str = "") -> str:
        return ", ".join(f"{value:,.2f}{unit} at {n:,}" for n, value in sorted(self.points))


def fit(points: Sequence[tuple[int, float]]) -> Curve:
    """The curve through (N, value) measurements; at one N, their mean."""
    if not points:
        raise ValueError("no measurements to fit")
    by_size: dict[int, list[float]] = {}
    for n, value in points:
        by_size.setdefault(n, []).append(value)
    return Curve(tuple((n, sum(values) / len(values)) for n, values in sorted(by_size.items())))


@dataclass(frozen=True)
class CycleModel:
    """One idle cycle over N deployments, as the benchmark measured it."""

    billed_seconds: Curve
    read_units: Curve
    write_units: Curve
    greengrass_calls: Curve
    log_bytes: Curve
    metrics: int
    """Custom metrics an idle run publishes."""


def model_from(results: Iterable[Mapping[str, Any]]) -> CycleModel:
    """Fit the single-region cases where latency, not the rate limit, binds (the benchmark's default
    shape); a case the poller could not finish is left out."""
    usable = [
        r
        for r in results
        if r["case"]["regions"] == 1 and r["cycle_seconds"] is not None and not r["extrapolated"]
    ]
    fastest_rate = max((r["case"]["rate"] for r in usable), default=None)
    usable = [r for r in usable if r["case"]["rate"] == fastest_rate]
    if not usable:
        raise ValueError("no finished single-region case to fit the cost model on")

    def points(value: Any) -> list[tuple[int, float]]:
        return [(r["case"]["deployments"], float(value(r))) for r in usable]

    return CycleModel(
        billed_seconds=fit(points(lambda r: sum(r["run_seconds"]))),
        read_units=fit(points(lambda r: r["dynamodb"]["read_units"])),
        write_units=fit(points(lambda r: r["dynamodb"]["write_units"])),
        greengrass_calls=fit(points(lambda r: r["calls"])),
        log_bytes=fit(points(lambda r: r["log_bytes"])),
        metrics=max(len(r["metric_names"]) for r in usable),
    )


@dataclass(frozen=True)
class PollerFunction:
    """What the template says about how often the poller runs and what it is given."""

    runs_per_month: float
    memory_mb: int
    timeout_seconds: float


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


def runs_per_month(expression: str) -> float:
    """Invocations a month of an EventBridge Scheduler rate() expression."""
    found = _RATE.match(expression.strip())
    if found is None:
        raise ValueError(f"only rate(...) schedules can be costed here, not {expression!r}")
    every_minutes = int(found.group(1)) * _MINUTES[found.group(2).rstrip("s")]
    return HOURS_PER_MONTH * 60 / every_minutes


def poller_function(template: Mapping[str, Any]) -> PollerFunction:
    """The default schedule, memory and timeout of the poller, from template.yaml."""
    properties = template["Resources"]["PollerFunction"]["Properties"]
    schedule = template["Parameters"]["PollingSchedule"]["Default"]
    return PollerFunction(
        runs_per_month=runs_per_month(schedule),
        memory_mb=int(properties["MemorySize"]),
        timeout_seconds=float(properties["Timeout"]),
    )


@dataclass(frozen=True)
class MonthlyCost:
    deployments: int
    runs: float
    runs_per_cycle: float
    """Above 1, each deployment is polled that many schedule periods apart instead of every period."""
    gb_seconds: float
    read_units: float
    write_units: float
    publishes: float
    greengrass_calls: float
    lambda_usd: float
    dynamodb_usd: float
    sns_usd: float
    cloudwatch_usd: float
    scheduler_usd: float

    @property
    def total_usd(self) -> float:
        return self.lambda_usd + self.dynamodb_usd + self.sns_usd + self.cloudwatch_usd + self.scheduler_usd


WRITE_UNITS_PER_TRANSITION = 4
"""A transition's claim and commit: two conditional writes of an item of up to 2 KB."""


def monthly(
    deployments: int,
    model: CycleModel,
    function: PollerFunction,
    prices: Prices = PRICES,
    transitions_per_deployment: float = 0.0,
) -> MonthlyCost:
    """A month of scheduled runs over `deployments` idle deployments, plus the transitions assumed.

    A run lasts the cycle or the Timeout, whichever is shorter; a cycle longer than one run is carried
    on by the next, so a run then does the share of the cycle's calls its time allows.
    """
    cycle_seconds = model.billed_seconds.at(deployments)
    run_seconds = min(cycle_seconds, function.timeout_seconds)
    share = run_seconds / cycle_seconds if cycle_seconds else 1.0
    runs = function.runs_per_month
    gb_seconds = runs * run_seconds * function.memory_mb / 1024
    transitions = transitions_per_deployment * deployments
    read_units = runs * share * model.read_units.at(deployments)
    write_units = runs * share * model.write_units.at(deployments) + transitions * WRITE_UNITS_PER_TRANSITION
    log_gb = runs * share * model.log_bytes.at(deployments) / 1e9
    return MonthlyCost(
        deployments=deployments,
        runs=runs,
        runs_per_cycle=max(cycle_seconds / function.timeout_seconds, 1.0),
        gb_seconds=gb_seconds,
        read_units=read_units,
        write_units=write_units,
        publishes=transitions,
        greengrass_calls=runs * share * model.greengrass_calls.at(deployments),
        lambda_usd=runs * prices.lambda_request + gb_seconds * prices.lambda_arm_gb_second,
        dynamodb_usd=read_units * prices.dynamodb_read_unit + write_units * prices.dynamodb_write_unit,
        sns_usd=transitions * prices.sns_publish,
        cloudwatch_usd=log_gb * prices.logs_ingested_gb + model.metrics * prices.metric_month,
        scheduler_usd=runs * prices.scheduler_invocation,
    )


def table(costs: Sequence[MonthlyCost]) -> str:
    header = (
        f"{'deployments':>11}  {'runs/cycle':>10}  {'GB-s':>9}  {'Lambda':>8}  {'DynamoDB':>8}  {'SNS':>6}  {'CloudWatch':>10}"
        f"  {'Scheduler':>9}  {'Greengrass calls':>16}  {'total/month':>11}"
    )
    rows = [
        f"{c.deployments:>11,}  {c.runs_per_cycle:>10.1f}  {c.gb_seconds:>9,.0f}  {_usd(c.lambda_usd):>8}  {_usd(c.dynamodb_usd):>8}"
        f"  {_usd(c.sns_usd):>6}  {_usd(c.cloudwatch_usd):>10}  {_usd(c.scheduler_usd):>9}"
        f"  {c.greengrass_calls:>13,.0f} $0  {_usd(c.total_usd):>11}"
        for c in costs
    ]
    return "\n".join([header, *rows])


def _usd(amount: float) -> str:
    return f"${amount:,.2f}"


def notes(model: CycleModel, function: PollerFunction, prices: Prices, transitions: float) -> str:
    lines = [
        f"Schedule and memory from template.yaml: {function.runs_per_month:,.0f} runs a month "
        f"({HOURS_PER_MONTH} h), {function.memory_mb} MB arm64, Timeout {function.timeout_seconds:.0f} s; "
        "runs/cycle: a cycle's seconds over the Timeout (at least; a run stops short of it); above 1 each "
        "deployment is polled that many periods apart.",
        f"Prices: {prices.region} list prices looked up {prices.as_of}, free tiers left out: Lambda arm64 "
        f"${prices.lambda_request * 1e6:.2f}/M requests + ${prices.lambda_arm_gb_second:.10f}/GB-s; DynamoDB "
        f"on-demand ${prices.dynamodb_read_unit * 1e6:.3f}/M read units, ${prices.dynamodb_write_unit * 1e6:.3f}/M "
        f"write units; SNS ${prices.sns_publish * 1e6:.2f}/M publishes; CloudWatch Logs "
        f"${prices.logs_ingested_gb:.2f}/GB ingested, ${prices.metric_month:.2f}/custom metric-month; "
        f"EventBridge Scheduler ${prices.scheduler_invocation * 1e6:.2f}/M invocations.",
        f"Per idle cycle as measured (straight between fleet sizes, extended along the nearest segment): "
        f"billed seconds {model.billed_seconds.describe(' s')}; DynamoDB read units "
        f"{model.read_units.describe()}; write units {model.write_units.describe()}; log bytes "
        f"{model.log_bytes.describe()}; {model.metrics} custom metric(s). Units are estimated from the wire size of each "
        "answer and request (4 KB a read unit, eventually consistent reads at half, 1 KB a write unit), "
        "which overstates DynamoDB's own item sizes. Seconds depend on the latency the benchmark injects "
        "and on the machine: a figure to scale, not a quote.",
        f"Transitions assumed: {transitions:g} per deployment a month (one SNS publish and "
        f"{WRITE_UNITS_PER_TRANSITION} write units each); an idle cycle publishes nothing.",
        NOT_BILLED_PER_CALL,
    ]
    return "\n".join(f"  {i}. {line}" for i, line in enumerate(lines, 1))


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> list[MonthlyCost]:
    parser = argparse.ArgumentParser(prog="tools/bench/cost.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("measured", type=Path, help="the JSON fleet.py --json wrote")
    parser.add_argument("--deployments", type=_numbers, default=[10, 100, 1000, 10000])
    parser.add_argument("--transitions", type=float, default=4.0, help="per deployment a month")
    args = parser.parse_args(argv)

    from ggwatch_local.template import load_template

    model = model_from(json.loads(args.measured.read_text())["results"])
    function = poller_function(load_template())
    costs = [monthly(n, model, function, PRICES, args.transitions) for n in args.deployments]
    print("Monthly cost at the default schedule (US dollars)", file=out)
    print(table(costs), file=out)
    print(notes(model, function, PRICES, args.transitions), file=out)
    return costs


if __name__ == "__main__":
    main()
