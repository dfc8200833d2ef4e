"""The cold-start figures (tools/bench/cold_start.py): each handler's import, and its import plus what
its first invocation builds, measured without reaching AWS; fleet.py's footnote carries both."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from ggwatch_local.template import load_template
from tests.unit.test_import_cost import modules_after_import

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tools" / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


cold_start = _load("cold_start")


def test_every_handler_is_measured_alone_and_with_its_first_invocation_setup() -> None:
    probes = cold_start.probes()
    handlers = set(cold_start.HANDLERS) | {h + " + setup" for h in cold_start.HANDLERS}
    assert set(probes) == {"boto3", cold_start.FLOOR} | handlers
    for handler in cold_start.HANDLERS:
        assert probes[handler + " + setup"] == (*probes[handler], cold_start.BUILDERS[handler])


@pytest.mark.parametrize("handler", cold_start.HANDLERS)
def test_a_handler_builds_its_first_invocation_setup_without_the_callers_aws_settings(
    handler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a profile that exists nowhere: the builders' SDK clients would refuse it if it reached them
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    assert cold_start.probe_ms(*cold_start.probes()[handler + " + setup"]) > 0


def test_the_fleet_footnote_carries_the_poller_import_and_its_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = _load("fleet")
    measured = {"boto3": 100.0, "poller": 150.0, "poller + setup": 200.0, "tracker": 1.0}
    fake = SimpleNamespace(import_medians=lambda runs: measured, tree_bytes=lambda path: 2048)
    monkeypatch.setattr(fleet, "_load", lambda path, name: fake)
    imports, kib = fleet._cold_start_figures(runs=1)
    assert imports == {
        "import boto3": 100.0,
        "poller handler": 150.0,
        "poller handler + first-invocation setup": 200.0,
    }
    assert kib == 2.0


def test_the_probes_run_with_the_pydantic_settings_the_functions_get() -> None:
    variables = load_template(ROOT / "template.yaml")["Globals"]["Function"]["Environment"]["Variables"]
    pydantic = {name: value for name, value in variables.items() if name.startswith("PYDANTIC_")}
    assert pydantic and pydantic.items() <= cold_start.ENVIRONMENT.items()


def _modules_of_the_stack_floor() -> set[str]:
    probe = "import json, sys; exec(sys.argv[1]); print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", probe, cold_start.STACK_FLOOR], capture_output=True, text=True, check=True
    )
    return set(json.loads(run.stdout))


@pytest.mark.parametrize("handler", cold_start.HANDLERS)
def test_the_stack_floor_imports_nothing_a_handler_does_not(handler: str) -> None:
    # the floor is a floor only if every handler imports all of it: what is left above it is ggwatch's own
    floor = _modules_of_the_stack_floor()
    assert {
        "boto3",
        "aws_lambda_powertools.logging",
        "aws_lambda_powertools.metrics",
        "pydantic.main",
    } <= floor
    assert floor - set(modules_after_import(handler)) == set()


def test_the_stack_floor_probe_times_the_floor() -> None:
    assert cold_start.probe_ms(*cold_start.probes()[cold_start.FLOOR]) > 0
