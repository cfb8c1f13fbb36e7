"""Space-control decision time with 1,000 bookings already on the departure.

Starts PostgreSQL (Debian's binaries, bench/_support.py) unless --database-url
or --sqlite is given, migrates, builds a network through the API (in process,
httpx + ASGI), books 1,000 mixed bookings (3 destinations, DG classes, reefers,
non-stackables) on one 200-TEU departure, then measures further bookings:

- ``decision``: the time inside the space-control check (``space.reserve``: load the
  projection, first fit, or replan with the planner), per booking;
- ``request``: the whole POST /v1/bookings in process.

Two phases: ``room left`` (the departure has TEU to spare, the usual case) and
``full`` (capacity lowered to the TEU the projection uses, so most decisions
fall through to the planner). Prints p50/p95/max per phase.

    .venv/bin/python bench/space_control.py [--bookings 1000] [--measure 200] [--sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import postgres_server  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


SMALL = False  # --small: every booking four cartons of 0.12 CBM (bench/api.py's), so 5,000 leave room


def cargo(rng: random.Random) -> list[dict]:
    if SMALL:
        return [{"description": "Festive decorations", "hs_code": "950510", "packages": 4, "package_type": "CARTON",
                 "length_cm": 60, "width_cm": 40, "height_cm": 50, "weight_kg": 72}]
    cbm = rng.choice([0.5, 1, 1.5, 2, 3, 4, 5, 6, 8])
    line = {
        "description": "General cargo", "hs_code": "950510", "packages": 1, "package_type": "PALLET",
        "length_cm": 200, "width_cm": 200, "height_cm": round(cbm * 25, 3), "weight_kg": round(cbm * rng.uniform(80, 300), 1),
        "stackable": rng.random() > 0.1, "dangerous_goods": None, "temperature_c": None,
    }
    roll = rng.random()
    if roll < 0.10:
        line["dangerous_goods"] = {"un_number": "1993", "class": rng.choice(["3", "8", "9", "5.1", "4.1", "6.1"]),
                                   "packing_group": "III"}
    elif roll < 0.14:
        line["temperature_c"] = rng.choice([{"min_c": 2, "max_c": 8}, {"min_c": -25, "max_c": -18}])
    return [line]


async def run(database_url: str, seeded: int, measured: int, capacity_teu: int = 200) -> None:
    os.environ["CARAVAN_DATABASE_URL"] = database_url
    import httpx

    from app.bookings.models import Booking
    from app.consolidation import space
    from app.config import Settings
    from app.main import create_app
    from tests import factories

    app = create_app(Settings(database_url=database_url, db_pool_size=4, rate_limit_per_s=0))  # one key books all
    print("per-key rate limit: off for this run")
    timings: list[float] = []
    original = space.reserve

    async def timed_fits(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            timings.append((time.perf_counter() - start) * 1000)

    space.reserve = timed_fits
    rng = random.Random(7)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        operator = {"Authorization": f"Bearer {await factories.bootstrap_operator(app)}"}
        exporter = await factories.org_headers(client, operator, "Bench Exporter", "exporter")
        await factories.small_network(client, operator)
        response = await client.post("/v1/departures", headers=operator, json=factories.departure_body(
            days_out=40, capacity_teu=capacity_teu, max_payload_kg=21000))
        departure_id = response.json()["id"]
        destinations = ["DEDUI", "PLMAA", "CNAKL"]

        async def book() -> tuple[str, float]:
            body = factories.booking_body(departure_id, cargo=cargo(rng), destination=rng.choice(destinations))
            start = time.perf_counter()
            response = await client.post("/v1/bookings", json=body, headers=exporter)
            assert response.status_code == 201, response.text
            return response.json()["status"], (time.perf_counter() - start) * 1000

        started = time.perf_counter()
        statuses = [(await book())[0] for _ in range(seeded)]
        print(f"seeded {seeded} bookings in {time.perf_counter() - started:.1f} s: "
              f"{statuses.count('CONFIRMED')} confirmed, {statuses.count('WAITLISTED')} waitlisted")

        async def phase(name: str) -> None:
            timings.clear()
            results = [await book() for _ in range(measured)]
            requests = [ms for _, ms in results]
            confirmed = sum(1 for status, _ in results if status == "CONFIRMED")
            print(f"{name:>10}: decision p50 {pct(timings, 50):6.1f} ms  p95 {pct(timings, 95):6.1f} ms  "
                  f"max {max(timings):6.1f} ms | request p50 {pct(requests, 50):6.1f} ms  p95 {pct(requests, 95):6.1f} ms"
                  f" | {confirmed}/{measured} confirmed, mean decision {statistics.mean(timings):.1f} ms")

        await phase("room left")

        # After a restart: the first booking on this departure, with nothing in memory, then with the
        # projections warmed at start (app/consolidation/warm.py, as caravan serve's lifespan does).
        from app.consolidation import warm

        for attempt in range(3):
            space._cache.clear()
            space._refused.clear()
            _, cold_ms = await book()
            space._cache.clear()
            space._refused.clear()
            started = time.perf_counter()
            warmed = await warm.warm(app.state.sessionmaker, min_bookings=1, budget_s=60)
            warm_ms = (time.perf_counter() - started) * 1000
            _, first_ms = await book()
            _, next_ms = await book()
            print(f"after a restart ({attempt + 1}): first booking {cold_ms:6.1f} ms cold | warmed at start "
                  f"({warmed} departure, {warm_ms:.0f} ms before serving): first booking {first_ms:6.1f} ms, "
                  f"the next {next_ms:6.1f} ms")
        from sqlalchemy import func, select, update

        from app.consolidation.models import SpaceSlot
        from app.network.models import ContainerType, Departure
        async with app.state.sessionmaker() as session:
            per_slot = (select(SpaceSlot.slot, func.min(ContainerType.teu).label("teu"))
                        .join(ContainerType, ContainerType.code == SpaceSlot.container_type)
                        .join(Booking, Booking.id == SpaceSlot.booking_id)
                        .where(SpaceSlot.departure_id == departure_id,
                               Booking.status.in_(["CONFIRMED"]))
                        .group_by(SpaceSlot.slot).subquery())
            used = int(await session.scalar(select(func.sum(per_slot.c.teu))) or 0)
            await session.execute(update(Departure).where(Departure.id == departure_id).values(capacity_teu=used))
            await session.commit()
        print(f"capacity lowered to the {used} TEU the projection uses")
        await phase("full")
    await app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--measure", type=int, default=200)
    parser.add_argument("--capacity-teu", type=int, default=200,
                        help="the departure's capacity (about 1,000 TEU keeps room for 5,000 bookings)")
    parser.add_argument("--database-url")
    parser.add_argument("--sqlite", action="store_true", help="a throwaway SQLite file instead of PostgreSQL")
    parser.add_argument("--small", action="store_true", help="small bookings (0.48 CBM each): the departure keeps room")
    args = parser.parse_args()
    global SMALL
    SMALL = args.small
    if args.sqlite:
        server = nullcontext(f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='caravan-bench-')}/bench.db")
    elif args.database_url:
        server = nullcontext(args.database_url)
    else:
        server = postgres_server()
    with server as url:
        print(f"database: {'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}")
        from app.cli import migrate

        migrate(url)
        asyncio.run(run(url, args.bookings, args.measure, args.capacity_teu))


if __name__ == "__main__":
    main()
