"""The cost script's arithmetic (tools/bench/cost.py): known counts at known prices give known dollars."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ggwatch_local.template import load_template

COST_PY = Path(__file__).resolve().parents[2] / "tools" / "bench" / "cost.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cost", COST_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_cost"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


cost = _load()
ROUND = cost.Prices(
    region="test-1",
    as_of="2026-01-01",
    lambda_request=1e-6,
    lambda_arm_gb_second=1e-5,
    dynamodb_read_unit=1e-7,
    dynamodb_write_unit=1e-6,
    sns_publish=1e-6,
    logs_ingested_gb=1.0,
    metric_month=0.5,
    scheduler_invocation=1e-6,
)


def model(**lines: Any) -> Any:
    flat = cost.Curve.line(0.0, 0.0)
    figures = {
        "billed_seconds": flat,
        "read_units": flat,
        "write_units": flat,
        "greengrass_calls": flat,
        "log_bytes": flat,
        "metrics": 0,
    }
    return cost.CycleModel(**{**figures, **lines})


def result(deployments: int, *, seconds: float, reads: float, rate: float = 1000.0) -> dict[str, Any]:
    return {
        "case": {"deployments": deployments, "regions": 1, "rate": rate},
        "cycle_seconds": seconds,
        "extrapolated": False,
        "run_seconds": [seconds],
        "dynamodb": {"read_units": reads, "write_units": 0.0},
        "calls": 2 * deployments,
        "log_bytes": 700,
        "metric_names": ["DeploymentsPolled"],
    }


def test_a_month_of_runs_priced_item_by_item() -> None:
    function = cost.PollerFunction(runs_per_month=1000, memory_mb=512, timeout_seconds=50)
    cycle = model(
        billed_seconds=cost.Curve.line(1.0, 0.01),  # 2 s for 100 deployments
        read_units=cost.Curve.line(2.0, 0.5),  # 52 units
        greengrass_calls=cost.Curve.line(0.0, 2.0),
        log_bytes=cost.Curve.line(1e6, 0.0),  # 1 MB a run
        metrics=2,
    )

    month = cost.monthly(100, cycle, function, ROUND, transitions_per_deployment=3)

    assert month.gb_seconds == pytest.approx(1000 * 2.0 * 0.5)
    assert month.lambda_usd == pytest.approx(1000 * 1e-6 + 1000 * 1e-5)
    assert month.dynamodb_usd == pytest.approx(
        1000 * 52 * 1e-7 + 300 * cost.WRITE_UNITS_PER_TRANSITION * 1e-6
    )
    assert month.sns_usd == pytest.approx(300 * 1e-6)
    assert month.cloudwatch_usd == pytest.approx(1000 * 1e6 / 1e9 * 1.0 + 2 * 0.5)
    assert month.scheduler_usd == pytest.approx(1000 * 1e-6)
    assert month.greengrass_calls == pytest.approx(200_000)
    assert month.total_usd == pytest.approx(
        month.lambda_usd + month.dynamodb_usd + month.sns_usd + month.cloudwatch_usd + month.scheduler_usd
    )
    assert month.runs_per_cycle == 1.0


def test_a_cycle_longer_than_the_timeout_bills_whole_runs_and_their_share_of_calls() -> None:
    function = cost.PollerFunction(runs_per_month=100, memory_mb=1024, timeout_seconds=50)
    cycle = model(billed_seconds=cost.Curve.line(0.0, 0.1), greengrass_calls=cost.Curve.line(0.0, 2.0))

    month = cost.monthly(2000, cycle, function, ROUND)  # a 200 s cycle: four runs of 50 s

    assert month.runs_per_cycle == pytest.approx(4.0)
    assert month.gb_seconds == pytest.approx(100 * 50 * 1.0)
    assert month.greengrass_calls == pytest.approx(100 * 4000 / 4)


def test_the_model_is_fitted_on_the_finished_latency_bound_single_region_cases() -> None:
    results = [
        result(100, seconds=3.0, reads=10.0),
        result(1000, seconds=21.0, reads=100.0),
        result(1000, seconds=60.0, reads=999.0, rate=20.0),  # the rate-bound case
        {**result(5000, seconds=500.0, reads=999.0), "extrapolated": True},
        {
            **result(3000, seconds=30.0, reads=999.0),
            "case": {"deployments": 3000, "regions": 3, "rate": 1000.0},
        },
    ]

    fitted = cost.model_from(results)

    assert fitted.billed_seconds.points == ((100, 3.0), (1000, 21.0))
    assert fitted.read_units.at(10_000) == pytest.approx(1000.0)
    assert fitted.metrics == 1


def test_one_fleet_size_scales_in_proportion() -> None:
    assert cost.fit([(100, 5.0), (100, 7.0)]).at(1000) == pytest.approx(60.0)


def test_a_curve_is_straight_between_sizes_and_extended_along_the_nearest_segment() -> None:
    curve = cost.fit([(100, 2.0), (1000, 11.0), (5000, 91.0)])

    assert curve.at(550) == pytest.approx(6.5)
    assert curve.at(3000) == pytest.approx(51.0)
    assert curve.at(10) == pytest.approx(1.1)  # the fixed part the two smallest sizes show
    assert curve.at(10_000) == pytest.approx(191.0)
    assert cost.fit([(100, 5.0), (200, 1.0)]).at(1000) == 0.0


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 minute)", 43_800),
        ("rate(5 minutes)", 8_760),
        ("rate(1 hour)", 730),
        ("rate(2 days)", 730 / 48),
    ],
)
def test_runs_a_month_follow_the_schedule(expression: str, runs: float) -> None:
    assert cost.runs_per_month(expression) == pytest.approx(runs)


def test_a_cron_schedule_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="cron"):
        cost.runs_per_month("cron(0 * * * ? *)")


def test_the_schedule_and_memory_come_from_the_template() -> None:
    function = cost.poller_function(load_template())
    template = load_template()
    properties = template["Resources"]["PollerFunction"]["Properties"]
    assert function.memory_mb == properties["MemorySize"]
    assert function.timeout_seconds == properties["Timeout"]
    assert function.runs_per_month == cost.runs_per_month(
        template["Parameters"]["PollingSchedule"]["Default"]
    )
