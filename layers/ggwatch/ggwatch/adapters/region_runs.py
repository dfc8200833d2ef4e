"""Starting region runs: one asynchronous invocation of the poller's own function per region.

An Event invocation returns once Lambda has queued it (202), so starting a few regions costs the
scheduled run tens of milliseconds. A region whose run could not be started stays the scheduled run's
own: it polls it in-process, as it would without region runs, so no region is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ggwatch.adapters.aws_errors import error_code, error_message
from ggwatch.inbound.region_runs import region_run_event
from ggwatch.observability import count, logger


class RegionRunStarter:
    def __init__(self, client: Any) -> None:
        self._client = client

    def start(
        self, function_arn: str, regions: Iterable[str], scheduled_time: object = None
    ) -> frozenset[str]:
        """Invoke `function_arn` (the running function, as its context names it) once per region; the
        regions whose runs Lambda accepted. Each refusal is logged and counted."""
        started: set[str] = set()
        for region in sorted(regions):
            payload = json.dumps(region_run_event(region, scheduled_time))
            try:
                self._client.invoke(FunctionName=function_arn, InvocationType="Event", Payload=payload)
            except ClientError as error:
                self._not_started(region, f"{error_code(error)}: {error_message(error)}")
            except BotoCoreError as error:
                self._not_started(region, str(error))
            else:
                started.add(region)
        count("RegionRunsStarted", len(started))
        return frozenset(started)

    @staticmethod
    def _not_started(region: str, reason: str) -> None:
        count("RegionRunsNotStarted")
        logger.error(
            "could not start a region run: this run polls the region itself", region=region, error=reason
        )
