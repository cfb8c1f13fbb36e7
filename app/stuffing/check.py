"""``check_stuffing(instance, plan)``: the eight FORMAT.md rules, one message per breach.

Independent of the solver: it trusts nothing the plan says about itself.
Geometry is compared with ``EPS`` (centimetres) so that decimals and float
sums cannot turn a touching face into an overlap.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from typing import Any, Iterable, Sequence

from .io import plan_from_dict
from .model import AREA_EPS, EPS, SIDES, Instance, Placement, Plan, StuffingInputError

__all__ = ["check_stuffing", "overlap_1d"]


def overlap_1d(a1: float, a2: float, b1: float, b2: float) -> float:
    """Length of the overlap of [a1, a2] and [b1, b2] (0 when they only touch)."""
    return max(0.0, min(a2, b2) - max(a1, b1))


class _Grid:
    """Buckets boxes by the cells their extent covers on two axes, to find neighbours fast."""

    def __init__(self, boxes: Sequence[Placement], axes: tuple[str, str], sizes: tuple[float, float], cells: int = 24):
        self.axes = axes
        self.step = (max(sizes[0], EPS) / cells, max(sizes[1], EPS) / cells)
        self.cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.boxes = boxes
        for i, b in enumerate(boxes):
            for key in self._keys(b):
                self.cells[key].append(i)

    def _span(self, b: Placement, k: int) -> range:
        axis = self.axes[k]
        lo = getattr(b, f"{axis}_cm")
        size = {"x": b.length_cm, "y": b.width_cm, "z": b.height_cm}[axis]
        return range(int((lo + EPS) // self.step[k]), int((lo + size - EPS) // self.step[k]) + 1)

    def _keys(self, b: Placement) -> Iterable[tuple[int, int]]:
        for u in self._span(b, 0):
            for v in self._span(b, 1):
                yield (u, v)

    def near(self, b: Placement) -> set[int]:
        out: set[int] = set()
        for key in self._keys(b):
            out.update(self.cells.get(key, ()))
        return out


def _label(i: int, p: Placement) -> str:
    return f"placements[{i}] ({p.id}, step {p.step})"


def _orientation_ok(p: Placement, dims: tuple[float, float, float], vertical: tuple[str, ...]) -> bool:
    side = dict(zip(SIDES, dims))
    for up in vertical:
        if abs(p.height_cm - side[up]) > EPS:
            continue
        rest = sorted(side[s] for s in SIDES if s != up)
        if all(abs(a - b) <= EPS for a, b in zip(sorted((p.length_cm, p.width_cm)), rest)):
            return True
    return False


def check_stuffing(inst: Instance, plan: Plan | dict[str, Any]) -> list[str]:
    """Every breach of FORMAT.md's eight rules, one message each; ``[]`` when the plan is valid."""
    if not isinstance(plan, Plan):
        try:
            plan = plan_from_dict(plan)
        except StuffingInputError as error:
            return [f"malformed plan: {error.field}: {error.message}"]
    c = inst.container
    pieces = {p.id: p for p in inst.pieces}
    ps = plan.placements
    errors: list[str] = []
    ratio = inst.support_ratio

    known = [(i, p) for i, p in enumerate(ps) if p.id in pieces]
    for i, p in enumerate(ps):
        if p.id not in pieces:
            errors.append(f"{_label(i, p)}: no piece line has this id (rule 8)")

    # 1. inside the container
    for i, p in known:
        if (p.x_cm < -EPS or p.y_cm < -EPS or p.z_cm < -EPS or p.x2 > c.length_cm + EPS
                or p.y2 > c.width_cm + EPS or p.z2 > c.height_cm + EPS):
            errors.append(f"{_label(i, p)}: lies outside the container (rule 1)")

    # 3. orientation
    for i, p in known:
        piece = pieces[p.id]
        if not _orientation_ok(p, piece.dims, piece.vertical):
            errors.append(
                f"{_label(i, p)}: {p.length_cm:g} x {p.width_cm:g} x {p.height_cm:g} is not the package "
                f"{piece.length_cm:g} x {piece.width_cm:g} x {piece.height_cm:g} standing on an allowed side "
                f"(vertical: {', '.join(piece.vertical)}) (rule 3)")

    # 2. no overlap (touching faces is fine)
    yz = _Grid(ps, ("y", "z"), (c.width_cm, c.height_cm))
    for i, p in enumerate(ps):
        for j in yz.near(p):
            if j <= i:
                continue
            q = ps[j]
            if (overlap_1d(p.x_cm, p.x2, q.x_cm, q.x2) > EPS and overlap_1d(p.y_cm, p.y2, q.y_cm, q.y2) > EPS
                    and overlap_1d(p.z_cm, p.z2, q.z_cm, q.z2) > EPS):
                errors.append(f"{_label(i, p)}: overlaps {_label(j, q)} (rule 2)")

    # 4. support, and 6a. supporters are loaded first
    by_top = sorted(range(len(ps)), key=lambda j: ps[j].z2)
    tops = [ps[j].z2 for j in by_top]
    xy = _Grid(ps, ("x", "y"), (c.length_cm, c.width_cm))
    for i, p in enumerate(ps):
        if abs(p.z_cm) <= EPS:
            continue
        near = xy.near(p)
        supported = 0.0
        late: list[int] = []
        for j in by_top[bisect_left(tops, p.z_cm - EPS):bisect_right(tops, p.z_cm + EPS)]:
            if j not in near or j == i:
                continue
            q = ps[j]
            area = overlap_1d(p.x_cm, p.x2, q.x_cm, q.x2) * overlap_1d(p.y_cm, p.y2, q.y_cm, q.y2)
            if area > AREA_EPS:
                supported += area
                if q.step >= p.step:
                    late.append(j)
        base = p.length_cm * p.width_cm
        if supported + AREA_EPS < ratio * base:
            errors.append(f"{_label(i, p)}: only {supported / base:.1%} of its base is supported, "
                          f"{ratio:.0%} is required (rule 4)")
        for j in late:
            errors.append(f"{_label(i, p)}: its supporter {_label(j, ps[j])} is not loaded before it (rule 6)")

    # 5. nothing above a non-stackable package
    for i, p in known:
        if pieces[p.id].stackable:
            continue
        for j in xy.near(p):
            q = ps[j]
            if j != i and q.z_cm >= p.z2 - EPS and overlap_1d(p.x_cm, p.x2, q.x_cm, q.x2) > EPS \
                    and overlap_1d(p.y_cm, p.y2, q.y_cm, q.y2) > EPS:
                errors.append(f"{_label(j, q)}: stands above the non-stackable {_label(i, p)} (rule 5)")

    # 6b. nothing loaded earlier stands between a package and the door
    for i, p in enumerate(ps):
        for j in yz.near(p):
            q = ps[j]
            if q.step < p.step and q.x_cm >= p.x2 - EPS and overlap_1d(p.y_cm, p.y2, q.y_cm, q.y2) > EPS \
                    and overlap_1d(p.z_cm, p.z2, q.z_cm, q.z2) > EPS:
                errors.append(f"{_label(i, p)}: {_label(j, q)} is loaded earlier and stands between it "
                              f"and the door (rule 6)")
    steps = Counter(p.step for p in ps)
    repeated = sorted(s for s, n in steps.items() if n > 1)
    if repeated:
        errors.append(f"steps {', '.join(map(str, repeated[:10]))} are given to more than one placement (rule 6)")

    # 7. payload
    weight = sum(pieces[p.id].weight_kg for _, p in known)
    if weight > c.payload_kg + AREA_EPS:
        errors.append(f"the placements weigh {weight:g} kg, over the payload of {c.payload_kg:g} kg (rule 7)")

    # 8. every package accounted for exactly
    placed = Counter(p.id for _, p in known)
    unplaced: Counter[str] = Counter()
    for u in plan.unplaced:
        if u.id not in pieces:
            errors.append(f"unplaced names {u.id!r}, which no piece line has (rule 8)")
        else:
            unplaced[u.id] += u.count
    for piece in inst.pieces:
        got = placed[piece.id] + unplaced[piece.id]
        if got != piece.count:
            errors.append(f"piece line {piece.id}: {placed[piece.id]} placed and {unplaced[piece.id]} unplaced, "
                          f"but the line has {piece.count} (rule 8)")
    return errors
