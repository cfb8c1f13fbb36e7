"""POST /v1/quotes end to end on the demo network (in process, through httpx's ASGI transport).

    .venv/bin/python bench/quotes.py [--queries 50] [--database-url sqlite:////tmp/x.db]

Migrates a fresh database (a temporary SQLite file unless --database-url), seeds
the demo network (``caravan serve --demo``'s), then times the first quote (which
builds and caches the search network) and --queries warm quotes over several
origin/destination pairs. Figures only: nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from app.cli import migrate  # noqa: E402
from app.config import Settings  # noqa: E402
from app.demo import seed_demo  # noqa: E402
from app.main import create_app  # noqa: E402
from app.routing import index  # noqa: E402

PAIRS = [("CNXGN", "DEDUI"), ("CNWUH", "DEDUI"), ("CNHSI", "PLWAW"), ("CNEZH", "ITMIL"), ("CNWUH-WJS", "DEHAM")]
CARGO = [{"description": "Festive decorations", "hs_code": "950510", "packages": 40, "package_type": "CARTON",
          "length_cm": 60, "width_cm": 40, "height_cm": 50, "weight_kg": 720}]


async def main(args: argparse.Namespace, url: str) -> None:
    app = create_app(Settings(database_url=url, rate_limit_per_s=0))  # one key asks every quote
    print("per-key rate limit: off for this run")
    async with app.state.sessionmaker() as session:
        keys = await seed_demo(session)
        await session.commit()
    headers = {"Authorization": f"Bearer {keys['exporter']}"}
    ready = datetime.now(timezone.utc).isoformat()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        async def one(origin: str, destination: str) -> tuple[float, int]:
            body = {"origin": origin, "destination": destination, "ready_at": ready, "cargo": CARGO}
            started = time.perf_counter()
            response = await client.post("/v1/quotes", json=body, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == 201, response.text
            return elapsed, len(response.json()["options"])

        cold, _ = await one(*PAIRS[0])
        built = next(iter(index._CACHE.values()))
        times, options = [], []
        cpu_started = time.process_time()
        for n in range(args.queries):
            elapsed, count = await one(*PAIRS[n % len(PAIRS)])
            times.append(elapsed)
            options.append(count)
        cpu_ms = (time.process_time() - cpu_started) * 1000 / max(args.queries, 1)
    await app.state.engine.dispose()
    times.sort()
    print(f"database            {url.split(':')[0]}")
    print(f"network             {len(built.trips)} trips (open departures), {built.network.n_boardings} boardings, "
          f"{len(built.services)} services")
    print(f"network build       {built.build_seconds * 1000:.0f} ms (cached per process afterwards)")
    print(f"first quote (cold)  {cold * 1000:.0f} ms")
    print(f"warm quotes         n={len(times)}  p50 {statistics.median(times) * 1000:.1f} ms  "
          f"p95 {times[int(len(times) * 0.95) - 1] * 1000:.1f} ms  max {times[-1] * 1000:.1f} ms")
    print(f"CPU per warm quote  {cpu_ms:.1f} ms (this process: the API and the in-process client; "
          "steadier than latency on a shared machine)")
    print(f"options per quote   mean {statistics.mean(options):.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--database-url")
    arguments = parser.parse_args()
    database_url = arguments.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='caravan-bench-')}/quotes.db"
    migrate(database_url)  # before the event loop: Alembic's env runs its own
    asyncio.run(main(arguments, database_url))
