"""``check_stuffing(instance, plan)``: the eight FORMAT.md rules, one message per breach.

Independent of the solver: it trusts nothing the plan says about itself.
Geometry is compared with ``EPS`` (centimetres) so that decimals and float
sums cannot turn a touching face into an overlap.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from .geometry import Boxes
from .io import plan_from_dict
from .model import AREA_EPS, EPS, SIDES, Instance, Placement, Plan, StuffingInputError

__all__ = ["check_stuffing", "overlap_1d"]


def overlap_1d(a1: float, a2: float, b1: float, b2: float) -> float:
    """Length of the overlap of [a1, a2] and [b1, b2] (0 when they only touch)."""
    return max(0.0, min(a2, b2) - max(a1, b1))


def _pairs(matrix: np.ndarray, rows: slice) -> list[tuple[int, int]]:
    """The (i, j) where a block of a relation's rows holds, i counted from the first placement."""
    firsts, seconds = np.nonzero(matrix)
    return list(zip((firsts + rows.start).tolist(), seconds.tolist()))


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

    boxes = Boxes(ps)
    non_stackable = np.fromiter((p.id in pieces and not pieces[p.id].stackable for p in ps), dtype=bool,
                                count=len(ps))
    lifted = boxes.z > EPS
    for rows in boxes.blocks():
        # 2. no overlap (touching faces is fine)
        for i, j in _pairs(boxes.overlapping(rows), rows):
            if j > i:
                errors.append(f"{_label(i, ps[i])}: overlaps {_label(j, ps[j])} (rule 2)")
        # 4. support, and 6a. supporters are loaded first
        area = boxes.support_area(rows)
        base = (boxes.x2[rows] - boxes.x[rows]) * (boxes.y2[rows] - boxes.y[rows])
        short = lifted[rows] & (area.sum(axis=1) + AREA_EPS < ratio * base)
        late = (area > 0.0) & (boxes.step[None, :] >= boxes.step[rows, None]) & lifted[rows, None]
        for k in np.flatnonzero(short).tolist():
            i = rows.start + k
            errors.append(f"{_label(i, ps[i])}: only {area[k].sum() / base[k]:.1%} of its base is supported, "
                          f"{ratio:.0%} is required (rule 4)")
        for i, j in _pairs(late, rows):
            errors.append(f"{_label(i, ps[i])}: its supporter {_label(j, ps[j])} is not loaded before it (rule 6)")
        # 5. nothing above a non-stackable package
        for i, j in _pairs(boxes.above(rows) & non_stackable[rows, None], rows):
            errors.append(f"{_label(j, ps[j])}: stands above the non-stackable {_label(i, ps[i])} (rule 5)")
        # 6b. nothing loaded earlier stands between a package and the door
        for i, j in _pairs(boxes.towards_door(rows) & (boxes.step[None, :] < boxes.step[rows, None]), rows):
            errors.append(f"{_label(i, ps[i])}: {_label(j, ps[j])} is loaded earlier and stands between it "
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
