"""CPU per request in one process: POST /v1/bookings and POST /v1/quotes against GET /healthz, and where the time goes.

Throughput on a 2-core machine is bounded by the CPU a request costs the API
process (PostgreSQL and the load client share the same cores). This script
drives the app in-process through httpx's ASGI transport on a throwaway
PostgreSQL database, so the figures are CPU milliseconds per request and SQL
statements per request — steadier than requests/s on a shared machine.

    .venv/bin/python bench/booking_cpu.py [--requests 400] [--profile bookings|quotes]

``--profile`` prints a pyinstrument tree of that endpoint when pyinstrument is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import postgres_server  # noqa: E402
from bench.api import booking_json, quote_json, seed  # noqa: E402
from bench.quotes import PAIRS  # noqa: E402


async def measure(requests: int, key: str, departure_ids: list[int], profile: str | None) -> None:
    import httpx
    from sqlalchemy import event

    from app.main import create_app

    app = create_app()
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    # Statements sent through the driver directly (app.db.DriverStatement) bypass SQLAlchemy's events.
    from app.db import DriverStatement

    run_through_driver = DriverStatement._run

    async def counted(*args):
        count()
        return await run_through_driver(*args)

    DriverStatement._run = staticmethod(counted)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    bodies = itertools.cycle([booking_json(d) for d in departure_ids])
    quotes = itertools.cycle([quote_json(*pair) for pair in PAIRS])
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://caravan"
    ) as client:
        async def run(kind: str, n: int) -> tuple[float, int, dict[int, int]]:
            nonlocal statements
            statuses: dict[int, int] = {}
            statements = 0
            started = time.process_time()
            for _ in range(n):
                if kind == "health":
                    response = await client.get("/healthz")
                elif kind == "quote":
                    response = await client.post("/v1/quotes", content=next(quotes), headers=auth)
                else:
                    response = await client.post("/v1/bookings", content=next(bodies), headers=auth)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            return (time.process_time() - started) * 1000 / n, statements, statuses

        await run("booking", len(departure_ids))  # warm the caches (one booking per departure) and the pool
        await run("quote", 2 * len(PAIRS))  # each pair's first quote builds the search network and packings
        health_ms, _, health_statuses = await run("health", requests)
        figures = {}
        for kind in ("booking", "quote"):
            profiler = None
            if profile == kind + "s":
                try:
                    from pyinstrument import Profiler
                    profiler = Profiler(interval=0.0005, async_mode="enabled")
                    profiler.start()
                except ImportError:
                    print("pyinstrument is not installed; no profile")
            figures[kind] = await run(kind, requests)
            if profiler:
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"in-process CPU per request over {requests} requests (PostgreSQL, httpx ASGI transport)")
    print("per-key rate limit: off for this run (CARAVAN_RATE_LIMIT_PER_S=0)")
    print(f"GET /healthz        {health_ms:7.2f} ms   {health_statuses}")
    for kind, path in (("booking", "POST /v1/bookings"), ("quote", "POST /v1/quotes")):
        ms, statements_sent, statuses = figures[kind]
        print(f"{path:<20}{ms:7.2f} ms   {statements_sent / requests:.1f} SQL statements each   {statuses}")
    print(f"CPU ratio healthz ÷ booking: {health_ms / figures['booking'][0]:.3f}; "
          f"healthz ÷ quote: {health_ms / figures['quote'][0]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty PostgreSQL database; default: start a throwaway server")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--profile", choices=("bookings", "quotes"), help="print where that endpoint's time goes")
    args = parser.parse_args()

    def go(url: str) -> None:
        os.environ["CARAVAN_DATABASE_URL"] = url
        os.environ["CARAVAN_RATE_LIMIT_PER_S"] = "0"  # one key books them all: measure the work, not the limit
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        key, departure_ids = seed(env)
        asyncio.run(measure(args.requests, key, departure_ids, args.profile))

    if args.database_url:
        go(args.database_url)
    else:
        with postgres_server() as url:
            go(url)


if __name__ == "__main__":
    main()
