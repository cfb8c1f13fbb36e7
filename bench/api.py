"""Caravan's bookings and quotes beside a bare one-insert FastAPI app, side by side in one run.

Starts PostgreSQL (or uses --database-url), seeds the demo network, and serves, each with
``app.server.serve`` (two worker processes, each accepting on its own SO_REUSEPORT socket;
uvicorn with uvloop and httptools; the same pool size), both Caravan (``caravan serve``) and
the peer ``bench/bare_app.py`` (FastAPI, async SQLAlchemy + asyncpg, one INSERT a request).
Then, in one run:

* closed loop, --concurrency keep-alive clients each sending its next request when the last
  is answered: GET /healthz, the peer's POST /insert, POST /v1/bookings (spread over every open
  departure) and POST /v1/quotes (demo origin/destination pairs): each one's saturation rate;
* open loop, a request started every 1/rate s whatever the answers (latency counted from the
  scheduled start): bookings at --booking-rate, quotes at each of --quote-rates;
* overload: quotes offered at --overload× the quotes' closed-loop saturation rate: the count of
  500s and the slowest answer (the aim: no 500, every answer within 2 s: 2xx, 429 or 503).

Prints, per phase, requests/s, p50/p99/max latency, statuses and CPU per request (API,
PostgreSQL, client); and bookings/s ÷ the peer's inserts/s, the ratio to compare across
machines. Figures only: nothing here asserts them.

    .venv/bin/python bench/api.py [--concurrency 32] [--seconds 10] [--quote-rates 50,100,200,300]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import (  # noqa: E402
    cpu_by_role,
    drive,
    drive_open,
    free_port,
    http_request,
    postgres_server,
    wait_for_http,
)
from bench.bare_app import create_table  # noqa: E402
from bench.quotes import CARGO, PAIRS  # noqa: E402


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


def quote_json(origin: str, destination: str) -> bytes:
    ready_at = datetime.now(timezone.utc).isoformat()  # a past ready_at counts from now
    return json.dumps({"origin": origin, "destination": destination, "ready_at": ready_at, "cargo": CARGO}).encode()


def start_server(env: dict[str, str], port: int, workers: int, app: str | None = None) -> subprocess.Popen:
    """``caravan serve`` (without the webhook worker), or the app factory ``app`` on the same server."""
    if app is None:
        command = ["-m", "app.cli", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(workers), "--log-level", "warning"]
    else:
        command = ["-c", f"from app.server import serve; serve('127.0.0.1', {port}, {workers}, log_level='warning', "
                         f"app={app!r})"]
    return subprocess.Popen([sys.executable, *command], env=env, cwd=ROOT)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def run(database_url: str, args: argparse.Namespace) -> None:
    concurrency, seconds, workers = args.concurrency, args.seconds, args.workers
    env = {**os.environ, "CARAVAN_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    key, departure_ids = seed(env)
    asyncio.run(create_table(database_url))
    # One key drives every request: the per-key rate limit is turned off so that the figures
    # measure the server, and stay comparable with runs from before the limit existed.
    served_env = {**env, "CARAVAN_DB_POOL_SIZE": str(max(4, concurrency // workers)), "CARAVAN_RATE_LIMIT_PER_S": "0"}
    caravan_port, bare_port = free_port(), free_port()
    caravan = start_server(served_env, caravan_port, workers)
    bare = start_server(served_env, bare_port, workers, "bench.bare_app:create_app")
    try:
        wait_for_http(caravan_port, timeout_s=180)  # a loaded machine takes its time to migrate and spawn
        wait_for_http(bare_port, timeout_s=180)
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        trivial = http_request("GET", "/healthz", {})
        inserts = itertools.cycle([http_request("POST", "/insert", {"Content-Type": "application/json"},
                                                json.dumps({"reference": f"R{n}", "weight_kg": 72.0}).encode())
                                   for n in range(100)])
        bookings = itertools.cycle([http_request("POST", "/v1/bookings", auth, booking_json(d)) for d in departure_ids])
        quotes = itertools.cycle([http_request("POST", "/v1/quotes", auth, quote_json(*pair)) for pair in PAIRS])

        def measure(name: str, server: subprocess.Popen, port: int, make_request, rate: float | None = None,
                    warmup_s: float = 1.0):
            before = cpu_by_role(server.pid)
            if rate is None:
                result = asyncio.run(drive(port, make_request, concurrency, seconds, warmup_s=warmup_s))
                served = result.requests + result.warmup_requests
            else:
                result = asyncio.run(drive_open(port, make_request, rate, seconds, timeout_s=args.timeout))
                served = result.requests
            after = cpu_by_role(server.pid)
            cpu_ms = {role: (after[role] - before[role]) * 1000 / max(served, 1) for role in after}
            ok = sum(n for status, n in result.statuses.items() if 200 <= status < 300)
            print(f"{name:<21}{'closed' if rate is None else 'open':<7}{rate if rate is not None else '-':>8}"
                  f"{result.rate:>7.0f}{ok / result.seconds:>7.0f}{result.percentile(50):>8.1f}"
                  f"{result.percentile(99):>8.1f}{max(result.latencies_ms, default=0):>8.0f}{cpu_ms['api']:>22.2f}"
                  f"{cpu_ms['postgres']:>12.2f}{cpu_ms['client']:>8.2f}   {dict(sorted(result.statuses.items()))}",
                  flush=True)
            return result

        print(f"PostgreSQL, {workers} API workers per app, closed loop: {concurrency} keep-alive clients; "
              f"open loop: a request every 1/rate s; {seconds:g} s per phase")
        print("per-key rate limit: off for this run (CARAVAN_RATE_LIMIT_PER_S=0 in the servers' environment)")
        print(f"{'endpoint':<21}{'mode':<7}{'offered':>8}{'req/s':>7}{'2xx/s':>7}{'p50 ms':>8}{'p99 ms':>8}"
              f"{'max ms':>8}   CPU ms/request: API  PostgreSQL  client   statuses", flush=True)

        if "bookings" in args.phases:
            measure("GET /healthz", caravan, caravan_port, lambda: trivial)
            bare_result = measure("POST /insert (peer)", bare, bare_port, lambda: next(inserts))
            booking_result = measure("POST /v1/bookings", caravan, caravan_port, lambda: next(bookings))
        # Longer warm-up: each worker builds its search network on its first quote.
        quote_result = measure("POST /v1/quotes", caravan, caravan_port, lambda: next(quotes), warmup_s=3.0)
        if "bookings" in args.phases:
            measure("POST /v1/bookings", caravan, caravan_port, lambda: next(bookings), args.booking_rate)
        if "quotes" in args.phases:
            for rate in args.quote_rates:
                measure("POST /v1/quotes", caravan, caravan_port, lambda: next(quotes), rate)
        overload_rate = max(1, round(args.overload * quote_result.rate))
        overload = measure("POST /v1/quotes", caravan, caravan_port, lambda: next(quotes), overload_rate)
    finally:
        stop(caravan)
        stop(bare)

    if "bookings" in args.phases:
        booked = sum(n for status, n in booking_result.statuses.items() if 200 <= status < 300) / booking_result.seconds
        print(f"ratio bookings/s ÷ peer inserts/s (answered 2xx): {booked / bare_result.rate:.3f}  "
              f"(departures used: {len(departure_ids)})")
    slow = sum(1 for ms in overload.latencies_ms if ms > 2000)
    print(f"overload: quotes offered at {overload_rate}/s ({args.overload:g}× the closed-loop {quote_result.rate:.0f}/s): "
          f"{overload.statuses.get(500, 0)} answered 500, {overload.statuses.get(0, 0)} unanswered or broken, "
          f"{slow} slower than 2 s, slowest {max(overload.latencies_ms, default=0):.0f} ms "
          f"(by status: {', '.join(f'{k}: {v:.0f} ms' for k, v in sorted(overload.slowest_ms_by_status.items()))})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty PostgreSQL database; default: start a throwaway server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--booking-rate", type=float, default=100, help="bookings/s offered in the open loop")
    parser.add_argument("--quote-rates", default="50,100,200,300",
                        help="quotes/s offered in the open loop, one phase each")
    parser.add_argument("--overload", type=float, default=3.0, help="overload phase: this many × the quotes' saturation")
    parser.add_argument("--timeout", type=float, default=60.0, help="open loop: seconds before a request counts unanswered")
    parser.add_argument("--phases", default="bookings,quotes",
                        help="what to run beside the quotes' saturation and overload: bookings (healthz, the peer, "
                             "bookings closed and open loop), quotes (the open-loop quote rates)")
    args = parser.parse_args()
    args.phases = {phase.strip() for phase in args.phases.split(",")}
    args.quote_rates = [float(rate) for rate in args.quote_rates.split(",") if rate.strip()]
    if args.database_url:
        run(args.database_url, args)
    else:
        with postgres_server() as url:
            run(url, args)


if __name__ == "__main__":
    main()
