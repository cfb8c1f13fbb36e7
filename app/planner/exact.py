"""CP-SAT feasibility check for packing a small group into a fixed multiset.

Used when the heuristic fails on a multiset that the volume/weight estimate
says might fit: CP-SAT either finds a packing or (within its deterministic
time budget) gives up.  Quantities are scaled to integers conservatively
(sizes rounded up, capacities down), so any packing it returns keeps the
rules in real numbers too.
"""

from __future__ import annotations

import math
from typing import Sequence

from .core import GroupData

W_SCALE = 1000  # grams
V_SCALE = 100000  # 10 cm^3
T_SCALE = 100  # 0.01 degC


def cpsat_fixed(
    gd: GroupData, types: Sequence[int], det_time: float, wall_time: float | None = None
) -> list[tuple[int, list[int]]] | None:
    from ortools.sat.python import cp_model

    m = len(types)
    n = gd.n
    model = cp_model.CpModel()
    x: dict[tuple[int, int], object] = {}
    for i in range(n):
        row = []
        for b, t in enumerate(types):
            if gd.fits[t][i]:
                v = model.NewBoolVar(f"x{i}_{b}")
                x[i, b] = v
                row.append(v)
        if not row:
            return None
        model.AddExactlyOne(row)
    for b, t in enumerate(types):
        cw = math.floor((gd.cap_w[t]) * W_SCALE)
        cv = math.floor((gd.cap_v[t]) * V_SCALE)
        terms_w = [(x[i, b], math.ceil(gd.w[i] * W_SCALE - 1e-6)) for i in range(n) if (i, b) in x]
        terms_v = [(x[i, b], math.ceil(gd.occ[t][i] * V_SCALE - 1e-6)) for i in range(n) if (i, b) in x]
        model.Add(sum(c * v for v, c in terms_w) <= cw)
        model.Add(sum(c * v for v, c in terms_v) <= cv)
    if gd.has_dg:
        dg_items = [i for i in range(n) if gd.dg[i] >= 0 and gd.conf[gd.dg[i]]]
        for a_idx, i in enumerate(dg_items):
            for j in dg_items[a_idx + 1:]:
                if gd.dg[j] in gd.conf[gd.dg[i]]:
                    for b in range(m):
                        if (i, b) in x and (j, b) in x:
                            model.AddBoolOr([x[i, b].Not(), x[j, b].Not()])
    if gd.reefer:
        lo_all = min(math.ceil(r[0] * T_SCALE) for r in gd.temp)
        hi_all = max(math.floor(r[1] * T_SCALE) for r in gd.temp)
        for b in range(m):
            sp = model.NewIntVar(lo_all, hi_all, f"sp{b}")
            for i in range(n):
                if (i, b) in x:
                    model.Add(sp >= math.ceil(gd.temp[i][0] * T_SCALE)).OnlyEnforceIf(x[i, b])
                    model.Add(sp <= math.floor(gd.temp[i][1] * T_SCALE)).OnlyEnforceIf(x[i, b])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 12345
    solver.parameters.max_deterministic_time = max(0.01, det_time)
    if wall_time is not None:
        solver.parameters.max_time_in_seconds = max(0.01, wall_time)
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    bins: list[list[int]] = [[] for _ in range(m)]
    for (i, b), v in x.items():
        if solver.BooleanValue(v):
            bins[b].append(i)
    out = [(types[b], items) for b, items in enumerate(bins) if items]
    # paranoia: never hand back something that breaks a rule
    for t, items in out:
        if not gd.holds(t, items) or not gd.set_ok(items):
            return None
    return out
