"""Benchmark: stuffing a whole departure's containers as planning a departure does (issue 13's 40-container aim).

    python bench/departure_stuffing.py [--containers 40] [--budget-s 24]

Takes the realistic LCL samples (tests/data/stuffing/l*.json, 75-85 % of a
container's volume each), cycles through them until there are ``--containers``
containers, and stuffs each with the per-container time limit that
``app.consolidation.stuffing.stuff_containers`` gives a departure of that size
(``STUFFING_BUDGET_S`` spread over the containers, between 0.3 and 2 s). Prints
the wall time for the whole departure, per container, and how many containers
stuffed completely (the others would be repaired by the plan: a larger type, or
a booking moved). One process, one core, as the API runs it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.consolidation.stuffing import MAX_TIME_S, MIN_TIME_S, STUFFING_BUDGET_S, stuff  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=40)
    parser.add_argument("--budget-s", type=float, default=STUFFING_BUDGET_S)
    args = parser.parse_args()
    samples = [json.loads(p.read_text()) for p in sorted((REPO / "tests/data/stuffing").glob("l*.json"))]
    limit_s = max(MIN_TIME_S, min(MAX_TIME_S, args.budget_s / max(args.containers, 1)))
    times, complete = [], 0
    started = time.perf_counter()
    for index in range(args.containers):
        document = samples[index % len(samples)]
        t0 = time.perf_counter()
        result = stuff(document, limit_s)
        times.append(time.perf_counter() - t0)
        complete += result.plan is not None
    total = time.perf_counter() - started
    print(f"{args.containers} containers (samples {', '.join(p.stem for p in sorted((REPO / 'tests/data/stuffing').glob('l*.json')))} in turn), "
          f"time limit {limit_s:.2f} s each")
    print(f"departure: {total:.1f} s in all; per container mean {sum(times) / len(times):.2f} s, max {max(times):.2f} s")
    print(f"stuffed completely: {complete} of {args.containers} (the rest go to the plan's repair)")


if __name__ == "__main__":
    main()
