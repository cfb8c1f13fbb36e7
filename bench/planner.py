"""Benchmark: the planner and the first-fit-decreasing baseline on every sample.

    python bench/planner.py [--samples-dir DIR] [--time-limit SECONDS] [--markdown]

Prints per sample: shipments, planner cost, lower bound, cost / bound,
baseline cost, baseline / bound, containers, seconds (JSON decoding, validation
and solving; file read excluded) and REFERENCE.md's reference-planner figure.  Then times
a 1,000-shipment instance (the first 1,000 shipments of s3000).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.planner import check_plan, first_fit_decreasing, instance_from_dict, solve  # noqa: E402

# REFERENCE.md: the reference planner's cost per sample
REFERENCE = {"s060": 34_700, "s300": 141_500, "s3000": 1_155_200, "s20000": 7_218_600}


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def run(samples_dir: Path, time_limit: float | None, markdown: bool) -> int:
    files = sorted(samples_dir.glob("*.json"), key=lambda p: (len(p.stem), p.stem))
    if not files:
        print(f"no samples in {samples_dir}", file=sys.stderr)
        return 2
    head = ["sample", "shipments", "cost", "lower bound", "÷ bound", "FFD cost", "FFD ÷ bound",
            "containers", "seconds", "reference", "ref ÷ bound"]
    rows = []
    bad = 0
    for f in files:
        text = f.read_text()
        t0 = time.perf_counter()
        inst = instance_from_dict(json.loads(text))
        plan = solve(inst, time_limit_s=time_limit)
        secs = time.perf_counter() - t0
        base = first_fit_decreasing(inst)
        errors = check_plan(inst, plan) + check_plan(inst, base)
        if errors:
            bad += 1
            print(f"{f.name}: INVALID PLAN: {errors[:5]}", file=sys.stderr)
        lb = plan.lower_bound or 1
        ref = REFERENCE.get(f.stem)
        rows.append([
            f.name, _fmt(len(inst.shipments)), _fmt(plan.cost), _fmt(plan.lower_bound), f"{plan.cost / lb:.4f}",
            _fmt(base.cost), f"{base.cost / lb:.4f}", str(len(plan.containers)), f"{secs:.2f}",
            _fmt(ref) if ref else "-", f"{ref / lb:.3f}" if ref else "-",
        ])

    # 1,000 shipments: the first 1,000 of the 3,000-shipment sample
    s3000 = samples_dir / "s3000.json"
    if s3000.exists():
        doc = json.loads(s3000.read_text())
        doc["shipments"] = doc["shipments"][:1000]
        t0 = time.perf_counter()
        inst = instance_from_dict(doc)
        plan = solve(inst, time_limit_s=time_limit)
        secs = time.perf_counter() - t0
        base = first_fit_decreasing(inst)
        if check_plan(inst, plan):
            bad += 1
        lb = plan.lower_bound or 1
        rows.append([
            "s3000[:1000]", _fmt(1000), _fmt(plan.cost), _fmt(plan.lower_bound), f"{plan.cost / lb:.4f}",
            _fmt(base.cost), f"{base.cost / lb:.4f}", str(len(plan.containers)), f"{secs:.2f}", "-", "-",
        ])

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
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples-dir", type=Path, default=REPO / "tests" / "data" / "planner" / "samples")
    ap.add_argument("--time-limit", type=float, default=None, help="time_limit_s passed to solve()")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    return run(args.samples_dir, args.time_limit, args.markdown)


if __name__ == "__main__":
    raise SystemExit(main())
