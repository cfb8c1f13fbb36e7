"""Benchmark: the stuffing solver against PackingSolver on BR1–BR7 and the samples, same run, same limit.

    python bench/stuffing.py [--problems N] [--classes 1,2,...] [--time-limit S]
                             [--sample-time-limit S] [--no-peer] [--no-samples] [--markdown]

BR1–BR7 (Bischoff & Ratcliff 1995, bench/data/br) are solved with full support
(support_ratio 1.0), problems 1..N of each class (default 10: a fixed subset with
the same spread as the 100). The samples (tests/data/stuffing) are solved as given.

The peer is PackingSolver's ``boxstacks`` solver (``pip install -e '.[bench]'``
installs ``packingsolver3d``, MIT): the one of its solvers whose plans keep
the support rule. It keeps every package upright, so each piece line is given
to it in one upright orientation (its own height when that may stand vertical,
else the first side that may). Dimensions go to it in hundredths of a
centimetre, rounded up; its stacks are then re-stacked on the real heights,
numbered in loading order with the same ``assign_steps`` as ours, and checked
by our validator like our own plans: an invalid plan is counted as 0 %.

Prints per class: average volume utilisation, seconds per problem and valid
plans for both, and ours ÷ the peer's utilisation; per sample also the
packages left out.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.stuffing import (  # noqa: E402
    Instance,
    Placement,
    Plan,
    assign_steps,
    build_plan,
    check_stuffing,
    instance_from_dict,
    solve,
)

BR_DIR = REPO / "bench" / "data" / "br"
SAMPLES_DIR = REPO / "tests" / "data" / "stuffing"
SCALE = 100  # the peer takes integers: hundredths of a centimetre


def br_documents(cls: int, problems: set[int] | None = None) -> list[tuple[int, dict]]:
    """The problems of BR<cls> as instance documents (full support, no weights)."""
    tokens = iter((BR_DIR / f"thpack{cls}.txt").read_text().split())
    out = []
    for _ in range(int(next(tokens))):
        number = int(next(tokens))
        next(tokens)  # the generator's seed
        length, width, height = (int(next(tokens)) for _ in range(3))
        pieces = []
        for _ in range(int(next(tokens))):
            kind = int(next(tokens))
            l, fl, w, fw, h, fh, count = (int(next(tokens)) for _ in range(7))
            vertical = [side for side, flag in (("length", fl), ("width", fw), ("height", fh)) if flag]
            pieces.append({"id": f"T{kind}", "count": count, "length_cm": l, "width_cm": w, "height_cm": h,
                           "weight_kg": 0, "vertical": vertical, "stackable": True})
        if problems is None or number in problems:
            out.append((number, {
                "container": {"code": f"BR{cls}", "length_cm": length, "width_cm": width, "height_cm": height,
                              "payload_kg": 1_000_000},
                "support_ratio": 1.0, "pieces": pieces,
            }))
    return out


@dataclass
class Outcome:
    utilisation: float  # 0 when the plan is invalid or missing
    seconds: float
    valid: bool
    unplaced: int
    note: str = ""


def _outcome(inst: Instance, plan: Plan | None, seconds: float, note: str = "") -> Outcome:
    if plan is None:
        return Outcome(0.0, seconds, False, sum(p.count for p in inst.pieces), note or "no plan")
    errors = check_stuffing(inst, plan)
    unplaced = sum(u.count for u in plan.unplaced)
    if errors:
        return Outcome(0.0, seconds, False, unplaced, errors[0])
    return Outcome(plan.volume_utilisation, seconds, True, unplaced, note)


def ours(inst: Instance, time_limit: float) -> Outcome:
    started = time.perf_counter()
    plan = solve(inst, time_limit_s=time_limit)
    return _outcome(inst, plan, time.perf_counter() - started)


def peer(inst: Instance, time_limit: float) -> Outcome:
    import packingsolver3d as ps

    upright = []
    item_types = []
    for k, piece in enumerate(inst.pieces):
        side = dict(zip(("length", "width", "height"), piece.dims))
        up = "height" if "height" in piece.vertical else piece.vertical[0]
        a, b = (side[s] for s in ("length", "width", "height") if s != up)
        dims = (a, b, side[up])
        upright.append(dims)
        item_types.append(ps.ItemType(
            x=math.ceil(a * SCALE - 1e-6), y=math.ceil(b * SCALE - 1e-6), z=math.ceil(side[up] * SCALE - 1e-6),
            copies=piece.count, weight=piece.weight_kg, rotations=(ps.Rotation.XYZ, ps.Rotation.YXZ),
            stackability_id=k, maximum_stackability=None if piece.stackable else 1,
        ))
    c = inst.container
    instance = ps.Instance(
        bin_types=(ps.BinType(x=int(c.length_cm * SCALE), y=int(c.width_cm * SCALE), z=int(c.height_cm * SCALE),
                              maximum_weight=c.payload_kg),),
        item_types=tuple(item_types), objective=ps.Objective.KNAPSACK,
    )
    started = time.perf_counter()
    try:
        result = ps.boxstacks.solve(instance, time_limit=time_limit)
    except ps.PackingSolverError as error:
        return _outcome(inst, None, time.perf_counter() - started, f"peer failed: {error}")
    seconds = time.perf_counter() - started
    if not result.bins:
        return _outcome(inst, build_plan(inst, []), seconds, "no solution")
    stacks: dict[int, list] = defaultdict(list)
    for p in result.bins[0].placements:
        stacks[p.stack_id if p.stack_id is not None else -1 - len(stacks)].append(p)
    placements = []
    for pile in stacks.values():
        z = 0.0  # re-stack on the real (unrounded) heights so that each stands on the one below
        for p in sorted(pile, key=lambda p: p.z):
            a, b, h = upright[p.item_type_id]
            if p.rotation == ps.Rotation.YXZ:
                a, b = b, a
            placements.append(Placement(inst.pieces[p.item_type_id].id, p.x / SCALE, p.y / SCALE, z, a, b, h, 0))
            z += h
    ordered = assign_steps(c, placements)
    if ordered is None:
        return _outcome(inst, None, seconds, "no loading order keeps rule 6")
    return _outcome(inst, build_plan(inst, ordered), seconds)


def _table(head: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(head)]
        print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
        for r in rows:
            print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    print(flush=True)


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def run(args: argparse.Namespace) -> int:
    solvers = {"ours": ours}
    if not args.no_peer:
        try:
            import packingsolver3d  # noqa: F401
        except ImportError:
            print("packingsolver3d is not installed (pip install -e '.[bench]'): measuring ours only",
                  file=sys.stderr)
        else:
            solvers["peer"] = peer
    invalid_ours = 0
    problems = set(range(1, args.problems + 1))
    head = ["class", "problems", "ours", "s/problem", "valid"]
    if "peer" in solvers:
        head += ["PackingSolver boxstacks", "s/problem", "valid", "ours ÷ peer"]
    rows = []
    totals: dict[str, list[Outcome]] = defaultdict(list)
    for cls in args.classes:
        per: dict[str, list[Outcome]] = defaultdict(list)
        for number, document in br_documents(cls, problems):
            inst = instance_from_dict(document)
            for name, fn in solvers.items():
                outcome = fn(inst, args.time_limit)
                per[name].append(outcome)
                totals[name].append(outcome)
                if not outcome.valid:
                    print(f"BR{cls} #{number} {name}: {outcome.note}", file=sys.stderr)
                    invalid_ours += name == "ours"
            if args.verbose:
                print(f"BR{cls} #{number}: " + ", ".join(f"{n} {_pct(o[-1].utilisation)}" for n, o in per.items()),
                      file=sys.stderr, flush=True)
        rows.append(_row(f"BR{cls}", per, len(per["ours"])))
    if len(args.classes) > 1:
        rows.append(_row("all", totals, len(totals["ours"])))
    print(f"BR1–BR7, full support, problems 1–{args.problems} of each class, time limit {args.time_limit:g} s")
    _table(head, rows, args.markdown)

    if not args.no_samples:
        head = ["sample", "packages", "ours", "left out", "s", "valid"]
        if "peer" in solvers:
            head += ["PackingSolver boxstacks", "left out", "s", "valid"]
        rows = []
        for f in sorted(SAMPLES_DIR.glob("*.json")):
            inst = instance_from_dict(json.loads(f.read_text()))
            row = [f.stem, str(sum(p.count for p in inst.pieces))]
            for name, fn in solvers.items():
                o = fn(inst, args.sample_time_limit)
                if not o.valid:
                    print(f"{f.stem} {name}: {o.note}", file=sys.stderr)
                    invalid_ours += name == "ours"
                row += [_pct(o.utilisation), str(o.unplaced), f"{o.seconds:.2f}", "yes" if o.valid else "NO"]
            rows.append(row)
        print(f"Samples (support_ratio as given), time limit {args.sample_time_limit:g} s")
        _table(head, rows, args.markdown)
    return 1 if invalid_ours else 0


def _row(label: str, per: dict[str, list[Outcome]], n: int) -> list[str]:
    def avg(xs: list[float]) -> float:
        return sum(xs) / len(xs) if xs else 0.0

    row = [label, str(n)]
    for name in per:
        outs = per[name]
        row += [_pct(avg([o.utilisation for o in outs])), f"{avg([o.seconds for o in outs]):.2f}",
                f"{sum(o.valid for o in outs)}/{len(outs)}"]
    if "peer" in per:
        mine, theirs = avg([o.utilisation for o in per["ours"]]), avg([o.utilisation for o in per["peer"]])
        row.append(f"{mine / theirs:.3f}" if theirs else "-")
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=10, help="problems 1..N of each class (100 = all)")
    ap.add_argument("--classes", type=lambda s: [int(c) for c in s.split(",")], default=list(range(1, 8)))
    ap.add_argument("--time-limit", type=float, default=5.0, help="seconds per BR problem, for both solvers")
    ap.add_argument("--sample-time-limit", type=float, default=2.0, help="seconds per sample, for both solvers")
    ap.add_argument("--no-peer", action="store_true", help="measure ours only")
    ap.add_argument("--no-samples", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--verbose", action="store_true", help="one line per problem on standard error")
    args = ap.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
