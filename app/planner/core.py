"""Fast internal representation of one packing group (shared by all algorithms).

A *group* is a set of shipments that may share containers (same destination,
same reefer kind; reefer groups are further split by temperature).  Within a
group, items are numbered 0..n-1 and the eligible container types 0..T-1.
"""

from __future__ import annotations

from typing import Sequence

from .model import EPS, ContainerType, Instance, Shipment


class GroupData:
    """Arrays describing a group: weights, per-type occupied volumes, conflicts."""

    __slots__ = (
        "inst", "ships", "types", "n", "T", "w", "occ", "cap_w", "cap_v", "cost", "teu",
        "dg", "conf", "has_dg", "temp", "reefer", "fits", "dest",
    )

    def __init__(self, inst: Instance, ships: Sequence[Shipment], types: Sequence[ContainerType]) -> None:
        self.inst = inst
        self.ships = list(ships)
        self.types = list(types)
        self.n = len(self.ships)
        self.T = len(self.types)
        self.dest = self.ships[0].destination if self.ships else ""
        self.reefer = bool(self.types and self.types[0].reefer)
        self.w = [s.weight_kg for s in self.ships]
        self.occ = [[s.occupied_cbm(t) for s in self.ships] for t in self.types]
        self.cap_w = [inst.payload(t) + EPS for t in self.types]
        self.cap_v = [t.usable_cbm + EPS for t in self.types]
        self.cost = [t.cost for t in self.types]
        self.teu = [t.teu for t in self.types]
        self.fits = [
            [self.w[i] <= self.cap_w[t] and self.occ[t][i] <= self.cap_v[t] for i in range(self.n)]
            for t in range(self.T)
        ]
        # DG classes -> small ints; conf[a] = set of class ints incompatible with a
        classes = sorted({s.dg_class for s in self.ships if s.dg_class is not None})
        idx = {c: k for k, c in enumerate(classes)}
        self.dg = [idx[s.dg_class] if s.dg_class is not None else -1 for s in self.ships]
        self.conf = [
            frozenset(idx[b] for b in classes if inst.conflicts(a, b)) for a in classes
        ]
        self.has_dg = any(self.conf)
        self.temp = [s.temp_range_c for s in self.ships]

    # ------------------------------------------------------------------ checks
    def compatible(self, i: int, items: Sequence[int]) -> bool:
        """May item i join a container already holding ``items`` (DG + temperature)?"""
        if self.has_dg:
            d = self.dg[i]
            if d >= 0 and self.conf[d]:
                cf = self.conf[d]
                for j in items:
                    if self.dg[j] in cf:
                        return False
        if self.reefer:
            lo, hi = self.temp[i]
            for j in items:
                a, b = self.temp[j]
                if a > lo:
                    lo = a
                if b < hi:
                    hi = b
                if lo > hi:
                    return False
        return True

    def set_ok(self, items: Sequence[int]) -> bool:
        """DG and temperature rules for a whole set of items."""
        if self.has_dg:
            seen = [self.dg[j] for j in items if self.dg[j] >= 0]
            for k, a in enumerate(seen):
                cf = self.conf[a]
                if cf:
                    for b in seen[k + 1:]:
                        if b in cf:
                            return False
        if self.reefer and items:
            lo = max(self.temp[j][0] for j in items)
            hi = min(self.temp[j][1] for j in items)
            if lo > hi:
                return False
        return True

    def load(self, t: int, items: Sequence[int]) -> tuple[float, float]:
        occ = self.occ[t]
        w = self.w
        return sum(w[i] for i in items), sum(occ[i] for i in items)

    def holds(self, t: int, items: Sequence[int]) -> bool:
        lw, lv = self.load(t, items)
        return lw <= self.cap_w[t] and lv <= self.cap_v[t]

    def cheapest_type(self, items: Sequence[int], current: int | None = None) -> int | None:
        """Cheapest type holding ``items`` (ties: fewest TEU, then list order;
        ``current`` is kept on a tie)."""
        best = None
        for t in range(self.T):
            if self.holds(t, items):
                key = (self.cost[t], self.teu[t], 0 if t == current else 1, t)
                if best is None or key < best[0]:
                    best = (key, t)
        return None if best is None else best[1]
