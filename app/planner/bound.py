"""The lower bound of REFERENCE.md, computed exactly.

Per *group* of shipments that can never share a container with shipments of
another group -- one group per destination for non-reefer shipments, and per
destination one group per connected set of overlapping temperature ranges for
reefer shipments -- the bound is the cost of the cheapest multiset of
container types (of the group's kind) whose summed payload covers the group's
total weight and whose summed usable volume covers its total occupied volume
(a non-stackable shipment counted at its smallest occupied volume over the
types it fits), with at least as many containers as the group needs
temperature set points (minimum number of points stabbing all its ranges).

Every plan packs each group into containers of the group's kind whose
capacities must cover the group's totals, so no plan costs less.  The
cheapest multiset is found by an exact branch and bound over the type counts
(``min_cover``).

Optional strengthening (``strengthen=True``, valid for the same reason): the
number of containers of a group is also at least the largest set of DG
classes present in the group that are pairwise incompatible, since those
shipments all need different containers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from .model import ContainerType, Instance, Shipment
from .rules import fits_alone

__all__ = ["Group", "group_shipments", "min_cover", "cover_multisets", "lower_bound", "group_bound"]


@dataclass(frozen=True)
class Group:
    destination: str
    reefer: bool
    shipments: tuple[Shipment, ...]
    setpoints: int  # temperature set points needed (reefer groups), else 0


def _stabbing_number(ranges: Sequence[tuple[float, float]]) -> int:
    """Minimum number of points hitting every interval (greedy by right end)."""
    count = 0
    point = float("-inf")
    for lo, hi in sorted(ranges, key=lambda r: (r[1], r[0])):
        if lo > point:
            count += 1
            point = hi
    return count


def group_shipments(shipments: Iterable[Shipment]) -> list[Group]:
    """Split shipments into groups that can never share containers across groups.

    Deterministic order: by destination, non-reefer before reefer, reefer
    components by their lowest temperature.
    """
    by_dest: dict[tuple[str, bool], list[Shipment]] = {}
    for s in shipments:
        by_dest.setdefault((s.destination, s.reefer), []).append(s)
    groups: list[Group] = []
    for (dest, reefer) in sorted(by_dest):
        ships = by_dest[(dest, reefer)]
        if not reefer:
            groups.append(Group(dest, False, tuple(ships), 0))
            continue
        # connected components of the interval-overlap graph
        order = sorted(ships, key=lambda s: (s.temp_range_c[0], s.temp_range_c[1], s.id))
        comp: list[Shipment] = []
        reach = float("-inf")
        for s in order:
            lo, hi = s.temp_range_c
            if comp and lo > reach:
                groups.append(Group(dest, True, tuple(comp), _stabbing_number([x.temp_range_c for x in comp])))
                comp = []
                reach = float("-inf")
            comp.append(s)
            reach = max(reach, hi)
        if comp:
            groups.append(Group(dest, True, tuple(comp), _stabbing_number([x.temp_range_c for x in comp])))
    return groups


def _ceil_div(a: float, b: float) -> int:
    if a <= 0:
        return 0
    # tolerate float noise: 2.0000000001 containers still counts as 2
    return max(0, math.ceil(a / b - 1e-9))


def min_cover(
    caps: Sequence[tuple[float, float, float]], weight: float, volume: float, min_count: int = 0
) -> tuple[float, tuple[int, ...]] | None:
    """Cheapest integer counts n_t with sum(n_t*P_t) >= weight, sum(n_t*U_t) >= volume,
    sum(n_t) >= min_count.  ``caps`` holds (cost, P, U) per type.

    Returns (cost, counts) -- ties broken by fewer containers -- or None when
    ``caps`` is empty and something must be covered.
    """
    sols = cover_multisets(caps, weight, volume, min_count, limit=1)
    return sols[0] if sols else None


def cover_multisets(
    caps: Sequence[tuple[float, float, float]],
    weight: float,
    volume: float,
    min_count: int = 0,
    limit: int = 1,
    cost_cap: float | None = None,
) -> list[tuple[float, tuple[int, ...]]]:
    """The ``limit`` cheapest covering count vectors (by cost, then count), exact.

    Only *minimal* vectors are listed: ones from which no container can be
    removed without losing cover (others are never useful).
    """
    n = len(caps)
    if weight <= 0 and volume <= 0 and min_count <= 0:
        return [(0.0, (0,) * n)]
    if n == 0:
        return []
    # process types in order of decreasing 'usefulness'; the last one closes the cover
    order = sorted(range(n), key=lambda i: (caps[i][0] / caps[i][2], caps[i][0] / caps[i][1], i), reverse=True)
    cs = [caps[i] for i in order]
    # suffix lower-bound rates
    rate_w = [0.0] * (n + 1)
    rate_v = [0.0] * (n + 1)
    min_c = [0.0] * (n + 1)
    rate_w[n] = rate_v[n] = min_c[n] = math.inf
    for i in range(n - 1, -1, -1):
        c, p, u = cs[i]
        rate_w[i] = min(rate_w[i + 1], c / p)
        rate_v[i] = min(rate_v[i + 1], c / u)
        min_c[i] = min(min_c[i + 1], c)

    results: list[tuple[float, int, tuple[int, ...]]] = []
    counts = [0] * n
    # the current worst kept cost bounds the search
    state = {"cap": math.inf if cost_cap is None else cost_cap + 1e-9}

    def keep(cost: float) -> None:
        tot = sum(counts)
        results.append((cost, tot, tuple(counts)))
        if len(results) > 4 * limit + 64:
            results.sort()
            del results[limit:]
        if len(results) >= limit:
            results.sort()
            del results[limit:]
            state["cap"] = min(state["cap"], results[-1][0])

    def rec(i: int, w: float, v: float, k: int, cost: float) -> None:
        c, p, u = cs[i]
        need = max(_ceil_div(w, p), _ceil_div(v, u), k, 0)
        if i == n - 1:
            counts[i] = need
            tot = cost + need * c
            if tot <= state["cap"] + 1e-9 and _minimal(cs, counts, w_all, v_all, min_count):
                keep(tot)
            counts[i] = 0
            return
        for m in range(need + 1):
            rw, rv, rk = w - m * p, v - m * u, k - m
            base = cost + m * c
            lb = max(
                rw * rate_w[i + 1] if rw > 0 else 0.0,
                rv * rate_v[i + 1] if rv > 0 else 0.0,
                rk * min_c[i + 1] if rk > 0 else 0.0,
            )
            if base + lb > state["cap"] + 1e-9:
                if base > state["cap"] + 1e-9:
                    break
                continue
            counts[i] = m
            if rw <= 0 and rv <= 0 and rk <= 0:
                if _minimal(cs, counts, w_all, v_all, min_count):
                    keep(base)
                counts[i] = 0
                break
            rec(i + 1, rw, rv, rk, base)
            counts[i] = 0

    w_all, v_all = weight, volume
    rec(0, weight, volume, min_count, 0.0)
    results.sort()
    out = []
    for cost, _tot, cnt in results[:limit]:
        full = [0] * n
        for j, i in enumerate(order):
            full[i] = cnt[j]
        out.append((cost, tuple(full)))
    return out


def _minimal(cs, counts, w, v, k) -> bool:
    """No single container can be dropped while still covering (w, v, k)."""
    tw = sum(m * c[1] for m, c in zip(counts, cs))
    tv = sum(m * c[2] for m, c in zip(counts, cs))
    tk = sum(counts)
    if tk - 1 < k:
        return True
    for m, (c, p, u) in zip(counts, cs):
        if m and tw - p >= w - 1e-9 and tv - u >= v - 1e-9:
            return False
    return True


def _group_types(inst: Instance, g: Group) -> list[ContainerType]:
    return [t for t in inst.container_types if t.reefer == g.reefer]


def _dg_clique(inst: Instance, ships: Sequence[Shipment]) -> int:
    """Largest set of pairwise-incompatible DG classes present (exact, tiny graphs)."""
    classes = sorted({s.dg_class for s in ships if s.dg_class is not None})
    if not classes:
        return 0
    best = 1
    # counts of a self-incompatible class: each shipment needs its own container
    for c in classes:
        if inst.conflicts(c, c):
            best = max(best, sum(1 for s in ships if s.dg_class == c))
    adj = {a: {b for b in classes if b != a and inst.conflicts(a, b)} for a in classes}

    def grow(clique: list[str], cand: list[str]) -> None:
        nonlocal best
        best = max(best, len(clique))
        for i, c in enumerate(cand):
            if len(clique) + len(cand) - i <= best:
                return
            grow(clique + [c], [d for d in cand[i + 1:] if d in adj[c]])

    grow([], classes)
    return best


def group_bound(inst: Instance, g: Group, strengthen: bool = False) -> tuple[float, tuple[int, ...]] | None:
    """(cost, counts per type of the group's kind) of the cheapest cover of ``g``."""
    types = _group_types(inst, g)
    weight = 0.0
    volume = 0.0
    for s in g.shipments:
        weight += s.weight_kg
        occ = [s.occupied_cbm(t) for t in types if fits_alone(inst, s, t)]
        volume += min(occ) if occ else s.volume_cbm
    k = g.setpoints if g.reefer else (1 if g.shipments else 0)
    if strengthen:
        k = max(k, _dg_clique(inst, g.shipments))
    caps = [(t.cost, inst.payload(t), t.usable_cbm) for t in types]
    return min_cover(caps, weight, volume, k)


def lower_bound(inst: Instance, shipments: Iterable[Shipment] | None = None, strengthen: bool = False) -> float:
    """Lower bound on the cost of packing ``shipments`` (default: all that fit some type)."""
    if shipments is None:
        from .rules import fits_some_type

        shipments = [s for s in inst.shipments if fits_some_type(inst, s)]
    total = 0.0
    for g in group_shipments(shipments):
        r = group_bound(inst, g, strengthen)
        if r is not None:
            total += r[0]
    return total
