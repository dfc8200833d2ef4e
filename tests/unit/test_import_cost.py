"""Each handler imports only what it uses: importing one in a fresh interpreter leaves the other handlers'
code, the unused parts of Powertools and pydantic, and development tools out of sys.modules.

Import time itself is a figure (`make bench`), never asserted here: shared machines are noisy. What can
be asserted is the cause of a slower cold start, a module on the import path that has no business there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NOWHERE = (
    "aws_xray_sdk",  # the Powertools Tracer's X-Ray SDK; Lambda's active tracing serves instead
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.utilities.parser.envelopes",
    "pydantic.v1",
    "moto",
    "ggwatch_local",
    "ggwatch_cli",
    "yaml",
)
"""Not in the layer, or for development only."""

NOT_IN = {
    "poller": (
        "ggwatch.adapters.eventbridge",  # only when a bus is set (EVENT_BUS_NAME)
        "ggwatch.adapters.fanout",
        "ggwatch.domain.commands",
        "ggwatch.slack",
        "ggwatch.services.slack_delivery",
        "ggwatch.services.tracker",
        "ggwatch.settings.slack_notifier",
        "ggwatch.settings.tracker",
        "ggwatch.inbound.tracker",
        "ggwatch.inbound.sns",
        "aws_lambda_powertools.utilities.parameters",
        "aws_lambda_powertools.utilities.parser",
    ),
    "tracker": (
        "ggwatch.domain.notification",
        "ggwatch.slack",
        "ggwatch.services.poller",
        "ggwatch.services.slack_delivery",
        "ggwatch.adapters.greengrass_v1",
        "ggwatch.adapters.greengrass_v2",
        "ggwatch.adapters.sns",
        "ggwatch.settings.poller",
        "ggwatch.settings.slack_notifier",
        "ggwatch.inbound.sns",
        "aws_lambda_powertools.utilities.parameters",
    ),
    "slack_notifier": (
        "ggwatch.domain.commands",
        "ggwatch.services.poller",
        "ggwatch.services.tracker",
        "ggwatch.adapters.dynamodb",
        "ggwatch.adapters.greengrass_v1",
        "ggwatch.adapters.greengrass_v2",
        "ggwatch.settings.poller",
        "ggwatch.settings.tracker",
        "ggwatch.inbound.tracker",
        "ggwatch.inbound.device_events",
        "aws_lambda_powertools.utilities.parser",
    ),
}
"""What one handler's work never needs: the other handlers' services, adapters and Powertools parts."""


def modules_after_import(handler: str) -> list[str]:
    probe = "import json, sys; sys.path.insert(0, sys.argv[1]); import app; print(json.dumps(sorted(sys.modules)))"
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "ggwatch")}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "functions" / handler)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    modules: list[str] = json.loads(result.stdout)
    return modules


@pytest.mark.parametrize("handler", sorted(NOT_IN))
def test_a_handler_imports_nothing_its_work_does_not_need(handler: str) -> None:
    modules = modules_after_import(handler)
    assert "app" in modules and "boto3" in modules
    unwanted = [
        name
        for name in modules
        for heavy in (*NOWHERE, *NOT_IN[handler])
        if name == heavy or name.startswith(f"{heavy}.")
    ]
    assert not unwanted, f"importing the {handler} handler imports {unwanted}"
