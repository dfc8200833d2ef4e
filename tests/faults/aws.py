"""Clients that reach moto safely and fail fast, for the world and for every handler it runs.

moto answers in process, but its backends are not thread-safe and the SDK's defaults retry with
backoff; the fault suite runs overlapping pollers and injects many failures, so it needs both fixed.
"""

from __future__ import annotations

import threading
from typing import Any, cast

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.loaders import create_loader
from botocore.retries.standard import ExponentialBackoff
from moto.core.models import botocore_stubber

from ggwatch.adapters import delivery_ledger, dynamodb, greengrass_v1, greengrass_v2, sdk_config, sns
from tests.conftest import REGION
from tests.faults.faults import BUDGET_TAG

_MOTO_LOCK = threading.RLock()


def _serialized_moto(event_name: str, request: Any, **kwargs: Any) -> Any:
    """moto's backends are not thread-safe: a conditional write could pass twice under two threads,
    which real DynamoDB never allows. One lock around each mocked call restores that atomicity."""
    with _MOTO_LOCK:
        return botocore_stubber(event_name=event_name, request=request, **kwargs)


_LOADER = create_loader()
"""One botocore loader for every session the fault suite makes: each handler cold start builds clients,
and a loader of its own per session would parse the same service models again every time."""


def session() -> boto3.session.Session:
    """A session whose clients reach moto through `_serialized_moto` (in place of moto's own hook:
    botocore calls every before-send handler, so keeping both would play each request twice)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    made = boto3.session.Session(botocore_session=core, region_name=REGION)
    _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))  # boto3 appends its own each time
    made.events.unregister("before-send", cast(Any, botocore_stubber))
    made.events.register_first("before-send", _serialized_moto)
    return made


def fast_sdk(monkeypatch: pytest.MonkeyPatch, *, attempts: int, timeout: float) -> None:
    """Fewer attempts, short timeouts and no backoff sleeps, so that faults cost milliseconds.

    The poller's hurried clients get one attempt, as in production; each configuration names its
    budget in the user agent, so a fault can tell which of the poller's lanes made a call.
    """
    config = _fast(attempts, timeout, "full")
    for module in (greengrass_v1, greengrass_v2, sns, dynamodb, sdk_config):
        monkeypatch.setattr(module, "API_CONFIG", config)
    monkeypatch.setattr(delivery_ledger, "LEDGER_CONFIG", config)
    monkeypatch.setattr(sdk_config, "HURRIED_CONFIG", _fast(1, timeout, "hurried"))
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


def _fast(attempts: int, timeout: float, budget: str) -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=timeout,
        read_timeout=timeout,
        user_agent_extra=f"{BUDGET_TAG}{budget}",
    )
