"""The consolidation planner.

Per group of shipments that may share containers (bound.group_shipments):

1. a first-fit-decreasing packing gives a valid plan at once (the fallback);
2. the exact lower-bound machinery lists the cheapest multisets of container
   types that could hold the group (cost, then container count ascending);
3. for each multiset cheaper than the best plan so far, ``pack.pack_fixed``
   tries to place every shipment into exactly those containers; the first
   success is kept;
4. every container is finally downsized to the cheapest type that holds it.

Small groups where the heuristic does not reach the group's lower bound are
handed to CP-SAT (``exact.py``), which proves optimality or improves.

Work is bounded by deterministic effort counters, so the same input gives the
same plan.  ``time_limit_s`` is a wall-clock cap on top of that: when it is
hit the planner returns the best plan found so far, which can then depend on
machine speed (the only source of nondeterminism).
"""

from __future__ import annotations

import time
from typing import Sequence

from .assemble import build_plan
from .bound import Group, cover_multisets
from .core import GroupData
from .exact import cpsat_fixed
from .ffd import ffd_group
from .io import validate_locked
from .model import Container, Instance, Plan
from .pack import Work, pack_fixed
from .pairs import pair_bins

# deterministic effort per shipment of a group (see pack.Work)
WORK_PER_ITEM = 3000
# how many candidate multisets to try per group at most
MAX_CANDIDATES = 40
# groups up to this many shipments may go to CP-SAT when the heuristic leaves a gap
EXACT_MAX_ITEMS = 150
EXACT_MAX_CALLS = 3
EXACT_DET_TIME = 0.5  # CP-SAT deterministic time units per call
# groups larger than this are packed in stratified chunks of about this size
CHUNK_ITEMS = 1300


def _effective_locked(inst: Instance, locked: Sequence[Container]) -> tuple[Container, ...]:
    extra = tuple(locked or ())
    if not extra:
        return tuple(inst.locked_containers)
    allc = tuple(inst.locked_containers) + extra
    return validate_locked(inst, list(allc), field="locked")


def _downsize(gd: GroupData, bins: list[tuple[int, list[int]]]) -> list[tuple[int, list[int]]]:
    out = []
    for t, items in bins:
        if not items:
            continue
        best = gd.cheapest_type(items, current=t)
        out.append((t if best is None else best, items))
    return out


def _cost(gd: GroupData, bins: list[tuple[int, list[int]]]) -> tuple[float, int]:
    return sum(gd.cost[t] for t, _ in bins), len(bins)


class _Solver:
    def __init__(self, inst: Instance, time_limit_s: float | None, use_exact: bool = True) -> None:
        self.inst = inst
        self.clock = time.monotonic
        self.start = self.clock()
        self.deadline = None if time_limit_s is None else self.start + max(0.0, time_limit_s)
        self.use_exact = use_exact
        self.total_items = len(inst.shipments) or 1

    def _wall_left(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - self.clock())

    def _work(self, n: int) -> Work:
        deadline = None
        if self.deadline is not None:
            # give this group a share of the remaining wall-clock time
            now = self.clock()
            share = min(1.0, 2.0 * n / self.total_items)
            deadline = now + max(0.0, self.deadline - now) * share
        return Work(WORK_PER_ITEM * max(n, 20), deadline, self.clock)

    def pack_group(self, gd: GroupData, g: Group) -> list[tuple[int, list[int]]]:
        best = _downsize(gd, ffd_group(gd))
        best_key = _cost(gd, best)
        work = self._work(gd.n)
        if work.exhausted:
            return best
        k = g.setpoints if g.reefer else 1
        if gd.n <= CHUNK_ITEMS or g.reefer:
            bins = self._pack_candidates(gd, k, best_key, work)
        else:
            # large groups: stratified chunks packed independently (keeps every
            # construction O(chunk x bins) while losing little to rounding)
            c = -(-gd.n // CHUNK_ITEMS)
            aw = sum(gd.cap_w) / gd.T
            av = sum(gd.cap_v) / gd.T
            order = sorted(range(gd.n), key=lambda i: (-max(gd.w[i] / aw, gd.occ[0][i] / av), i))
            parts: list[list[int]] = [[] for _ in range(c)]
            for r, i in enumerate(order):
                q, p = divmod(r, c)
                parts[p if q % 2 == 0 else c - 1 - p].append(i)
            bins = []
            for part in parts:
                sub = GroupData(gd.inst, [gd.ships[i] for i in part], gd.types)
                sb = self._pack_candidates(sub, 1, None, work)
                if sb is None:
                    sb = _downsize(sub, ffd_group(sub))
                bins.extend((t, [part[j] for j in items]) for t, items in sb)
        if bins is not None:
            key = _cost(gd, bins)
            if key < best_key:
                best, best_key = bins, key
        return best

    def _pack_candidates(self, gd: GroupData, k: int, best_key, work: Work):
        """Cheapest multiset (tried in order) that pack_fixed fills, or None."""
        weight = sum(gd.w)
        volume = 0.0
        for i in range(gd.n):
            volume += min(gd.occ[t][i] for t in range(gd.T) if gd.fits[t][i])
        caps = [(gd.cost[t], gd.inst.payload(gd.types[t]), gd.types[t].usable_cbm) for t in range(gd.T)]
        need = _VolumeNeed(gd)
        seen: set[tuple[int, ...]] = set()
        exact_calls = 0
        req_slack = 0.0  # learnt from failed attempts: room the construction wastes
        cap = None if best_key is None else best_key[0]
        for limit in (MAX_CANDIDATES, 8 * MAX_CANDIDATES):
            cands = cover_multisets(caps, weight, volume, k, limit=limit, cost_cap=cap)
            cands.sort(key=lambda c: (c[0], sum(c[1]), c[1]))
            for cost, counts in cands:
                if (best_key is not None and (cost, sum(counts)) >= best_key) or work.exhausted:
                    return None
                if counts in seen:
                    continue
                seen.add(counts)
                slack = need.slack(counts)
                if slack < req_slack:
                    continue
                types = [t for t in range(gd.T) for _ in range(counts[t])]
                fb, pool_v = pack_fixed(gd, types, work)
                if fb is not None:
                    return _downsize(gd, fb.result())
                if self.use_exact and gd.n <= EXACT_MAX_ITEMS and exact_calls < EXACT_MAX_CALLS:
                    exact_calls += 1
                    bins = cpsat_fixed(gd, types, EXACT_DET_TIME, self._wall_left())
                    work.spend(gd.n * 200)
                    if bins is not None:
                        return _downsize(gd, bins)
                    continue
                req_slack = max(req_slack, slack + 0.5 * pool_v)
            if len(cands) < limit:
                break
        return None


class _VolumeNeed:
    """Estimated total occupied volume of a group in a given multiset of types.

    Stackable volume is type-independent; non-stackable shipments take less
    room in low types, of which a multiset has limited capacity: greedily
    put those with the largest saving into the lowest types.
    """

    def __init__(self, gd: GroupData) -> None:
        self.gd = gd
        self.fixed = 0.0
        self.varying: list[int] = []
        for i in range(gd.n):
            vals = [gd.occ[t][i] for t in range(gd.T)]
            if max(vals) > min(vals):
                self.varying.append(i)
            else:
                self.fixed += vals[0]
        self.cap_v = [gd.types[t].usable_cbm for t in range(gd.T)]

    def slack(self, counts: Sequence[int]) -> float:
        gd = self.gd
        present = [t for t in range(gd.T) if counts[t]]
        total_cap = sum(counts[t] * self.cap_v[t] for t in present)
        if not self.varying:
            return total_cap - self.fixed
        present.sort(key=lambda t: (gd.types[t].inner_height_m, t))
        room = {t: counts[t] * self.cap_v[t] for t in present}
        occ = gd.occ

        def saving(i: int) -> float:
            vals = [occ[t][i] for t in present if gd.fits[t][i]]
            return (max(vals) - min(vals)) if vals else 0.0

        used = 0.0
        for i in sorted(self.varying, key=lambda i: (-saving(i), i)):
            placed = False
            for t in present:
                if gd.fits[t][i] and room[t] >= occ[t][i]:
                    room[t] -= occ[t][i]
                    used += occ[t][i]
                    placed = True
                    break
            if not placed:
                used += min((occ[t][i] for t in present), default=0.0)
        return total_cap - self.fixed - used


def solve(instance: Instance, time_limit_s: float | None = None, locked: Sequence[Container] = ()) -> Plan:
    """Plan ``instance``: least total cost, then fewest containers.

    ``locked`` containers (in addition to ``instance.locked_containers``) are
    kept exactly as they are; only the other shipments are placed.  Raises
    PlannerInputError when a locked container is invalid.
    """
    eff = _effective_locked(instance, locked)
    solver = _Solver(instance, time_limit_s)
    if not instance.pair_20:
        return build_plan(instance, eff, solver.pack_group)
    return build_plan(instance, eff, lambda gd, g: pair_bins(gd, solver.pack_group(gd, g)))
