"""Benchmark: stuffing a whole departure's containers as planning a departure does (issue 13's 40-container aim).

    python bench/departure_stuffing.py [--containers 40] [--source planned|samples] [--seed 1]

``planned`` (the default): realistic LCL bookings (drawn as in
``bench/stuffing_margin.py``) packed by the planner as space control and
planning do, until there are ``--containers`` containers; ``samples``: the
realistic samples tests/data/stuffing/l105-l108 in turn (denser than the planner
ever packs: l105 and l108 break its occupied-volume rule, see the README).
Both are stuffed as ``app.consolidation.stuffing.stuff_containers`` does it
(``stuff_all`` with a departure's ``Budget``: each container its share of what is
left, the ones that did not stuff once more with what the others left). Prints the
wall and CPU time for the whole departure and how many containers stuffed
completely (the rest would go to the plan's repair). One process, one core, as the
API runs it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app import cargo, planner  # noqa: E402
from app.consolidation.stuffing import STUFFING_BUDGET_S, Budget, stuff_all  # noqa: E402
from bench.stuffing_margin import TYPES, draw_booking, instance, shipment  # noqa: E402


def planned(containers: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    types = tuple(planner.ContainerType(code=c, payload_kg=p, usable_cbm=cargo.stuffable_cbm(c, h, u),
                                        inner_height_m=h, cost=cost, reefer=False, teu=teu)
                  for c, teu, p, u, h, cost in TYPES)
    bookings: dict[str, list] = {}
    while sum(sum(x.volume_cbm for x in b) for b in bookings.values()) < containers * 50.0:
        bookings[f"B{len(bookings):04d}"] = draw_booking(rng)
    destinations = {ref: rng.choice(["DEDUI", "DEDUI", "PLLOD", "HUBUD"]) for ref in bookings}
    inst = planner.Instance(container_types=types, shipments=tuple(
        shipment(ref, lines, destinations[ref], min(t[4] for t in TYPES)) for ref, lines in bookings.items()))
    plan = planner.solve(inst, time_limit_s=2.0)
    documents = []
    for container in plan.containers[:containers]:
        ctype = inst.type_by_code(container.type)
        documents.append(instance(ctype.code, ctype.inner_height_m, ctype.payload_kg,
                                  [(ref, bookings[ref]) for ref in container.shipments]))
    return documents


def samples(containers: int) -> list[dict]:
    files = sorted((REPO / "tests/data/stuffing").glob("l*.json"))
    loaded = [json.loads(p.read_text()) for p in files]
    return [loaded[i % len(loaded)] for i in range(containers)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=40)
    parser.add_argument("--source", choices=("planned", "samples"), default="planned")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    documents = planned(args.containers, args.seed) if args.source == "planned" else samples(args.containers)
    kinds: dict[str, int] = {}
    for d in documents:
        kinds[d["container"]["code"]] = kinds.get(d["container"]["code"], 0) + 1
    wall, cpu = time.perf_counter(), time.process_time()
    results = stuff_all(documents, Budget())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    complete = sum(r.plan is not None for r in results)
    fill = [r.plan["volume_utilisation"] for r in results if r.plan is not None]
    print(f"{len(documents)} containers ({args.source}: "
          f"{', '.join(f'{n} × {code}' for code, n in sorted(kinds.items()))}), budget {STUFFING_BUDGET_S:.0f} s")
    print(f"departure: {wall:.1f} s wall, {cpu:.1f} s CPU; stuffed completely: {complete} of {len(documents)} "
          f"(mean utilisation of those {sum(fill) / max(len(fill), 1):.1%}; the rest go to the plan's repair)")


if __name__ == "__main__":
    main()
