"""Benchmark: is space control's volume rule a safe promise that a departure's containers stuff?

    python bench/stuffing_margin.py [--departures 12] [--capacity-feu 6] [--margins 1.0,1.08]
                                    [--time-limit S] [--seed 1]

Space control confirms a booking when the planner can pack the departure's bookings
by weight and *occupied* volume (``usable_cbm`` of each container type; a
non-stackable line blocks its footprint up to the roof). It does not run the 3D
stuffing solver, which takes seconds. This bench checks that promise on realistic
departures: it draws LCL bookings (cartons, pallets, crates, drums, bags of a few
lines each, a share of them non-stackable or this-way-up; seeded), offers each
departure more than it can take, lets the planner pack them as space control
would (the demo's container types, the volume the planner may fill scaled by each margin in
``--margins``: 1.0 is the rule as shipped, ``cargo.stuffable_cbm``, above 1 a
looser one, below a stricter one), then stuffs every
planned container exactly as planning a departure does (the per-container time
limit a departure of that size gets, support 0.75) and counts the containers
whose packages all go in.

Prints per margin: containers, how many stuffed completely, the mean fill (package
volume ÷ the container's inner volume, and the planner's occupied volume ÷ what it may fill),
and the worst container.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app import cargo, planner  # noqa: E402
from app.consolidation.stuffing import (  # noqa: E402
    MAX_TIME_S,
    MIN_TIME_S,
    STUFFING_BUDGET_S,
    SUPPORT_RATIO,
    stuff,
)

# The demo's dry types (app/demo.py): code, TEU, payload kg, usable CBM, inner height m, cost EUR.
TYPES = [("20GP", 1, 28000, 28.0, 2.393, 3500.0), ("40GP", 2, 26500, 58.0, 2.393, 5400.0),
         ("40HC", 2, 26500, 66.0, 2.698, 5600.0)]
WEIGHT_PER_CBM_KG = 333.0


@dataclass
class Line:
    package_type: str
    packages: int
    length_cm: float
    width_cm: float
    height_cm: float
    weight_kg: float
    stackable: bool
    vertical: list[str] | None

    @property
    def volume_cbm(self) -> float:
        return self.packages * self.length_cm * self.width_cm * self.height_cm / 1e6

    temperature_c = None
    dangerous_goods = None


def draw_line(rng: random.Random) -> Line:
    kind = rng.choices(["CARTON", "PALLET", "CRATE", "DRUM", "BAG"], weights=[55, 25, 10, 5, 5])[0]
    if kind == "CARTON":
        length, width, height = rng.randint(30, 80), rng.randint(25, 60), rng.randint(20, 60)
        n = rng.randint(10, 150)
        return Line(kind, n, length, width, height, round(n * rng.uniform(3, 25), 1), rng.random() < 0.95,
                    ["height"] if rng.random() < 0.5 else None)
    if kind == "PALLET":
        length, width = rng.choice([(120, 100), (120, 80), (110, 110)])
        n = rng.randint(1, 12)
        return Line(kind, n, length, width, rng.randint(80, 180), round(n * rng.uniform(150, 800), 1),
                    rng.random() < 0.6, None)
    if kind == "CRATE":
        n = rng.randint(1, 6)
        return Line(kind, n, rng.randint(100, 240), rng.randint(80, 130), rng.randint(50, 140),
                    round(n * rng.uniform(200, 900), 1), rng.random() < 0.5, None)
    if kind == "DRUM":
        n = rng.randint(4, 20)
        return Line(kind, n, 58, 58, 88, round(n * 180.0, 1), rng.random() < 0.7, None)
    n = rng.randint(10, 80)
    return Line(kind, n, rng.randint(60, 90), rng.randint(40, 60), rng.randint(15, 30),
                round(n * rng.uniform(20, 50), 1), True, None)


def draw_booking(rng: random.Random) -> list[Line]:
    lines = [draw_line(rng) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]
    while sum(x.volume_cbm for x in lines) > 25:  # LCL: a booking is a share of a container
        biggest = max(lines, key=lambda x: x.volume_cbm)
        biggest.packages = max(1, biggest.packages // 2)
        biggest.weight_kg = round(biggest.weight_kg / 2, 1)
    return lines


def shipment(sid: str, lines: list[Line], destination: str, min_height_m: float) -> planner.Shipment:
    totals = cargo.totals(lines, WEIGHT_PER_CBM_KG)
    footprint = cargo.planner_footprint_m2(totals.footprint_m2, lines, totals.volume_cbm, min_height_m)
    return planner.Shipment(id=sid, destination=destination, weight_kg=totals.weight_kg,
                            volume_cbm=max(totals.volume_cbm, 0.001), stackable=footprint is None,
                            footprint_m2=footprint)


def instance(code: str, height_m: float, payload_kg: float, members: list[tuple[str, list[Line]]]) -> dict:
    """The stuffing instance planning builds for a container (as ``container_instance`` does)."""
    length_cm, width_cm = cargo.INNER_FLOOR_CM[code[:2]]
    pieces = [{
        "id": f"{ref}/{i + 1}", "count": line.packages, "length_cm": line.length_cm, "width_cm": line.width_cm,
        "height_cm": line.height_cm, "weight_kg": round(line.weight_kg / line.packages, 3),
        "vertical": cargo.vertical_sides(line.package_type, line.vertical), "stackable": line.stackable, "group": ref,
    } for ref, lines in members for i, line in enumerate(lines)]
    return {"container": {"code": code, "length_cm": length_cm, "width_cm": width_cm,
                          "height_cm": round(height_m * 100, 1), "payload_kg": payload_kg},
            "support_ratio": SUPPORT_RATIO, "pieces": pieces}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departures", type=int, default=12)
    parser.add_argument("--capacity-feu", type=int, default=6)
    parser.add_argument("--margins", default="1.0,1.08")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per container (default: what a departure of 40 containers gets)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    limit_s = args.time_limit or max(MIN_TIME_S, min(MAX_TIME_S, STUFFING_BUDGET_S / 40))
    min_height = min(t[4] for t in TYPES)
    print(f"{args.departures} departures of {args.capacity_feu} FEU, each offered more than it takes; "
          f"stuffing {limit_s:.2f} s a container, support {SUPPORT_RATIO}")
    print(f"{'margin':>6} {'containers':>10} {'stuffed':>8} {'share':>7} {'fill':>6} {'occupied':>9} "
          f"{'worst':>24} {'s':>6}")
    for margin in [float(m) for m in args.margins.split(",")]:
        types = tuple(planner.ContainerType(code=c, payload_kg=p, usable_cbm=cargo.stuffable_cbm(c, h, u) * margin,
                                            inner_height_m=h, cost=cost, reefer=False, teu=teu)
                      for c, teu, p, u, h, cost in TYPES)
        rng = random.Random(args.seed)
        containers = stuffed = 0
        fills, occupied, worst = [], [], (1.0, "")
        started = time.perf_counter()
        for d in range(args.departures):
            bookings: dict[str, list[Line]] = {}
            target = args.capacity_feu * 66.0 * 1.3
            while sum(sum(x.volume_cbm for x in b) for b in bookings.values()) < target:
                bookings[f"D{d:02d}B{len(bookings):03d}"] = draw_booking(rng)
            destinations = {ref: rng.choice(["DEDUI", "DEDUI", "PLLOD"]) for ref in bookings}
            inst = planner.Instance(
                container_types=types, max_teu=2 * args.capacity_feu,
                shipments=tuple(shipment(ref, lines, destinations[ref], min_height) for ref, lines in bookings.items()),
            )
            plan = planner.solve(inst, time_limit_s=1.0)
            for container in plan.containers:
                ctype = inst.type_by_code(container.type)
                members = [(ref, bookings[ref]) for ref in container.shipments]
                document = instance(ctype.code, ctype.inner_height_m, ctype.payload_kg, members)
                result = stuff(document, limit_s)
                containers += 1
                stuffed += result.plan is not None
                length_cm, width_cm = cargo.INNER_FLOOR_CM[ctype.code[:2]]
                inner = length_cm * width_cm * ctype.inner_height_m * 100 / 1e6
                fill = sum(x.volume_cbm for _, lines in members for x in lines) / inner
                fills.append(fill)
                occupied.append(container.occupied_cbm / (ctype.usable_cbm / margin))
                if result.plan is None:
                    short = sum(result.short.values()) / 1e6
                    worst = min(worst, (1 - short / max(fill * inner, 1e-9),
                                        f"{ctype.code} {fill:.0%} short {short:.2f} m³"))
        elapsed = time.perf_counter() - started
        print(f"{margin:>6.2f} {containers:>10} {stuffed:>8} {stuffed / max(containers, 1):>7.1%} "
              f"{sum(fills) / max(len(fills), 1):>6.1%} {sum(occupied) / max(len(occupied), 1):>9.1%} "
              f"{worst[1] or '-':>24} {elapsed:>6.0f}")


if __name__ == "__main__":
    main()
