"""20' containers in pairs (China Railway: two 20' share a flat wagon, to one destination, their weights
within ``pair_max_difference_kg`` of each other).

Applied to each group's packing when ``Instance.pair_20`` is set and the group's destination is not in
``single_20_destinations``:

1. an odd number of 20' containers is made even, at the least cost: one 20' becomes the cheapest
   larger type that holds its cargo, or its cargo is split over two 20' (one more 20');
2. the 20' are paired heaviest with next heaviest (which keeps the largest difference as small as any
   pairing can), and cargo is moved from the heavier to the lighter of a pair whose weights differ by
   ``pair_max_difference_kg`` or more, shipment by shipment, while that narrows the gap.

What cannot be mended (a shipment too heavy to balance, a 20' whose cargo neither splits nor fits a
larger type) is left as it is; ``twenty_problems`` reports it, and the consist refuses such a train.
"""

from __future__ import annotations

from .core import GroupData
from .model import Instance

Bins = list[tuple[int, list[int]]]


def applies(inst: Instance, destination: str) -> bool:
    return inst.pair_20 and destination not in inst.single_20_destinations


def _split(gd: GroupData, t: int, items: list[int]) -> tuple[list[int], list[int]] | None:
    """The items over two containers of type ``t``, weights as even as a greedy deal makes them."""
    a: list[int] = []
    b: list[int] = []
    wa = wb = 0.0
    for i in sorted(items, key=lambda i: (-gd.w[i], i)):
        first, second = (a, b) if wa <= wb else (b, a)
        for side in (first, second):
            if gd.holds(t, side + [i]) and gd.compatible(i, side):
                side.append(i)
                break
        else:
            return None
        wa, wb = sum(gd.w[i] for i in a), sum(gd.w[i] for i in b)
    return (a, b) if a and b else None


def _make_even(gd: GroupData, bins: Bins) -> Bins:
    twenties = [k for k, (t, _) in enumerate(bins) if gd.teu[t] == 1]
    if len(twenties) % 2 == 0:
        return bins
    best: tuple[float, int, Bins] | None = None
    for k in twenties:
        t, items = bins[k]
        rest = bins[:k] + bins[k + 1:]
        for u in range(gd.T):
            if gd.teu[u] >= 2 and gd.holds(u, items):
                option = (gd.cost[u] - gd.cost[t], 0, rest + [(u, items)])
                if best is None or option[:2] < best[:2]:
                    best = option
        halves = _split(gd, t, items)
        if halves is not None:
            option = (gd.cost[t], 1, rest + [(t, halves[0]), (t, halves[1])])
            if best is None or option[:2] < best[:2]:
                best = option
    return bins if best is None else best[2]


def _balance(gd: GroupData, bins: Bins, limit_kg: float) -> Bins:
    twenties = sorted((k for k, (t, _) in enumerate(bins) if gd.teu[t] == 1),
                      key=lambda k: (-sum(gd.w[i] for i in bins[k][1]), k))
    out = [(t, list(items)) for t, items in bins]
    for p in range(0, len(twenties) - 1, 2):
        heavy, light = out[twenties[p]], out[twenties[p + 1]]
        for _ in range(len(heavy[1]) + len(light[1])):
            gap = sum(gd.w[i] for i in heavy[1]) - sum(gd.w[i] for i in light[1])
            if abs(gap) < limit_kg:
                break
            if gap < 0:
                heavy, light = light, heavy
                gap = -gap
            movable = [i for i in heavy[1] if gd.w[i] < gap and len(heavy[1]) > 1
                       and gd.holds(light[0], light[1] + [i]) and gd.compatible(i, light[1])]
            if not movable:
                break
            i = min(movable, key=lambda i: (abs(gap / 2 - gd.w[i]), i))
            heavy[1].remove(i)
            light[1].append(i)
    return out


def pair_bins(gd: GroupData, bins: Bins) -> Bins:
    """The group's bins with its 20' containers made even in number and balanced in pairs."""
    inst = gd.inst
    if not applies(inst, gd.dest):
        return bins
    bins = _make_even(gd, [(t, items) for t, items in bins if items])
    return _balance(gd, bins, inst.pair_max_difference_kg)


def twenty_problems(inst: Instance, containers) -> list[str]:
    """Destinations whose 20' containers are odd in number, or pair with weights too far apart."""
    problems = []
    by_destination: dict[str, list[float]] = {}
    for c in containers:
        if inst.has_type(c.type) and inst.type_by_code(c.type).teu == 1 and applies(inst, c.destination):
            by_destination.setdefault(c.destination, []).append(c.weight_kg)
    for destination, weights in sorted(by_destination.items()):
        if len(weights) % 2:
            problems.append(f"{len(weights)} 20' containers to {destination}: a single 20' is not accepted there")
        weights.sort(reverse=True)
        for a, b in zip(weights[0::2], weights[1::2]):
            if a - b >= inst.pair_max_difference_kg:
                problems.append(f"20' pair to {destination}: {a:g} and {b:g} kg differ by "
                                f"{inst.pair_max_difference_kg:g} kg or more")
    return problems
