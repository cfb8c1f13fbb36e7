"""Booking throughput against a trivial endpoint of the same server, side by side.

Starts PostgreSQL (or uses --database-url), seeds the demo network, serves the
API with ``caravan serve`` (two worker processes, each accepting on its own
SO_REUSEPORT socket; uvicorn with uvloop and httptools), then drives, in one run,
GET /healthz and POST /v1/bookings (spread over every open departure) from
--concurrency keep-alive clients. Prints requests/s, p50/p99 latency, the mean
latency of the fastest and slowest connection (far apart when one worker holds
more connections than the other), CPU per request, and the ratio bookings/s ÷ trivial requests/s, which is what to compare across machines.

    .venv/bin/python bench/api.py [--concurrency 32] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import cpu_by_role, drive, free_port, http_request, postgres_server, wait_for_http  # noqa: E402


def seed(env: dict[str, str]) -> tuple[str, list[int]]:
    out = subprocess.run([sys.executable, "-m", "app.cli", "seed-demo"], env=env, check=True, capture_output=True, text=True)
    key = next(line.split()[-1] for line in out.stdout.splitlines() if line.strip().startswith("exporter"))
    code = (
        "import asyncio\n"
        "from sqlalchemy import select\n"
        "from app.cli import _with_session\n"
        "from app.network.models import Departure\n"
        "async def ids(s): return list(await s.scalars(select(Departure.id).where(Departure.status == 'OPEN')))\n"
        "print(asyncio.run(_with_session(ids)))\n"
    )
    ids = json.loads(subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout)
    return key, ids


def booking_json(departure_id: int) -> bytes:
    return json.dumps({
        "departure_id": departure_id,
        "consignee": {"name": "Rhein Deko GmbH", "address": "Hafenstraße 1", "city": "Duisburg", "country": "DE"},
        "cargo": [{"description": "Festive decorations", "hs_code": "950510", "packages": 4, "package_type": "CARTON",
                   "length_cm": 60, "width_cm": 40, "height_cm": 50, "weight_kg": 72}],
    }).encode()


def run(database_url: str, concurrency: int, seconds: float, workers: int) -> None:
    env = {**os.environ, "CARAVAN_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    key, departure_ids = seed(env)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        # One key drives every booking: the per-key rate limit is turned off so that the figures
        # measure the server, and stay comparable with runs from before the limit existed.
        env={**env, "CARAVAN_DB_POOL_SIZE": str(max(4, concurrency // workers)), "CARAVAN_RATE_LIMIT_PER_S": "0"},
        cwd=ROOT,
    )
    try:
        wait_for_http(port)
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        trivial = http_request("GET", "/healthz", {})
        bodies = itertools.cycle([http_request("POST", "/v1/bookings", auth, booking_json(d)) for d in departure_ids])
        phases = []
        for name, make_request in (("GET /healthz", lambda: trivial), ("POST /v1/bookings", lambda: next(bodies))):
            before = cpu_by_role(server.pid)
            result = asyncio.run(drive(port, make_request, concurrency, seconds, warmup_s=1.0))
            after = cpu_by_role(server.pid)
            served = result.requests + result.warmup_requests
            cpu_ms = {role: (after[role] - before[role]) * 1000 / max(served, 1) for role in after}
            phases.append((name, result, cpu_ms))
    finally:
        server.terminate()
        server.wait(timeout=20)

    print(f"PostgreSQL, {workers} API workers, {concurrency} concurrent keep-alive clients, {seconds:.0f} s per phase")
    print("per-key rate limit: off for this run (CARAVAN_RATE_LIMIT_PER_S=0 in the server's environment)")
    print(f"{'endpoint':<20}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'conn ms':>10}"
          "   CPU ms per request: API  PostgreSQL  client   statuses")
    for name, result, cpu_ms in phases:
        print(f"{name:<20}{result.rate:>8.0f}{result.percentile(50):>8.1f}{result.percentile(99):>8.1f}"
              f"{result.connection_spread():>10}"
              f"{cpu_ms['api']:>26.2f}{cpu_ms['postgres']:>12.2f}{cpu_ms['client']:>8.2f}   {result.statuses}")
    health, bookings = phases[0][1], phases[1][1]
    print(f"ratio bookings/s ÷ trivial req/s: {bookings.rate / health.rate:.3f}  (departures used: {len(departure_ids)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty PostgreSQL database; default: start a throwaway server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.database_url:
        run(args.database_url, args.concurrency, args.seconds, args.workers)
    else:
        with postgres_server() as url:
            run(url, args.concurrency, args.seconds, args.workers)


if __name__ == "__main__":
    main()
