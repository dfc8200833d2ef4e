"""Starting region runs: all at once (a Lambda API that does not answer costs the scheduled run one
call's timeout, not one per region), and a refusal leaves that region to the scheduled run."""

from __future__ import annotations

import json
import threading
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from ggwatch.adapters.region_runs import RegionRunStarter
from ggwatch.observability import metrics

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:ggwatch-poller"


class LambdaClient:
    """Invoke as the starter calls it; each call waits at `barrier` (if any) for the others."""

    def __init__(self, refuse: dict[str, Exception] | None = None, barrier: threading.Barrier | None = None):
        self.refuse = refuse or {}
        self.barrier = barrier
        self.invoked: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def invoke(self, **params: Any) -> dict[str, Any]:
        if self.barrier is not None:
            self.barrier.wait(timeout=5)  # broken (and raising) unless every call is in flight at once
        region = json.loads(params["Payload"])["region"]
        with self._lock:
            self.invoked.append(params)
        if region in self.refuse:
            raise self.refuse[region]
        return {"StatusCode": 202}


def metric(name: str) -> list[float]:
    values = metrics.metric_set.get(name, {}).get("Value", [])
    return values if isinstance(values, list) else [values]


def test_every_region_is_started_at_once_as_an_event_invocation_of_the_running_function() -> None:
    regions = ["eu-west-1", "ap-southeast-2", "us-west-2"]
    client = LambdaClient(barrier=threading.Barrier(len(regions)))
    started = RegionRunStarter(client).start(FUNCTION, regions, "2026-12-02T12:00:00Z")
    assert started == frozenset(regions)
    assert {(i["FunctionName"], i["InvocationType"]) for i in client.invoked} == {(FUNCTION, "Event")}
    payloads = sorted((json.loads(i["Payload"]) for i in client.invoked), key=lambda p: str(p["region"]))
    assert payloads == [
        {"source": "ggwatch.region-run", "region": region, "scheduledTime": "2026-12-02T12:00:00Z"}
        for region in sorted(regions)
    ]
    assert metric("RegionRunsStarted") == [3]


def test_a_region_lambda_refuses_or_cannot_be_reached_for_is_not_started_and_is_counted() -> None:
    throttled = ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "Invoke")
    unreachable = EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com")
    client = LambdaClient(refuse={"eu-west-1": throttled, "us-west-2": unreachable})
    started = RegionRunStarter(client).start(FUNCTION, ["eu-west-1", "ap-southeast-2", "us-west-2"])
    assert started == frozenset({"ap-southeast-2"})
    assert metric("RegionRunsNotStarted") == [1, 1] and metric("RegionRunsStarted") == [1]


def test_no_region_starts_nothing() -> None:
    client = LambdaClient()
    assert RegionRunStarter(client).start(FUNCTION, []) == frozenset()
    assert client.invoked == []
