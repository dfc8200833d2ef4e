"""Test data factories shared by every test that needs a notification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ggwatch.domain.models import Metrics
from ggwatch.domain.notification import Notification

BASE_NOTIFICATION: dict[str, Any] = {
    "deployment_kind": "greengrass-v1-bulk",
    "transition_id": "t" * 32,
    "deployment_id": "bd-1",
    "deployment_arn": None,
    "region": "us-east-1",
    "previous_status": None,
    "status": "Initializing",
    "terminal": False,
    "changes": ("status",),
    "metrics": Metrics({"recordsProcessed": 0, "invalidInputRecords": 0, "retryAttempts": 0}),
    "error_message": None,
    "error_details": (),
    "created_at": None,
    "observed_at": "2026-11-28T12:00:00Z",
    "tags": {},
}


def notification_factory(**defaults: Any) -> Callable[..., Notification]:
    """A `notification(**fields)` function whose defaults are the base ones with `defaults` on top."""

    def notification(**fields: Any) -> Notification:
        return Notification.model_validate({**BASE_NOTIFICATION, **defaults, **fields})

    return notification


notification = notification_factory()
