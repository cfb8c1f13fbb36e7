"""Benchmark for app.routing.search on a synthetic China-Europe network.

    .venv/bin/python bench/routing.py [--queries 200] [--seed 7] [--max-legs 4] [--profile]

Builds ~100 hubs in several time zones and a year of departures (~50,000 legs,
a leg = one departure between two consecutive calls) of trunk rail, regional
rail, road, air and sea services, builds the index (timed), then runs random
queries and prints query-time statistics.  Deterministic for a given seed.
Figures only: nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.routing.search import Call, Hub, Network, Trip, search  # noqa: E402

UTC = timezone.utc
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)

# region: (x range in km west->east, zones, number of hubs, hub handling hours)
REGIONS = {
    "DE": ((0, 800), ["Europe/Berlin", "Europe/Amsterdam", "Europe/Paris"], 20, 6),
    "PL": ((800, 1700), ["Europe/Warsaw", "Europe/Minsk", "Europe/Vilnius"], 12, 12),
    "RU": ((1700, 3500), ["Europe/Moscow"], 14, 12),
    "KZ": ((3500, 5500), ["Asia/Almaty", "Asia/Yekaterinburg", "Asia/Tashkent"], 14, 24),
    "CN": ((5500, 9000), ["Asia/Shanghai"], 40, 12),
}
ORDER = ["DE", "PL", "RU", "KZ", "CN"]  # west to east

KMH = {"RAIL": 25.0, "ROAD": 60.0, "AIR": 800.0, "WATER": 20.0}
CUTOFF_H = {"RAIL": 24, "ROAD": 4, "AIR": 6, "WATER": 72}
RATE = {"RAIL": 0.9, "ROAD": 1.6, "AIR": 4.5, "WATER": 0.25}  # per km per unit


class Synth:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.hubs: list[Hub] = []
        self.pos: dict[str, tuple[float, float]] = {}
        self.region: dict[str, str] = {}
        self.zone_of: dict[str, str] = {}
        self.by_region: dict[str, list[str]] = {r: [] for r in ORDER}
        self.ports: dict[str, list[str]] = {"DE": [], "CN": []}
        self.airports: dict[str, list[str]] = {"DE": [], "CN": []}
        self.trips: list[Trip] = []
        self.n_legs = 0
        self.service_rate: dict[str, float] = {}

    # -- hubs ----------------------------------------------------------------

    def make_hubs(self) -> None:
        rng = self.rng
        for reg in ORDER:
            (x0, x1), zones, n, handling = REGIONS[reg]
            for k in range(n):
                code = f"{reg}{k:02d}"
                zone = zones[k % len(zones)]
                h = handling
                if reg in ("DE", "CN") and k < 4:
                    self.ports[reg].append(code)
                    h = 24
                elif reg in ("DE", "CN") and k < 7:
                    self.airports[reg].append(code)
                    h = 4
                self.hubs.append(Hub(code, zone, h))
                self.zone_of[code] = zone
                self.pos[code] = (rng.uniform(x0, x1), rng.uniform(0, 1500))
                self.region[code] = reg
                self.by_region[reg].append(code)

    def km(self, a: str, b: str) -> float:
        (xa, ya), (xb, yb) = self.pos[a], self.pos[b]
        return math.hypot(xa - xb, ya - yb)

    # -- services ------------------------------------------------------------

    def add_service(self, code: str, mode: str, stops: list[str], period_days: float, dwell_h: float) -> None:
        """Departures every ``period_days`` through the year at a fixed local hour."""
        rng = self.rng
        dep_hour = rng.randrange(0, 24)
        first = rng.uniform(0, period_days)
        self.service_rate[code] = RATE[mode] * rng.uniform(0.8, 1.25)
        origin_zone = ZoneInfo(self.hub_zone(stops[0]))
        run_h = []
        for a, b in zip(stops, stops[1:]):
            dist = self.km(a, b) * (2.2 if mode == "WATER" else 1.0)
            run_h.append(dist / KMH[mode] + (3 if mode == "AIR" else 0))
        day = first
        n = 0
        while day < 365:
            local = datetime.combine(
                (YEAR_START + timedelta(days=day)).date(), datetime.min.time()
            ).replace(hour=dep_hour, tzinfo=origin_zone)
            t = local.astimezone(UTC)
            calls = []
            for c, hub in enumerate(stops):
                z = ZoneInfo(self.hub_zone(hub))
                arr = None if c == 0 else t.astimezone(z)
                if c == len(stops) - 1:
                    calls.append(Call(hub, arr, None, None))
                    break
                if c > 0:
                    t = t + timedelta(hours=dwell_h)
                dep = t.astimezone(z)
                calls.append(Call(hub, arr, dep, dep - timedelta(hours=CUTOFF_H[mode])))
                t = t + timedelta(hours=run_h[c])
            self.trips.append(
                Trip(f"{code}-{n:03d}", code, mode, tuple(calls), full=rng.random() < 0.05, price_key=code)
            )
            self.n_legs += len(stops) - 1
            n += 1
            day += period_days

    def hub_zone(self, code: str) -> str:
        return self.zone_of[code]

    def make_services(self) -> None:
        rng = self.rng
        br = self.by_region
        # trunk rail corridors China <-> Europe, run in both directions, 4-6
        # calls; round-robin over the terminals so every one is served
        for k in range(24):
            stops = [br["CN"][k % len(br["CN"])]]
            if rng.random() < 0.6:
                stops.append(rng.choice(br["CN"]))
            stops.append(br["KZ"][k % len(br["KZ"])])
            if rng.random() < 0.5:
                stops.append(rng.choice(br["RU"]))
            stops += [br["PL"][k % len(br["PL"])], br["DE"][k % len(br["DE"])]]
            stops = _dedup(stops)
            period, dwell = rng.choice([3, 3.5, 4, 5, 7]), rng.uniform(6, 24)
            self.add_service(f"TW{k:02d}", "RAIL", stops, period, dwell)
            self.add_service(f"TE{k:02d}", "RAIL", stops[::-1], period, dwell)
        # regional rail lines within a region or to the neighbour, both ways
        for k in range(18):
            ri = rng.randrange(len(ORDER))
            rj = min(len(ORDER) - 1, ri + rng.choice([0, 0, 1]))
            pool = sorted(set(br[ORDER[ri]] + br[ORDER[rj]]))
            stops = rng.sample(pool, rng.randint(2, 4))
            stops.sort(key=lambda c: self.pos[c][0])
            period, dwell = rng.choice([1, 1.5, 2, 3]), rng.uniform(1, 6)
            self.add_service(f"RA{k:02d}", "RAIL", stops, period, dwell)
            self.add_service(f"RB{k:02d}", "RAIL", stops[::-1], period, dwell)
        # road feeders between nearby hubs, both ways, every 3 days
        codes = [h.code for h in self.hubs]
        for k, a in enumerate(rng.sample(codes, 50)):
            near = sorted((self.km(a, b), b) for b in self.pos if b != a)[:4]
            b = rng.choice(near)[1]
            self.add_service(f"RD{k:02d}", "ROAD", [a, b], 3, 0)
            self.add_service(f"RE{k:02d}", "ROAD", [b, a], 3, 0)
        # air China <-> Europe airports, daily or twice daily
        for k in range(8):
            stops = [self.airports["CN"][k % 3], self.airports["DE"][k % 3]]
            if k % 2:
                stops.reverse()
            self.add_service(f"AI{k:02d}", "AIR", stops, rng.choice([0.5, 1, 1]), 2)
        # sea China ports -> Europe ports (a third eastbound), weekly, 2-4 calls
        for k in range(10):
            stops = _dedup(rng.sample(self.ports["CN"], rng.randint(1, 2)) + rng.sample(self.ports["DE"], rng.randint(1, 2)))
            if k % 3 == 2:
                stops.reverse()
            self.add_service(f"SE{k:02d}", "WATER", stops, 7, 24)

    # -- pricing -------------------------------------------------------------

    def price_fn(self):
        cache: dict[tuple[str, str, str], Decimal] = {}
        rate = self.service_rate
        km = self.km

        def price(trip: Trip, a: str, b: str) -> Decimal:
            key = (trip.price_key, a, b)
            p = cache.get(key)
            if p is None:
                p = cache[key] = Decimal(round(150 + rate[trip.price_key] * km(a, b), 2)).quantize(Decimal("0.01"))
            return p

        return price


def _dedup(stops: list[str]) -> list[str]:
    out: list[str] = []
    for s in stops:
        if s not in out:
            out.append(s)
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-legs", type=int, default=4)
    ap.add_argument("--profile", action="store_true", help="cProfile the query loop")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    syn = Synth(args.seed)
    syn.make_hubs()
    syn.make_services()
    t1 = time.perf_counter()
    net = Network.build(syn.hubs, syn.trips)
    t2 = time.perf_counter()
    zones = sorted({h.timezone for h in syn.hubs})
    print(f"network: {len(syn.hubs)} hubs in {len(zones)} zones, {len(syn.trips)} trips, "
          f"{syn.n_legs} legs, {net.n_boardings} boarding entries "
          f"(generated in {t1 - t0:.2f} s)")
    print(f"index build: {(t2 - t1) * 1000:.0f} ms")

    rng = random.Random(args.seed + 1)
    price_fn = syn.price_fn()
    queries = []
    for q in range(args.queries):
        if rng.random() < 0.8:  # typical: China -> Europe
            o = rng.choice(syn.by_region["CN"] + syn.by_region["KZ"])
            d = rng.choice(syn.by_region["DE"] + syn.by_region["PL"])
        else:
            o, d = rng.sample([h.code for h in syn.hubs], 2)
        ready = YEAR_START + timedelta(days=rng.uniform(0, 300))
        exclude = {s for s in syn.service_rate if s.startswith("AI")} if rng.random() < 0.1 else None
        queries.append((o, d, ready, exclude))

    def run_all():
        times, sizes = [], []
        for o, d, ready, exclude in queries:
            s = time.perf_counter()
            res = search(net, o, d, ready, price_fn=price_fn, max_legs=args.max_legs, exclude=exclude)
            times.append((time.perf_counter() - s) * 1000)
            sizes.append(len(res))
        return times, sizes

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        times, sizes = run_all()
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(15)
    else:
        times, sizes = run_all()
    print(
        f"queries: {len(times)}  mean {statistics.fmean(times):.2f} ms  p50 {pct(times, 0.5):.2f} ms  "
        f"p95 {pct(times, 0.95):.2f} ms  max {max(times):.2f} ms"
    )
    print(
        f"options per query: mean {statistics.fmean(sizes):.2f}  max {max(sizes)}  "
        f"empty {sum(1 for s in sizes if s == 0)}/{len(sizes)}  "
        f"(first query per destination includes its lower-bound computation; "
        f"{len({q[1] for q in queries})} destinations)"
    )


if __name__ == "__main__":
    main()
