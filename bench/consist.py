"""Benchmark: the train consist of a 55-FEU departure planned from 3,000 bookings (issue 15's 1 s aim).

    python bench/consist.py [--bookings 3000] [--repeat 20]

3,000 LCL bookings (0.3-12 CBM, 80-4,000 kg, seeded) to three destinations are planned under
China Railway's rules (payloads capped to 25 t / 24 t gross less tare, 20' in pairs, max 110 TEU)
with ``app.planner.solve``; the plan's containers are then put on X70 flat wagons by
``app.consist.build`` and checked by ``app.consist.check``. Prints, side by side, the planner's
time (for scale: planning is not the consist) and the consist's build and check times (best and
median of ``--repeat``), with the train's totals. One process, one core.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app import consist, planner  # noqa: E402
from app.cargo import RailRules  # noqa: E402

TYPES = (("20GP", 28_000, 28.0, 2.39, 3500, 1), ("40HC", 26_500, 66.0, 2.69, 5600, 2))
DESTINATIONS = ("DEDUI", "PLLOD", "DEHAM")


def instance(n: int, rules: RailRules) -> planner.Instance:
    rng = random.Random(15)
    types = tuple(planner.ContainerType(code=c, payload_kg=rules.cargo_cap_kg(c, kg), usable_cbm=cbm, inner_height_m=h,
                                        cost=cost, reefer=False, teu=teu) for c, kg, cbm, h, cost, teu in TYPES)
    shipments = tuple(planner.Shipment(id=f"B{i:05d}", destination=rng.choice(DESTINATIONS),
                                       weight_kg=round(rng.uniform(80, 4000), 1),
                                       volume_cbm=round(rng.uniform(0.3, 12.0), 2)) for i in range(n))
    return planner.Instance(container_types=types, shipments=shipments, max_teu=2 * rules.max_feu, pair_20=True,
                            pair_max_difference_kg=rules.pair_max_difference_kg, max_weight_kg=rules.max_cargo_kg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rules = RailRules()
    inst = instance(args.bookings, rules)
    t0 = time.perf_counter()
    plan = planner.solve(inst, time_limit_s=30)
    plan_s = time.perf_counter() - t0
    teu = {t.code: t.teu for t in inst.container_types}
    boxes = [consist.Box(id=str(i), type=c.type, teu=teu[c.type], destination=c.destination, cargo_kg=c.weight_kg,
                         tare_kg=rules.tare_kg(c.type), number=None) for i, c in enumerate(plan.containers)]
    wagons = [consist.Wagon(code=w.code, payload_kg=w.payload_kg, tare_kg=w.tare_kg, length_m=w.length_m,
                            feu_slots=w.feu_slots) for w in rules.wagon_types]
    limits = consist.Rules(max_train_length_m=None, heavy_wagons_off_ends=True)
    builds, checks = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        built = consist.build(boxes, wagons, limits)
        t1 = time.perf_counter()
        problems = consist.check(built, limits, boxes)
        builds.append(t1 - t0)
        checks.append(time.perf_counter() - t1)
    assert problems == [], problems
    totals = built.totals()
    print(f"bookings {args.bookings}, planned {args.bookings - len(plan.unassigned)}, "
          f"rolled over {len(plan.unassigned)}; containers {totals['containers']}, FEU {totals['feu']:g}, "
          f"wagons {totals['wagons']}, cargo {totals['cargo_kg'] / 1000:,.1f} t, train gross "
          f"{totals['train_gross_kg'] / 1000:,.1f} t")
    print(f"{'step':<22}{'best ms':>10}{'median ms':>12}")
    print(f"{'planner (for scale)':<22}{plan_s * 1000:>10.1f}{'':>12}")
    print(f"{'consist build':<22}{min(builds) * 1000:>10.3f}{statistics.median(builds) * 1000:>12.3f}")
    print(f"{'consist check':<22}{min(checks) * 1000:>10.3f}{statistics.median(checks) * 1000:>12.3f}")
    print(f"aim: consist <= 1000 ms: {'met' if statistics.median(builds) + statistics.median(checks) <= 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
