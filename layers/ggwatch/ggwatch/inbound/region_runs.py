"""The event that starts a region run: the scheduled poller run invokes its own function with it, once
for each other region the stack polls (see services/scope.py)."""

from __future__ import annotations

from typing import Any

SOURCE = "ggwatch.region-run"


def region_run_event(region: str, scheduled_time: object = None) -> dict[str, Any]:
    """The payload of one region run; `scheduledTime` is the scheduled run's, for the logs."""
    return {"source": SOURCE, "region": region, "scheduledTime": scheduled_time}


def is_region_run(event: object) -> bool:
    return isinstance(event, dict) and event.get("source") == SOURCE


def region_of(event: dict[str, Any]) -> str | None:
    """The region a region-run event names (the handler checks that the stack polls it)."""
    region = event.get("region")
    return region if isinstance(region, str) else None
