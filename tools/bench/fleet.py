"""Measure one idle poll cycle of the real poller over a simulated Greengrass V2 fleet (`make bench`).

A figure, not a test. Three processes, so no two of them share a GIL: the Greengrass V2 + IoT
simulator (latency on every answer, a rate limit per region and operation), moto's server (the
template's DynamoDB table and SNS topic), and the poller, built and invoked the way Lambda does
(functions/poller/app.py's handler, the function's environment, a context with the template's
Timeout), run after run until every deployment has been polled once: the cursor carries a cycle that
does not fit one run into the next. The deployments are primed first (tracked, their state observed
and stored), so the cycle measured is an idle one: nothing changed, nothing to publish.

For each case it prints the cycle's seconds next to the physical bound max(N·k/R, N·k·L/C) (k calls
per deployment, measured; R the rate per region and operation; L the latency; C the calls in flight,
POLL_CONCURRENCY per region when the poller has that setting), the speed-up over a naive sequential
loop measured in the same run, and what the cycle cost: Greengrass calls, throttles met, DynamoDB
reads and writes, SNS publishes, log bytes, the poller's peak RSS. `--json` saves it for cost.py.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import multiprocessing
import os
import resource
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
SCHEDULED_EVENT = {"source": "ggwatch.schedule", "scheduleArn": "bench", "scheduledTime": "bench"}
HOME = "us-east-1"
OTHER_REGIONS = ("eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1")
FULL_VCPU_MB = 1769
"""Lambda gives a function one full vCPU at 1,769 MB, a proportional share below."""
ISOLATED = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
"""Dummy keys and no profile, in every process: nothing here can reach real AWS."""


# -- the cases ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One measured cycle: N deployments in each of `regions` regions, answered at `latency` seconds,
    `rate` requests a second allowed per (region, operation)."""

    label: str
    per_region: int
    regions: int
    latency: float
    rate: float
    runs_alone: bool = False
    """Region runs one after the other, each with the machine to itself (as each has its own vCPU on
    Lambda); the cycle is then the longest run's time. False: all at once, sharing this machine's cores."""

    @property
    def deployments(self) -> int:
        return self.per_region * self.regions

    def region_names(self) -> list[str]:
        return [HOME, *OTHER_REGIONS][: self.regions]


@dataclass
class Result:
    """What one cycle took and cost; every figure the table and cost.py read."""

    case: Case
    concurrency: int
    """Calls in flight per region the poller was configured for (1: a poller without the setting)."""
    cycle_seconds: float | None
    extrapolated: bool
    covered: int
    runs: int
    calls: int
    throttles: int
    calls_per_deployment: float
    busiest_operation_calls: int
    """Admitted calls of the busiest (region, operation): what the rate bound is made of."""
    region_runs: int
    """Poller processes besides the scheduled run's, one per other region (0: one process polls all)."""
    sequential_seconds_per_deployment: float
    dynamodb: dict[str, float]
    sns_publishes: int
    sns_requests: int
    log_bytes: int
    metric_names: list[str]
    """Custom metrics the cycle's runs published (each is billed per metric-month)."""
    peak_rss_mib: float
    poller_cpu_seconds: float
    """CPU the poller processes spent in the cycle's runs: what a busy machine stretches."""
    largest_process_cpu_seconds: float
    """The most CPU one of them spent: on Lambda, where each run has its own vCPU, the cycle's floor."""
    memory_mb: int
    """The function's MemorySize: Lambda gives it memory_mb / 1769 of a vCPU."""

    @property
    def lambda_cpu_floor_seconds(self) -> float:
        """The busiest run's CPU time at the vCPU share Lambda gives the function's memory: no
        concurrency makes a cycle shorter than this on Lambda."""
        return self.largest_process_cpu_seconds * FULL_VCPU_MB / self.memory_mb

    run_seconds: list[float] = field(default_factory=list)

    @property
    def bound_seconds(self) -> float:
        case, k = self.case, self.calls_per_deployment
        in_flight = self.concurrency * case.regions
        latency_bound = case.deployments * k * case.latency / in_flight
        rate_bound = self.busiest_operation_calls / case.rate
        return max(latency_bound, rate_bound)

    @property
    def sequential_seconds(self) -> float:
        return self.sequential_seconds_per_deployment * self.case.deployments

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "case": {**asdict(self.case), "deployments": self.case.deployments},
            "bound_seconds": self.bound_seconds,
            "sequential_seconds": self.sequential_seconds,
            "lambda_cpu_floor_seconds": self.lambda_cpu_floor_seconds,
        }


SEEDED_AT = 1_796_000_000.0
"""When every simulated deployment was created (epoch seconds)."""


def _identity(region: str, index: int) -> tuple[str, str, str]:
    """Deployment ID, thing group and job ID of the index-th deployment of a region: all that sets
    one apart from another, so the primed items of all but the first are copies (see _prime)."""
    deployment_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"deployment/{region}/{index}"))
    job_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"job/{region}/{index}"))
    return deployment_id, f"bench-line-{region}-{index:06d}", job_id


# -- the child processes -------------------------------------------------------------------------------
def _serve_moto(conn: Connection) -> None:
    """moto's server in a process of its own: DynamoDB and SNS."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _plain_json_dynamodb_answers()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    conn.send(f"http://{host}:{port}")
    conn.recv()
    server.stop()


def _serve_fleet(conn: Connection, regions: list[str], per_region: int) -> None:
    """The simulator in a process of its own: `per_region` idle V2 deployments in each region, one
    server without pacing (priming) and one paced as the parent asks."""
    from ggwatch_local.greengrass import Pacing
    from ggwatch_local.greengrass_v2 import (
        Execution,
        FleetFake,
        FleetFakeServer,
        FleetLife,
        FleetStep,
        Target,
    )

    stamps: list[tuple[float, str, str, str | None, str | None]] = []
    lock = threading.Lock()

    class TimedFleet(FleetFake):
        """The fleet fake, noting when each call was answered (monotonic: comparable across processes)."""

        def record(
            self, operation: Any, deployment_id: Any, fault: Any = None, client_token: Any = None
        ) -> None:
            with lock:
                stamps.append((time.monotonic(), self.region, operation, deployment_id, fault))

    # One instant for every deployment: they differ only in their identity (see _identity).
    fleets = {region: TimedFleet(region=region, clock=lambda: SEEDED_AT) for region in regions}
    devices = tuple(Execution(f"core-{d}", "SUCCEEDED") for d in range(3))
    ids: dict[str, list[str]] = {}
    for region, fleet in fleets.items():
        ids[region] = []
        for i in range(per_region):
            deployment_id, target, job_id = _identity(region, i)
            steps = (FleetStep("ACTIVE", "IN_PROGRESS", devices),)
            ids[region].append(
                fleet.add(
                    FleetLife("fleet", Target("thinggroup", target), steps), deployment_id, job_id=job_id
                )
            )
    home, *others = regions
    by_region = {region: fleets[region] for region in others}
    unpaced = FleetFakeServer(fleets[home], regions=by_region).start()
    paced: FleetFakeServer | None = None
    conn.send({"unpaced": unpaced.endpoint_url, "ids": ids})
    while True:
        command, *args = conn.recv()
        if command == "pace":
            if paced is not None:
                paced.stop()
            latency, rate = args
            paced = FleetFakeServer(
                fleets[home], regions=by_region, pacing=Pacing(latency=latency, rate_limit=rate)
            ).start()
            conn.send(paced.endpoint_url)
        elif command == "reset":
            with lock:
                stamps.clear()
            conn.send(None)
        elif command == "stats":
            with lock:
                stats = _cycle_stats(list(stamps), sum(len(v) for v in ids.values()))
            conn.send({**stats, "regions": list(ids)})
        else:
            break
    for server in (paced, unpaced):
        if server is not None:
            server.stop()


def _cycle_stats(stamps: list[tuple[float, str, str, str | None, str | None]], total: int) -> dict[str, Any]:
    """When every deployment had been polled once (its DescribeJob answered), and the calls until then."""
    done: dict[str | None, float] = {}
    by_region: Counter[str] = Counter()
    for at, region, operation, deployment_id, fault in sorted(stamps):
        if operation == "DescribeJob" and fault is None and deployment_id not in done:
            done[deployment_id] = at
            by_region[region] += 1
    covered_at = max(done.values()) if len(done) == total else None
    cycle = [s for s in stamps if covered_at is None or s[0] <= covered_at]
    admitted = Counter((region, operation) for _, region, operation, _, fault in cycle if fault is None)
    return {
        "covered": len(done),
        "covered_by_region": dict(by_region),
        "covered_at": covered_at,
        "calls": len(cycle),
        "throttles": sum(1 for s in cycle if s[4] == "throttle"),
        "admitted": sum(admitted.values()),
        "busiest": max(admitted.values(), default=0),
    }


def _plain_json_dynamodb_answers() -> None:
    """moto's model-driven response serializer spends about 3 ms per item: reading a 5,000-item index
    page took a minute, where DynamoDB answers in milliseconds. Its DynamoDB documents are plain
    JSON already (DynamoType values turned into dicts), so this process sends them as they are, and
    falls back on the serializer for anything json cannot write."""
    from moto.dynamodb.responses import DynamoResult

    serialize = DynamoResult.execute_result

    def plain(self: Any, context: Any) -> Any:
        try:
            body = json.dumps(self.result)
        except TypeError:
            return serialize(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    DynamoResult.execute_result = plain  # type: ignore[method-assign]


class _CountingStream:
    """Stands in for stdout in the poller process: counts the log bytes and the custom metrics' names
    (CloudWatch embedded metric format lines), shows nothing."""

    def __init__(self) -> None:
        self.bytes = 0
        self.metric_names: set[str] = set()
        self._line = ""

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        *complete, self._line = (self._line + text).split("\n")
        for line in complete:
            if '"CloudWatchMetrics"' in line:
                for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                    self.metric_names.update(metric["Name"] for metric in directive["Metrics"])
        return len(text)

    def flush(self) -> None:
        """Nothing is kept."""


class _CallCounter:
    """DynamoDB and SNS calls of the poller, counted by botocore event hooks (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def install(self, events: Any) -> None:
        events.register("before-call.dynamodb", self._before_dynamodb)
        events.register("after-call.dynamodb", self._after_dynamodb)
        events.register("before-parameter-build.sns", self._sns)

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()

    def _before_dynamodb(
        self, model: Any, params: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        body = params.get("body") or b"{}"
        request = json.loads(body)
        context["bench_eventual"] = bool(request.get("IndexName")) or not request.get("ConsistentRead")
        context["bench_request_bytes"] = len(body)

    def _after_dynamodb(self, model: Any, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        name = model.name
        with self._lock:
            self.counts[f"dynamodb.{name}"] += 1
            if name in ("GetItem", "Query", "Scan", "BatchGetItem"):
                units = math.ceil(max(len(http_response.content), 1) / 4096)
                self.counts["dynamodb.read_calls"] += 1
                self.counts["dynamodb.read_units_x2"] += units * (1 if context.get("bench_eventual") else 2)
            elif name in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
                self.counts["dynamodb.write_calls"] += 1
                self.counts["dynamodb.write_units"] += math.ceil(context.get("bench_request_bytes", 1) / 1024)

    def _sns(self, model: Any, params: Mapping[str, Any], **_: Any) -> None:
        with self._lock:
            if model.name == "Publish":
                self.counts["sns.publishes"] += 1
                self.counts["sns.requests"] += 1
            elif model.name == "PublishBatch":
                self.counts["sns.publishes"] += len(params.get("PublishBatchRequestEntries", []))
                self.counts["sns.requests"] += 1


def _poll(conn: Connection, environment: dict[str, str], timeout_seconds: float, memory_mb: int) -> None:
    """The poller process: Lambda's cold start once, then one invocation each time the parent asks."""
    os.environ.update(environment)
    stream = _CountingStream()
    sys.stdout = stream  # before the handler's import: the logger and the metrics write here
    import boto3

    from ggwatch_local.lambda_runtime import LambdaContext

    boto3.setup_default_session()
    counter = _CallCounter()
    counter.install(boto3._get_default_session().events)
    app = _load(ROOT / "functions" / "poller" / "app.py", "poller_app")
    app.cold_start()  # the cold start's client building: not part of a cycle
    counter.reset()
    stream.bytes = 0
    stream.metric_names.clear()
    cpu_before = _cpu_seconds()
    conn.send("ready")
    while True:
        message = conn.recv()
        if message == "run":
            event: dict[str, Any] = dict(SCHEDULED_EVENT)
        elif isinstance(message, tuple) and message[0] == "run":
            event = message[1]  # a region run, as Lambda delivers the scheduled run's invocation
        else:
            break
        context = LambdaContext(
            function_name="ggwatch-bench-poller",
            invoked_function_arn=f"arn:aws:lambda:{HOME}:{ACCOUNT}:function:ggwatch-bench-poller",
            memory_limit_in_mb=memory_mb,
            deadline=time.monotonic() + timeout_seconds,
        )
        started = time.monotonic()
        try:
            summary = app.lambda_handler(event, context)
        except Exception as error:  # reported to the parent, which stops the benchmark with it
            conn.send({"error": repr(error)})
            return
        conn.send({"started": started, "ended": time.monotonic(), "summary": summary})
    conn.send(
        {
            "counts": dict(counter.counts),
            "log_bytes": stream.bytes,
            "metric_names": sorted(stream.metric_names),
            "cpu_seconds": _cpu_seconds() - cpu_before,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Child:
    """A spawned process and the pipe the parent drives it through."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_end = context.Pipe()
        self.process = context.Process(target=target, args=(child_end, *args), daemon=True)
        self.process.start()

    def ask(self, message: Any = None, timeout: float = 900) -> Any:
        """Send `message` (None: nothing) and return the answer; a child's failure is raised here."""
        if message is not None:
            self.conn.send(message)
        if not self.conn.poll(timeout):
            raise TimeoutError(f"{self.process.name} did not answer within {timeout} s")
        answer = self.conn.recv()
        if isinstance(answer, dict) and "error" in answer:
            raise RuntimeError(f"{self.process.name} failed: {answer['error']}")
        return answer

    def close(self, farewell: Any = ("stop",)) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):  # it was already on its way out (it had sent its last answer)
                self.conn.send(farewell)
            self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=10)


class _RegionRunLambda:
    """Lambda's side of region runs: a loopback Invoke endpoint (AWS_ENDPOINT_URL_LAMBDA) that queues
    each asynchronous invocation (202, as Lambda answers) and runs it on that region's poller process,
    a cold-started process per region like the separate execution environments Lambda would use."""

    def __init__(self, processes: Mapping[str, _Child], *, alone: bool = False) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self._processes = processes
        self._alone = alone
        self._queued: list[dict[str, Any]] = []
        self._threads: list[threading.Thread] = []
        self._answers: list[Any] = []
        self._lock = threading.Lock()
        runs = self

        class Invocations(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                known = (
                    self.headers.get("X-Amz-Invocation-Type") == "Event" and event.get("region") in processes
                )
                self.send_response(202 if known else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if known:
                    runs._start(event)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Invocations)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _start(self, event: dict[str, Any]) -> None:
        if self._alone:
            with self._lock:
                self._queued.append(event)
            return

        def run() -> None:
            try:
                answer = self._processes[event["region"]].ask(("run", event))
            except Exception as error:  # raised in the parent by wait()
                answer = error
            with self._lock:
                self._answers.append(answer)

        thread = threading.Thread(target=run, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def wait(self) -> list[dict[str, Any]]:
        """The runs started since the last wait, once all have ended (run one at a time now, if alone)."""
        with self._lock:
            queued, self._queued = self._queued, []
        for event in queued:
            self._answers.append(self._processes[event["region"]].ask(("run", event)))
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()
        with self._lock:
            answers, self._answers = self._answers, []
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer
        return answers

    def close(self) -> None:
        self._server.shutdown()


def _has_region_runs() -> bool:
    """Whether the poller measured hands regions to runs of their own (a poller from before does not)."""
    return importlib.util.find_spec("ggwatch.inbound.region_runs") is not None


# -- the parent: provision, prime, measure -------------------------------------------------------------
def _template_figures() -> tuple[float, int]:
    """The poller's Timeout and MemorySize, read from template.yaml."""
    from ggwatch_local.template import load_template

    properties = load_template()["Resources"]["PollerFunction"]["Properties"]
    return float(properties["Timeout"]), int(properties["MemorySize"])


def _provision(moto_url: str) -> tuple[str, str]:
    """A fresh table built from the template, and the topic: (table name, topic ARN)."""
    import boto3

    from ggwatch_local.template import create_table_from_template

    suffix = uuid.uuid4().hex[:8]
    session = boto3.session.Session(region_name=HOME)
    table = create_table_from_template(session.client("dynamodb", endpoint_url=moto_url), f"bench-{suffix}")
    topic = session.client("sns", endpoint_url=moto_url).create_topic(Name=f"bench-{suffix}")["TopicArn"]
    return table, topic


def _prime(table: str, moto_url: str, fleet_url: str, ids: Mapping[str, list[str]]) -> None:
    """Track every deployment and store what the simulator says of it, as a first poll would.

    The first of each region goes the real way (track, observe, commit); the others are copies of its
    item with their own identity, written 25 at a time: priming 5,000 deployments one by one against
    moto would take longer than the benchmark itself.
    """
    import boto3

    from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
    from ggwatch.adapters.greengrass_v2 import GreengrassV2Deployments
    from ggwatch.adapters.greengrass_v2_source import GreengrassV2Source
    from ggwatch.domain.models import DeploymentKind
    from ggwatch.domain.transitions import bounded

    session = boto3.session.Session(region_name=HOME)
    dynamodb = session.client("dynamodb", endpoint_url=moto_url)
    repository = DynamoDeploymentRepository(table, client=dynamodb)
    now = datetime.now(UTC)
    kind = DeploymentKind.GREENGRASS_V2
    for region in ids:
        source = GreengrassV2Source(
            GreengrassV2Deployments(
                greengrass=session.client("greengrassv2", endpoint_url=fleet_url, region_name=region),
                iot=session.client("iot", endpoint_url=fleet_url, region_name=region),
            )
        )
        first = ids[region][0]
        repository.track(kind, first, tracked_by="bench", now=now, region=None if region == HOME else region)
        stored = repository.get(kind, first)
        if stored is None:
            raise RuntimeError(f"tracking {first} stored nothing")
        repository.commit(stored, bounded(source.get_status(first)), now=now, expires_at=None)
    items = [
        item for page in dynamodb.get_paginator("scan").paginate(TableName=table) for item in page["Items"]
    ]
    copies: list[dict[str, Any]] = []
    for region, deployment_ids in ids.items():
        original = json.dumps(next(item for item in items if _identity(region, 0)[0] in json.dumps(item)))
        for index in range(1, len(deployment_ids)):
            copy = original
            for old, new in zip(_identity(region, 0), _identity(region, index), strict=True):
                copy = copy.replace(old, new)
            copies.append(json.loads(copy))
    for start in range(0, len(copies), 25):
        batch = [{"PutRequest": {"Item": item}} for item in copies[start : start + 25]]
        unprocessed: Mapping[str, Any] = {table: batch}
        while unprocessed:
            unprocessed = dynamodb.batch_write_item(RequestItems=dict(unprocessed))["UnprocessedItems"]


def _sequential_seconds_per_deployment(fleet_url: str, ids: list[str], sample: int) -> float:
    """The naive loop: GetDeployment then DescribeJob, one deployment after the other."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=HOME)
    config = Config(retries={"mode": "standard"})
    greengrass = session.client("greengrassv2", endpoint_url=fleet_url, config=config)
    iot = session.client("iot", endpoint_url=fleet_url, config=config)
    chosen = ids[:sample]
    started = time.monotonic()
    for deployment_id in chosen:
        iot.describe_job(jobId=greengrass.get_deployment(deploymentId=deployment_id)["iotJobId"])
    return (time.monotonic() - started) / len(chosen)


def _poller_settings() -> dict[str, Any]:
    try:
        from ggwatch.settings.poller import PollerSettings
    except ImportError:  # a ggwatch from before one settings module per handler
        from ggwatch.settings import PollerSettings  # type: ignore[attr-defined,no-redef]

    return {name: info.default for name, info in PollerSettings.model_fields.items()}


def measure(case: Case, *, moto_url: str, concurrency: int | None, sample: int, budget: float) -> Result:
    """Provision, prime, then run the poller until one idle cycle is done (or the budget is spent)."""
    timeout, memory_mb = _template_figures()
    settings = _poller_settings()
    has_concurrency = "POLL_CONCURRENCY" in settings
    in_flight = (concurrency or int(settings["POLL_CONCURRENCY"])) if has_concurrency else 1
    fleet = _Child(_serve_fleet, case.region_names(), case.per_region)
    try:
        started = fleet.ask()
        ids: dict[str, list[str]] = started["ids"]
        table, topic = _provision(moto_url)
        priming = time.monotonic()
        _prime(table, moto_url, started["unpaced"], ids)
        _say(f"  primed {case.deployments} deployments in {time.monotonic() - priming:.0f} s")
        paced_url = fleet.ask(("pace", case.latency, case.rate))
        environment = {
            **ISOLATED,
            "AWS_REGION": HOME,
            "AWS_DEFAULT_REGION": HOME,
            "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
            "AWS_ENDPOINT_URL_SNS": moto_url,
            "AWS_ENDPOINT_URL_GREENGRASS": paced_url,
            "AWS_ENDPOINT_URL_GREENGRASSV2": paced_url,
            "AWS_ENDPOINT_URL_IOT": paced_url,
            "TABLE_NAME": table,
            "TOPIC_ARN": topic,
            "POWERTOOLS_SERVICE_NAME": "ggwatch",
            "POWERTOOLS_METRICS_NAMESPACE": "ggwatch",
            **({"POLL_CONCURRENCY": str(in_flight)} if has_concurrency else {}),
            # the client-side limits set to the simulated quota, as an operator sets them to theirs
            **{name: str(case.rate) for name in settings if name.startswith("RATE_")},
            **({"POLL_REGIONS": ",".join(case.region_names()[1:])} if "POLL_REGIONS" in settings else {}),
        }
        region_processes: dict[str, _Child] = {}
        region_runs = None
        if case.regions > 1 and _has_region_runs():
            region_processes = {
                r: _Child(_poll, environment, timeout, memory_mb) for r in case.region_names()[1:]
            }
            region_runs = _RegionRunLambda(region_processes, alone=case.runs_alone)
            environment["AWS_ENDPOINT_URL_LAMBDA"] = region_runs.url
        poller = _Child(_poll, environment, timeout, memory_mb)
        processes = [poller, *region_processes.values()]
        try:
            for process in processes:
                process.ask()  # cold start done
            fleet.ask(("reset",))
            runs, stats, began = _cycle(poller, region_runs, fleet, budget)
            _say(f"  {len(runs)} run(s), {stats['covered']} of {case.deployments} deployments polled")
            final = _combined([process.ask("stop") for process in processes])
        finally:
            for process in processes:
                process.close()
            if region_runs is not None:
                region_runs.close()
        sequential = _sequential_seconds_per_deployment(paced_url, ids[HOME], sample)
    finally:
        fleet.close()
    counts: dict[str, float] = final["counts"]
    covered = stats["covered"]
    if stats["covered_at"] is not None and case.runs_alone and region_processes:
        # as if started together, each on its own vCPU: a scheduled period lasts its longest run
        cycle = sum(max(run["ended"] - run["started"] for run in period) for period in runs)
        extrapolated = False
    elif stats["covered_at"] is not None:
        cycle, extrapolated = stats["covered_at"] - began, False
    elif covered and not stats["stalled"]:
        ended = max(run["ended"] for run in runs[-1])
        cycle, extrapolated = (ended - began) * case.deployments / covered, True
    else:
        cycle, extrapolated = None, False
    admitted = max(stats["admitted"], 1)
    return Result(
        case=case,
        concurrency=in_flight,
        cycle_seconds=cycle,
        extrapolated=extrapolated,
        covered=covered,
        runs=len(runs),
        region_runs=len(region_processes),
        calls=stats["calls"],
        throttles=stats["throttles"],
        calls_per_deployment=admitted / max(covered, 1),
        busiest_operation_calls=stats["busiest"] * case.deployments // max(covered, 1),
        sequential_seconds_per_deployment=sequential,
        dynamodb={
            "reads": counts.get("dynamodb.read_calls", 0),
            "read_units": counts.get("dynamodb.read_units_x2", 0) / 2,
            "writes": counts.get("dynamodb.write_calls", 0),
            "write_units": counts.get("dynamodb.write_units", 0),
        },
        sns_publishes=int(counts.get("sns.publishes", 0)),
        sns_requests=int(counts.get("sns.requests", 0)),
        log_bytes=final["log_bytes"],
        metric_names=final["metric_names"],
        peak_rss_mib=final["peak_rss_mib"],
        poller_cpu_seconds=final["cpu_seconds"],
        largest_process_cpu_seconds=final["largest_cpu_seconds"],
        memory_mb=memory_mb,
        run_seconds=[run["ended"] - run["started"] for scheduled in runs for run in scheduled],
    )


def _combined(finals: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of several poller processes (the scheduled run's and the region runs') as one."""
    counts: Counter[str] = Counter()
    for final in finals:
        counts.update(final["counts"])
    return {
        "counts": dict(counts),
        "log_bytes": sum(final["log_bytes"] for final in finals),
        "metric_names": sorted({name for final in finals for name in final["metric_names"]}),
        "cpu_seconds": sum(final["cpu_seconds"] for final in finals),
        "largest_cpu_seconds": max(final["cpu_seconds"] for final in finals),
        "peak_rss_mib": max(final["peak_rss_mib"] for final in finals),
    }


def _cycle(
    poller: _Child, region_runs: _RegionRunLambda | None, fleet: _Child, budget: float
) -> tuple[list[list[dict[str, Any]]], dict[str, Any], float]:
    """Invoke the poller as the schedule does, run after run, until every deployment was polled once,
    a run made no progress (deployments it cannot reach), or the budget is spent. Each scheduled run
    comes with the region runs it started, waited for before the next."""
    runs: list[list[dict[str, Any]]] = []
    began = time.monotonic()
    stats: dict[str, Any] = {"covered": 0}
    while True:
        runs.append([poller.ask("run"), *(region_runs.wait() if region_runs else [])])
        before, stats = stats["covered"], fleet.ask(("stats",))
        # A run that went through every active item and never reached a region: it never will.
        unreached = [r for r in stats["regions"] if not stats["covered_by_region"].get(r)]
        finished = not any(run["summary"].get("stoppedAtDeadline", True) for run in runs[-1])
        stats["stalled"] = stats["covered"] == before or (finished and bool(unreached))
        if stats["covered_at"] is not None or stats["stalled"] or time.monotonic() - began > budget:
            # Out of budget with a region never reached: no rate to extrapolate from either.
            stats["stalled"] = stats["stalled"] or bool(unreached)
            return runs, stats, began


# -- the table -----------------------------------------------------------------------------------------
COLUMNS = (
    ("N", 6), ("regions", 7), ("R/s", 5), ("C", 4), ("runs", 4), ("cycle s", 8), ("bound s", 7),
    ("ratio", 5), ("seq. s", 7), ("speed-up", 8), ("k", 4), ("GG calls", 8), ("throttles", 9),
    ("DDB reads", 9), ("DDB writes", 10), ("CPU s", 5), ("CPU@λ s", 7), ("RSS MiB", 7),
)  # fmt: skip


def table(results: Iterable[Result]) -> str:
    lines = ["  ".join(f"{name:>{width}}" for name, width in COLUMNS)]
    for r in results:
        mark = "~" if r.extrapolated else "a" if r.case.runs_alone and r.region_runs else ""
        cycle = "n/a" if r.cycle_seconds is None else f"{mark}{r.cycle_seconds:.1f}"
        ratio = "n/a" if r.cycle_seconds is None else f"{r.cycle_seconds / r.bound_seconds:.2f}"
        speedup = "n/a" if r.cycle_seconds is None else f"{r.sequential_seconds / r.cycle_seconds:.1f}x"
        cells = (
            r.case.deployments, r.case.regions, f"{r.case.rate:g}", r.concurrency, r.runs, cycle,
            f"{r.bound_seconds:.1f}", ratio, f"~{r.sequential_seconds:.0f}", speedup, f"{r.calls_per_deployment:.2f}",
            r.calls, r.throttles, f"{r.dynamodb['reads']:.0f}", f"{r.dynamodb['writes']:.0f}",
            f"{r.poller_cpu_seconds:.1f}", f"{r.lambda_cpu_floor_seconds:.0f}", f"{r.peak_rss_mib:.0f}",
        )  # fmt: skip
        lines.append("  ".join(f"{cell!s:>{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True)))
    return "\n".join(lines)


def footnotes(results: list[Result], sample: int, imports: Mapping[str, float], package_kib: float) -> str:
    latency = {r.case.latency for r in results}
    notes = [
        f"L = {', '.join(f'{x * 1000:.0f} ms' for x in sorted(latency))} added to every simulator answer; R: requests a "
        "second allowed per (region, operation), above it the service's own throttling error.",
        "cycle s: from the first run's start until every deployment's DescribeJob was answered, runs back to back "
        "(on the schedule, a cycle of several runs spans that many schedule periods). ~: budget spent, "
        "extrapolated from the deployments reached; n/a: the poller reached none of them in their region.",
        "bound s: max(busiest (region, operation)'s calls / R, N·k·L / (C·regions)); k: admitted Greengrass "
        "calls per deployment in the cycle.",
        f"seq. s: a naive loop (GetDeployment, then DescribeJob, one deployment after the other) timed over "
        f"{sample} deployments in the same run and extrapolated to N.",
        "GG calls: Greengrass and IoT requests the simulator received in the cycle, throttled ones included. "
        "DDB reads/writes: DynamoDB calls of all the cycle's runs (botocore event hooks); CPU s: the poller "
        "process's CPU time in them; CPU@λ s: the busiest process's CPU time at the vCPU share Lambda gives the template's "
        f"MemorySize ({results[0].memory_mb if results else 0} MB of {FULL_VCPU_MB}), a floor no concurrency "
        "lowers; RSS: the poller process's peak.",
        "regions > 1: the scheduled run starts a region run per other region through a loopback Lambda Invoke "
        "endpoint, each run in a poller process of its own, cold-started as Lambda's execution environments "
        "are; CPU s, DDB and log figures add up all the processes, RSS is the largest. First row: the runs "
        "at once, sharing this machine's cores with each other, the simulator and moto. Second row (a): the "
        "region runs one after the other once the scheduled run ended, each with the machine to itself, as "
        "each has a vCPU of its own on Lambda; its cycle is the longest run's time, as if they had started "
        "together.",
        "cold import (median of fresh interpreters): "
        + ", ".join(f"{name} {ms:.0f} ms" for name, ms in imports.items())
        + f"; ggwatch package source {package_kib:.0f} KiB.",
    ]
    return "\n".join(f"  {i}. {note}" for i, note in enumerate(notes, 1))


def _cold_start_figures(runs: int = 5) -> tuple[dict[str, float], float]:
    """Handler import beside `import boto3` (and, where cold_start.py measures it, the import plus the
    first invocation's setup), and the package source's size, through tools/bench/cold_start.py's own
    functions (whichever of its versions is present)."""
    cold_start = _load(Path(__file__).with_name("cold_start.py"), "bench_cold_start")
    handler = str(ROOT / "functions" / "poller" / "app.py")
    setup: dict[str, float] = {}
    if hasattr(cold_start, "import_medians"):
        medians = cold_start.import_medians(runs)
        baseline, poller = float(medians["boto3"]), float(medians["poller"])
        if "poller + setup" in medians:
            setup = {"poller handler + first-invocation setup": float(medians["poller + setup"])}
    else:
        baseline = float(cold_start.import_ms(cold_start.BASELINE_PROBE))
        poller = float(cold_start.import_ms(cold_start.PROBE, handler))
    package = ROOT / "layers" / "ggwatch" / "ggwatch"
    if hasattr(cold_start, "tree_bytes"):
        kib = float(cold_start.tree_bytes(package)) / 1024
    else:
        kib = float(cold_start.tree_kib(package))
    return {"import boto3": baseline, "poller handler": poller} | setup, kib


def cases(args: argparse.Namespace) -> list[Case]:
    chosen = [Case(f"{n} x 1 region", n, 1, args.latency, args.latency_case_rate) for n in args.deployments]
    chosen += [
        Case(
            f"{args.regions_each} x {args.regions} regions{', runs alone' if alone else ''}",
            args.regions_each,
            args.regions,
            args.latency,
            args.latency_case_rate,
            runs_alone=alone,
        )
        for alone in ((False, True) if args.regions > 1 else ())
    ]
    if args.rate_case:
        chosen.append(Case(f"{args.rate_case} rate-bound", args.rate_case, 1, args.latency, args.rate))
    return chosen


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> list[Result]:
    parser = argparse.ArgumentParser(prog="tools/bench/fleet.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--deployments", type=_numbers, default=[100, 1000, 5000], help="N, one region (comma list)"
    )
    parser.add_argument("--regions", type=int, default=3, help="regions of the multi-region case (1: none)")
    parser.add_argument("--regions-each", type=int, default=1000, help="deployments in each of those regions")
    parser.add_argument("--rate-case", type=int, default=1000, help="N of the rate-bound case (0: none)")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="R of the rate-bound case, per (region, operation)"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="L, seconds added to every answer")
    parser.add_argument(
        "--latency-case-rate", type=float, default=1000.0,
        help="R of the other cases: high enough that latency binds",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=int, default=32, help="POLL_CONCURRENCY, when the poller has it"
    )
    parser.add_argument(
        "--sample", type=int, default=40, help="deployments the sequential loop is timed over"
    )
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of polling per case at most")
    parser.add_argument("--json", type=Path, help="also save the results here (cost.py reads them)")
    parser.add_argument("--skip-imports", action="store_true", help="leave out the cold-import figures")
    args = parser.parse_args(argv)
    for name in [
        n for n in os.environ if n.startswith(("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"))
    ]:
        del os.environ[name]
    os.environ.update(ISOLATED)

    load_before = os.getloadavg()[0]
    moto = _Child(_serve_moto)
    results: list[Result] = []
    try:
        moto_url = moto.ask()
        for case in cases(args):
            _say(f"measuring {case.label} ...")
            results.append(
                measure(
                    case,
                    moto_url=moto_url,
                    concurrency=args.concurrency,
                    sample=args.sample,
                    budget=args.budget,
                )
            )
    finally:
        moto.close()
    imports, kib = ({}, 0.0) if args.skip_imports else _cold_start_figures()
    print(f"Idle poll cycle over simulated Greengrass V2 fleets ({datetime.now(UTC):%Y-%m-%d}, "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after, "
          f"Python {sys.version.split()[0]})", file=out)  # fmt: skip
    print(table(results), file=out)
    print(footnotes(results, args.sample, imports, kib), file=out)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"results": [r.to_json() for r in results], "imports_ms": imports}, indent=2)
        )
    return results


if __name__ == "__main__":
    main()
