"""Starting region runs: one asynchronous invocation of the poller's own function per region.

An Event invocation returns once Lambda has queued it (202), so starting a few regions costs the
scheduled run tens of milliseconds; the regions are started at once, so that a Lambda API that does
not answer costs the run one call's timeout, not one per region. A region whose run could not be
started stays the scheduled run's own: it polls it in-process, as it would without region runs, so no
region is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
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
        ordered = sorted(regions)
        if not ordered:
            return frozenset()
        with ThreadPoolExecutor(max_workers=len(ordered)) as pool:
            accepted = list(
                pool.map(lambda region: self._start_one(function_arn, region, scheduled_time), ordered)
            )
        started = frozenset(region for region, ok in zip(ordered, accepted, strict=True) if ok)
        count("RegionRunsStarted", len(started))
        return started

    def _start_one(self, function_arn: str, region: str, scheduled_time: object) -> bool:
        payload = json.dumps(region_run_event(region, scheduled_time))
        try:
            self._client.invoke(FunctionName=function_arn, InvocationType="Event", Payload=payload)
        except ClientError as error:
            reason = f"{error_code(error)}: {error_message(error)}"
        except BotoCoreError as error:
            reason = str(error)
        else:
            return True
        count("RegionRunsNotStarted")
        logger.error(
            "could not start a region run: this run polls the region itself", region=region, error=reason
        )
        return False
