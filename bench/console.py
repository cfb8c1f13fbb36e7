"""The console's pages beside the API answers they show, side by side, in one run.

Seeds the demo network in a fresh SQLite file, books --bookings bookings onto one departure and
plans it, signs in to the console, then times each page and the API call(s) with the same data,
in process (httpx over ASGI: the app's own work, no network): median and p90 milliseconds, and
the page ÷ API ratio, which is what to compare across machines.

    .venv/bin/python bench/console.py [--bookings 24] [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from app.cli import migrate  # noqa: E402
from app.config import Settings  # noqa: E402
from app.demo import seed_demo  # noqa: E402
from app.main import create_app  # noqa: E402

LINE = {"description": "Festive lanterns", "hs_code": "950510", "packages": 30, "package_type": "CARTON",
        "length_cm": 60, "width_cm": 40, "height_cm": 50, "weight_kg": 450, "stackable": True}
CONSIGNEE = {"name": "Rhein Deko GmbH", "address": "Hafenstraße 1", "city": "Duisburg", "country": "DE"}


async def timed(client: httpx.AsyncClient, rounds: int, *requests: tuple[str, dict]) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for path, headers in requests:
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def main(url: str, bookings: int, rounds: int) -> None:
    app = create_app(Settings(database_url=url, rate_limit_per_s=0))
    async with app.state.sessionmaker() as session:
        keys = await seed_demo(session)
        await session.commit()
    operator = {"Authorization": f"Bearer {keys['operator']}"}
    exporter = {"Authorization": f"Bearer {keys['exporter']}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        departure = (await client.get("/v1/departures?service=WUH-DUI-AKL&limit=1", headers=operator)).json()["items"][0]["id"]
        for _ in range(bookings):
            made = await client.post("/v1/bookings", headers=exporter,
                                     json={"departure_id": departure, "cargo": [LINE], "consignee": CONSIGNEE})
            assert made.status_code == 201, made.text
        reference = made.json()["reference"]
        assert (await client.post(f"/v1/departures/{departure}/plan", headers=operator)).status_code == 201
        page = await client.get("/console/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        signed = await client.post("/console/sign-in", data={"csrf_token": token, "api_key": keys["operator"]})
        assert signed.status_code == 303
        plain: dict = {}
        rows = [
            ("departures board", [("/console/departures", plain)], [("/v1/departures?limit=100", operator)]),
            (f"departure ({bookings} bookings, planned)", [(f"/console/departures/{departure}", plain)],
             [(f"/v1/departures/{departure}", operator), (f"/v1/bookings?departure_id={departure}&limit=100", operator),
              (f"/v1/departures/{departure}/plan", operator)]),
            ("booking with tracking", [(f"/console/bookings/{reference}", plain)],
             [(f"/v1/bookings/{reference}", operator), (f"/v1/bookings/{reference}/tracking", operator)]),
        ]
        print(f"{'page':<34} {'page ms p50':>11} {'p90':>7} {'API ms p50':>11} {'p90':>7} {'page ÷ API':>10}")
        for name, page_requests, api_requests in rows:
            await timed(client, 3, *page_requests)
            await timed(client, 3, *api_requests)
            page_ms = await timed(client, rounds, *page_requests)
            api_ms = await timed(client, rounds, *api_requests)
            p50, a50 = statistics.median(page_ms), statistics.median(api_ms)
            p90, a90 = sorted(page_ms)[int(0.9 * rounds) - 1], sorted(api_ms)[int(0.9 * rounds) - 1]
            print(f"{name:<34} {p50:>11.1f} {p90:>7.1f} {a50:>11.1f} {a90:>7.1f} {p50 / a50:>10.2f}")
    await app.state.engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=30)
    arguments = parser.parse_args()
    database = f"sqlite:///{tempfile.mkdtemp(prefix='caravan-bench-console-')}/bench.db"
    os.environ["CARAVAN_DATABASE_URL"] = database
    migrate(database)
    asyncio.run(main(database, arguments.bookings, arguments.rounds))
