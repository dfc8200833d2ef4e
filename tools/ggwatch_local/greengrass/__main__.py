"""Run the fakes by hand for the live demo: ``python -m ggwatch_local.greengrass --port 4010 --deployments 5``.

Seeds N self-running V1 bulk deployments (one of each named life, round-robin or seeded-random) and
one Greengrass V2 deployment of each named fleet life, and keeps serving both APIs (and IoT jobs) on
one port until Ctrl-C. Bulk deployments started through the API get lives from the same chooser.
``--latency``, ``--rate-limit`` and ``--burst`` pace it like a real service; each ``--region`` gets a
Greengrass V2 fleet of its own (the first fleet answers every region not named).
"""

from __future__ import annotations

import argparse
import signal
import threading

from ggwatch_local.greengrass_v2 import FleetFake, FleetFakeServer
from ggwatch_local.greengrass_v2 import lives as fleet_lives

from .lives import assign_lives, demo_lives, round_robin, seeded_random
from .pacing import Pacing
from .state import BulkDeploymentFake

_SERVICES = ("GREENGRASS", "GREENGRASSV2", "IOT")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ggwatch_local.greengrass", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--deployments", type=int, default=5, help="deployments to seed at start-up")
    parser.add_argument("--step-seconds", type=float, default=5.0, help="how long each step of a life lasts")
    parser.add_argument(
        "--seed", type=int, default=None, help="pick lives seeded-randomly instead of round-robin"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="requests a second allowed per (region, operation); above it the service's throttling error",
    )
    parser.add_argument("--burst", type=float, default=None, help="token bucket size (default: one second's)")
    parser.add_argument(
        "--region", action="append", default=[], help="a region with a V2 fleet of its own (repeatable)"
    )
    args = parser.parse_args(argv)
    try:
        pacing = Pacing(latency=args.latency, rate_limit=args.rate_limit, burst=args.burst)
    except ValueError as error:
        parser.error(str(error))

    pool = demo_lives(step_seconds=args.step_seconds)
    chooser = round_robin(pool) if args.seed is None else seeded_random(pool, args.seed)
    # The demo seeds several live deployments at once, so AWS's one-active-start rule is relaxed.
    fake = BulkDeploymentFake(
        chooser=chooser, stopping_duration=args.step_seconds, allow_concurrent_starts=True
    )
    for life in assign_lives(args.deployments, chooser):
        fake.add(life=life)

    fleet, regions = FleetFake(), {region: FleetFake(region=region) for region in args.region}
    for each in (fleet, *regions.values()):
        for fleet_life in fleet_lives.demo_lives(step_seconds=args.step_seconds):
            each.add(fleet_life)

    with FleetFakeServer(
        fleet, bulk=fake, regions=regions, host=args.host, port=args.port, pacing=pacing
    ) as server:
        lines = [f"Greengrass V1 bulk-deployment and V2 fleet fake on {server.endpoint_url}"]
        lines += [f"  export AWS_ENDPOINT_URL_{service}={server.endpoint_url}" for service in _SERVICES]
        lines += [f"  {v.deployment_id}  {' -> '.join(s.status for s in v.life)}" for v in fake.deployments()]
        lines += [
            f"  {v.deployment_id}  {v.deployment_name} ({v.target_arn})"
            for each in (fleet, *regions.values())
            for v in each.deployments()
        ]
        print("\n".join(lines), flush=True)
        done = threading.Event()
        # Explicit handlers: a demo script that backgrounds us would otherwise inherit an ignored SIGINT.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: done.set())
        done.wait()
        print("stopping", flush=True)


if __name__ == "__main__":
    main()
