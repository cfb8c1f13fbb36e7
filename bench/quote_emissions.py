"""What emissions add to POST /v1/quotes: the same quotes with and without them, side by side in one run.

    .venv/bin/python bench/quote_emissions.py [--queries 60] [--database-url sqlite:////tmp/x.db]

Seeds the demo network (coordinates and line distances as ``caravan serve --demo`` seeds them) and
gives every service an intensity (bench figures, so every leg is computed, the most work), then
runs the quotes of bench/quotes.py alternately with the emissions step (``app.routing.emissions.rank``:
each option's footprint over the figures cached with the search network, and the front) and with a
stand-in that only keeps the search's order. What the figures cost besides is paid once per network
build, and in the network's fingerprint (the hubs' and services' figures, in the one statement a quote
reads first) for both sides alike. Figures only: nothing here asserts timings.
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
from sqlalchemy import update  # noqa: E402

from app.cli import migrate  # noqa: E402
from app.config import Settings  # noqa: E402
from app.demo import seed_demo  # noqa: E402
from app.emissions import footprint  # noqa: E402
from app.main import create_app  # noqa: E402
from app.network.models import Service  # noqa: E402
from app.routing import emissions  # noqa: E402

PAIRS = [("CNXGN", "DEDUI"), ("CNWUH", "DEDUI"), ("CNHSI", "PLWAW"), ("CNEZH", "ITMIL"), ("CNWUH-WJS", "DEHAM")]
CARGO = [{"description": "Festive decorations", "hs_code": "950510", "packages": 40, "package_type": "CARTON",
          "length_cm": 60, "width_cm": 40, "height_cm": 50, "weight_kg": 720}]
NOTHING = footprint([])


def without_emissions(network, itineraries, weight_kg, price_of, sort):
    return [(itinerary, NOTHING) for itinerary in itineraries]


def _line(label: str, times: list[float]) -> str:
    times = sorted(times)
    return (f"{label:<20} n={len(times)}  p50 {statistics.median(times) * 1000:.1f} ms  "
            f"mean {statistics.mean(times) * 1000:.1f} ms  p95 {times[int(len(times) * 0.95) - 1] * 1000:.1f} ms")


async def main(args: argparse.Namespace, url: str) -> None:
    app = create_app(Settings(database_url=url, rate_limit_per_s=0))
    async with app.state.sessionmaker() as session:
        keys = await seed_demo(session)
        await session.execute(update(Service).values(ttw_g_per_tkm=30.0, wtt_g_per_tkm=7.0, intensity_source="bench"))
        await session.commit()
    headers = {"Authorization": f"Bearer {keys['exporter']}"}
    ready = datetime.now(timezone.utc).isoformat()
    real_rank = emissions.rank
    inside: list[float] = []

    def timed_rank(*args):
        started = time.perf_counter()
        try:
            return real_rank(*args)
        finally:
            inside.append(time.perf_counter() - started)

    timings: dict[str, list[float]] = {"with emissions": [], "without emissions": []}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        async def one(origin: str, destination: str) -> float:
            body = {"origin": origin, "destination": destination, "ready_at": ready, "cargo": CARGO}
            started = time.perf_counter()
            response = await client.post("/v1/quotes", json=body, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == 201, response.text
            return elapsed

        await one(*PAIRS[0])  # builds and caches the search network
        for n in range(args.queries):
            for label, rank in (("with emissions", timed_rank), ("without emissions", without_emissions)):
                emissions.rank = rank
                timings[label].append(await one(*PAIRS[n % len(PAIRS)]))
        emissions.rank = real_rank
    await app.state.engine.dispose()
    print(f"database             {url.split(':')[0]}")
    for label, times in timings.items():
        print(_line(label, times))
    with_, without = (statistics.median(timings[k]) for k in ("with emissions", "without emissions"))
    print(_line("inside rank()", inside[1:]))
    print(f"added by emissions   p50 {(with_ - without) * 1000:+.1f} ms ({(with_ / without - 1) * 100:+.1f} %)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--database-url")
    arguments = parser.parse_args()
    database_url = arguments.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='caravan-bench-')}/quotes.db"
    migrate(database_url)
    asyncio.run(main(arguments, database_url))
