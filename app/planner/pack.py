"""Packing one group into a *fixed* multiset of containers.

``pack_fixed`` is the work-horse of the planner: given the container types of
the bins (e.g. the multiset the lower bound picked), it tries to place every
item of the group.

1. Construction -- *dot-product* greedy for vector bin packing (Panigrahy et
   al., "Heuristics for Vector Bin Packing", 2011): items by decreasing size
   (the larger of weight and volume relative to an average bin), each into the
   bin maximising the dot product of the item with the bin's remaining
   (weight, volume) capacity.  That keeps bins balanced in both dimensions, so
   dense cargo gets spread over bins rather than filling a few to the payload
   limit with volume to spare.  Only the few bins with the most remaining
   volume or weight (two heaps) are scored per item, which keeps it
   O(n log m).
2. Repair -- the items left over form a pool.  Each pool item, largest first,
   is inserted where it fits, else swapped into a bin against a strictly
   smaller item (which joins the pool), else placed by moving one item of a
   bin to another bin to make room (a 2-chain).  Every swap strictly shrinks
   the pool's total size, so the loop ends; it succeeds when the pool is
   empty.

Everything is deterministic: ties are broken by indices, never by hashing
or wall-clock time.  ``work`` (a mutable counter) bounds the effort.
"""

from __future__ import annotations

import heapq
from typing import Sequence

from .core import GroupData


class Work:
    """Effort budget shared by a solve: a deterministic counter plus an
    optional wall-clock deadline (only the latter can make results vary)."""

    __slots__ = ("left", "deadline", "clock")

    def __init__(self, units: float, deadline: float | None = None, clock=None) -> None:
        self.left = units
        self.deadline = deadline
        self.clock = clock

    def spend(self, units: float) -> bool:
        """Consume ``units``; False once the budget (or the deadline) is gone."""
        self.left -= units
        if self.left <= 0:
            return False
        if self.deadline is not None and self.clock() > self.deadline:
            self.left = 0
            return False
        return True

    @property
    def exhausted(self) -> bool:
        return self.left <= 0


class FixedBins:
    """Bins of fixed types with their loads (mutable working state)."""

    __slots__ = ("gd", "types", "items", "bw", "bv", "capw", "capv", "m", "avg_w", "avg_v")

    def __init__(self, gd: GroupData, types: Sequence[int]) -> None:
        self.gd = gd
        self.types = list(types)
        self.m = len(self.types)
        self.items: list[list[int]] = [[] for _ in range(self.m)]
        self.bw = [0.0] * self.m
        self.bv = [0.0] * self.m
        self.capw = [gd.cap_w[t] for t in self.types]
        self.capv = [gd.cap_v[t] for t in self.types]
        self.avg_w = sum(self.capw) / self.m if self.m else 1.0
        self.avg_v = sum(self.capv) / self.m if self.m else 1.0

    def add(self, b: int, i: int) -> None:
        self.items[b].append(i)
        self.bw[b] += self.gd.w[i]
        self.bv[b] += self.gd.occ[self.types[b]][i]

    def remove(self, b: int, i: int) -> None:
        self.items[b].remove(i)
        self.bw[b] -= self.gd.w[i]
        self.bv[b] -= self.gd.occ[self.types[b]][i]

    def fits(self, b: int, i: int) -> bool:
        t = self.types[b]
        gd = self.gd
        return (
            self.bw[b] + gd.w[i] <= self.capw[b]
            and self.bv[b] + gd.occ[t][i] <= self.capv[b]
            and gd.compatible(i, self.items[b])
        )

    def result(self) -> list[tuple[int, list[int]]]:
        return [(t, list(it)) for t, it in zip(self.types, self.items) if it]


def _size(gd: GroupData, fb: FixedBins, i: int) -> float:
    # size relative to an average bin, volume measured in the smallest occupied volume
    v = min(gd.occ[t][i] for t in range(gd.T))
    return max(v / fb.avg_v, gd.w[i] / fb.avg_w)


def construct(gd: GroupData, fb: FixedBins, items: Sequence[int], k: int = 24, extra_penalty: float = 3.0) -> list[int]:
    """Dot-product greedy; returns the items it could not place."""
    m = fb.m
    if m == 0:
        return list(items)
    aw, av = fb.avg_w, fb.avg_v
    order = sorted(items, key=lambda i: (-_size(gd, fb, i), i))
    capw, capv, bw, bv, types = fb.capw, fb.capv, fb.bw, fb.bv, fb.types
    w, occ = gd.w, gd.occ
    hv = [(-(capv[b] - bv[b]) / av, b) for b in range(m)]
    hw = [(-(capw[b] - bw[b]) / aw, b) for b in range(m)]
    heapq.heapify(hv)
    heapq.heapify(hw)
    left: list[int] = []
    check = gd.has_dg or gd.reefer
    # shipments whose occupied volume depends on the type (non-stackables)
    # also look at the roomiest bins among the types where they take the least
    # room, and pay a penalty for the extra volume they take elsewhere
    tset = sorted(set(types))
    vmin_of = {}
    low_heaps: dict[tuple[int, ...], tuple[list, list]] = {}
    if len(tset) > 1:
        for i in order:
            vals = [occ[t][i] for t in tset]
            lo = min(vals)
            if max(vals) > lo:
                vmin_of[i] = lo
        if vmin_of:
            for i in vmin_of:
                key = tuple(t for t in tset if occ[t][i] <= vmin_of[i])
                if key not in low_heaps:
                    bs = [b for b in range(m) if types[b] in key]
                    lv = [(-(capv[b] - bv[b]) / av, b) for b in bs]
                    lw = [(-(capw[b] - bw[b]) / aw, b) for b in bs]
                    heapq.heapify(lv)
                    heapq.heapify(lw)
                    low_heaps[key] = (lv, lw)
    bin_heaps: list[list[tuple[list, int]]] = [[(hv, 0), (hw, 1)] for _ in range(m)]
    for key, (lv, lw) in low_heaps.items():
        for b in range(m):
            if types[b] in key:
                bin_heaps[b].append((lv, 0))
                bin_heaps[b].append((lw, 1))
    beta = extra_penalty
    scan_all = m <= 2 * k
    all_bins = range(m)
    for i in order:
        wi = w[i]
        vlow = vmin_of.get(i)
        if scan_all:
            cands = all_bins
        else:
            cands = _top_candidates(i, vlow, hv, hw, low_heaps, tset, occ, capv, bv, capw, bw, av, aw, k)
        best = -1.0
        bb = -1
        for b in cands:
            vi = occ[types[b]][i]
            if bw[b] + wi <= capw[b] and bv[b] + vi <= capv[b] and (not check or gd.compatible(i, fb.items[b])):
                sc = (capw[b] - bw[b]) * wi / (aw * aw) + (capv[b] - bv[b]) * vi / (av * av)
                if vlow is not None:
                    sc -= beta * (vi - vlow) / av
                if bb < 0 or sc > best:
                    best, bb = sc, b
        if bb < 0 and not scan_all:
            # the roomiest bins cannot take it: best fit over all bins
            bestfit = None
            for b in range(m):
                vi = occ[types[b]][i]
                if bw[b] + wi <= capw[b] and bv[b] + vi <= capv[b] and (not check or gd.compatible(i, fb.items[b])):
                    r = (capv[b] - bv[b] - vi) / av + (capw[b] - bw[b] - wi) / aw
                    if bestfit is None or r < bestfit:
                        bestfit, bb = r, b
        if bb < 0:
            left.append(i)
            continue
        fb.add(bb, i)
        if scan_all:
            continue
        for h, which in bin_heaps[bb]:
            if which == 0:
                heapq.heappush(h, (-(capv[bb] - bv[bb]) / av, bb))
            else:
                heapq.heappush(h, (-(capw[bb] - bw[bb]) / aw, bb))
    return left


def _top_candidates(i, vlow, hv, hw, low_heaps, tset, occ, capv, bv, capw, bw, av, aw, k) -> list[int]:
    """The k roomiest bins by volume and by weight (and among the item's
    lowest-occupancy types), from lazily updated heaps."""
    cands: list[int] = []
    heaps = ((hv, 0), (hw, 1))
    if vlow is not None:
        key = tuple(t for t in tset if occ[t][i] <= vlow)
        heaps = heaps + ((low_heaps[key][0], 0), (low_heaps[key][1], 1))
    for h, which in heaps:
        popped = []
        while h and len(popped) < k:
            e = heapq.heappop(h)
            b = e[1]
            cur = -(capv[b] - bv[b]) / av if which == 0 else -(capw[b] - bw[b]) / aw
            if e[0] != cur:
                continue  # stale entry
            popped.append(e)
            cands.append(b)
        for e in popped:
            heapq.heappush(h, e)
    return sorted(set(cands))


def repair(gd: GroupData, fb: FixedBins, pool: list[int], work: Work) -> list[int]:
    """Try to place the pool items; returns those still unplaced."""
    if not pool:
        return []
    m = fb.m
    aw, av = fb.avg_w, fb.avg_v
    w, occ, types = gd.w, gd.occ, fb.types
    capw, capv, bw, bv = fb.capw, fb.capv, fb.bw, fb.bv
    check = gd.has_dg or gd.reefer
    size = {}

    def sz(i: int) -> float:
        s = size.get(i)
        if s is None:
            v = min(occ[t][i] for t in range(gd.T))
            s = size[i] = v / av + w[i] / aw
        return s

    # fast fail: the pool cannot fit into the bins' total room
    room_v = sum(capv[b] - bv[b] for b in range(m))
    room_w = sum(capw[b] - bw[b] for b in range(m))
    if sum(min(occ[t][i] for t in set(types)) for i in pool) > room_v or sum(w[i] for i in pool) > room_w:
        return list(pool)
    heap = [(-sz(i), i) for i in pool]
    heapq.heapify(heap)
    stuck: list[int] = []
    while heap:
        if not work.spend(m):
            stuck.extend(i for _, i in heap)
            break
        _, x = heapq.heappop(heap)
        wx, sx = w[x], sz(x)
        # A: direct insertion, best fit
        best = None
        for b in range(m):
            vx = occ[types[b]][x]
            if bw[b] + wx <= capw[b] and bv[b] + vx <= capv[b] and (not check or gd.compatible(x, fb.items[b])):
                r = (capv[b] - bv[b] - vx) / av + (capw[b] - bw[b] - wx) / aw
                if best is None or r < best[0]:
                    best = (r, b)
        if best is not None:
            fb.add(best[1], x)
            continue
        # B: swap x in against a strictly smaller item y
        best = None
        for b in range(m):
            t = types[b]
            vx = occ[t][x]
            need_v = bv[b] + vx - capv[b]
            need_w = bw[b] + wx - capw[b]
            ot = occ[t]
            for y in fb.items[b]:
                if ot[y] >= need_v and w[y] >= need_w:
                    sy = sz(y)
                    if sy < sx and (best is None or sy < best[0]):
                        if check and not gd.compatible(x, [j for j in fb.items[b] if j != y]):
                            continue
                        best = (sy, b, y)
        if best is not None:
            work.spend(len(gd.w))
            _, b, y = best
            fb.remove(b, y)
            fb.add(b, x)
            heapq.heappush(heap, (-sz(y), y))
            continue
        work.spend(len(gd.w))
        # C: move one item y of bin a to another bin c, then x into a
        done = False
        slack_order = sorted(range(m), key=lambda c: -((capv[c] - bv[c]) / av + (capw[c] - bw[c]) / aw))
        top = slack_order[: min(m, 12)]
        for a in range(m):
            t = types[a]
            vx = occ[t][x]
            need_v = bv[a] + vx - capv[a]
            need_w = bw[a] + wx - capw[a]
            if check and not gd.compatible(x, []):
                continue
            for y in fb.items[a]:
                if occ[t][y] < need_v or w[y] < need_w:
                    continue
                rest = None
                if check:
                    rest = [j for j in fb.items[a] if j != y]
                    if not gd.compatible(x, rest):
                        continue
                for c in top:
                    if c != a and fb.fits(c, y):
                        fb.remove(a, y)
                        fb.add(c, y)
                        fb.add(a, x)
                        done = True
                        break
                if done:
                    break
            if done:
                break
        work.spend(len(gd.w))
        if not done:
            stuck.append(x)
    return stuck


def pack_fixed(gd: GroupData, types: Sequence[int], work: Work) -> tuple[FixedBins | None, float]:
    """Place all items into bins of the given types.

    Returns (bins, 0.0) on success, else (None, volume the construction could not place).
    """
    pool_v = None
    # small problems are cheap: try a few penalties for non-stackables in tall types
    betas = (3.0, 1.0, 10.0, 0.3) if gd.n * len(types) <= 4000 else (3.0,)
    for beta in betas:
        fb = FixedBins(gd, types)
        work.spend(gd.n * 4)
        left = construct(gd, fb, range(gd.n), extra_penalty=beta)
        if not left:
            return fb, 0.0
        pv = sum(min(gd.occ[t][i] for t in range(gd.T)) for i in left)
        pool_v = pv if pool_v is None else min(pool_v, pv)
        left = repair(gd, fb, left, work)
        if not left:
            return fb, 0.0
        if work.exhausted:
            break
    return None, pool_v or 0.0
