"""Fill what the block building left: single packages put into gaps of a finished load.

Block building gives up a free space it cannot use at the time; a package left over may
still fit somewhere once the load is done, often across the edge of two spaces.  Each left
package (largest first) is tried at the corners the load offers (beside, behind and on top
of every placed package) in each allowed orientation; the first position from the front
wall that is inside, overlaps nothing, is supported by ``support_ratio`` and keeps rule 5
is taken.  Vectorised with numpy: positions x placed packages at once.
"""

from __future__ import annotations

import time

import numpy as np

from .model import AREA_EPS, EPS, Instance, Placement

__all__ = ["fill_gaps"]


def fill_gaps(inst: Instance, placements: list[Placement], deadline: float) -> list[Placement]:
    """``placements`` plus whatever left-over packages fit in its gaps (steps to be assigned afterwards)."""
    c = inst.container
    kinds = {p.id: k for k, p in enumerate(inst.pieces)}
    left = [p.count for p in inst.pieces]
    for pl in placements:
        left[kinds[pl.id]] -= 1
    if not any(left):
        return placements
    out = list(placements)
    weight = sum(inst.pieces[kinds[pl.id]].weight_kg for pl in out)
    boxes = np.array([[p.x_cm, p.y_cm, p.z_cm, p.x2, p.y2, p.z2] for p in out], dtype=float).reshape(-1, 6)
    stack = np.array([inst.pieces[kinds[p.id]].stackable for p in out], dtype=bool)
    ratio = inst.support_ratio
    order = sorted((k for k in range(len(left)) if left[k] > 0), key=lambda k: -inst.pieces[k].volume)
    for k in order:
        piece = inst.pieces[k]
        while left[k] > 0 and time.monotonic() < deadline:
            if weight + piece.weight_kg > c.payload_kg + 1e-9:
                break
            spot = _find(boxes, stack, piece.orientations(), piece.stackable, ratio,
                         (c.length_cm, c.width_cm, c.height_cm))
            if spot is None:
                break
            x, y, z, l, w, h = spot
            out.append(Placement(piece.id, x, y, z, l, w, h, 0))
            boxes = np.vstack([boxes, [x, y, z, x + l, y + w, z + h]])
            stack = np.append(stack, piece.stackable)
            weight += piece.weight_kg
            left[k] -= 1
    return out


def _find(boxes, stack, shapes, stackable: bool, ratio: float, size) -> tuple | None:
    L, W, H = size
    x1, y1, z1, x2, y2, z2 = (boxes[:, i] for i in range(6))
    zeros = np.zeros_like(x1)
    px = np.concatenate([[0.0], x2, x1, x1[stack]])
    py = np.concatenate([[0.0], y1, y2, y1[stack]])
    pz = np.concatenate([[0.0], z1, z1, z2[stack]])
    del zeros
    points = np.unique(np.stack([px, py, pz], axis=1), axis=0)
    best = None
    for l, w, h in shapes:
        cx, cy, cz = points[:, 0:1], points[:, 1:2], points[:, 2:3]
        inside = (cx[:, 0] + l <= L + EPS) & (cy[:, 0] + w <= W + EPS) & (cz[:, 0] + h <= H + EPS)
        if not inside.any():
            continue
        cx, cy, cz = cx[inside], cy[inside], cz[inside]
        ox = np.minimum(cx + l, x2) - np.maximum(cx, x1)
        oy = np.minimum(cy + w, y2) - np.maximum(cy, y1)
        oz = np.minimum(cz + h, z2) - np.maximum(cz, z1)
        foot = (ox > EPS) & (oy > EPS)
        ok = ~(foot & (oz > EPS)).any(axis=1)
        # support: tops at exactly its z under its base
        on_top = foot & (np.abs(z2 - cz) <= EPS)
        area = np.where(on_top, np.clip(ox, 0, None) * np.clip(oy, 0, None), 0.0).sum(axis=1)
        ok &= (np.abs(cz[:, 0]) <= EPS) | (area + AREA_EPS >= ratio * l * w)
        # rule 5: nothing non-stackable below it, and if it is non-stackable nothing above it
        ok &= ~(foot & (z2 <= cz + EPS) & ~stack).any(axis=1)
        if not stackable:
            ok &= ~(foot & (z1 >= cz + h - EPS)).any(axis=1)
        idx = np.flatnonzero(ok)
        if not idx.size:
            continue
        keys = np.lexsort((cy[idx, 0], cz[idx, 0], cx[idx, 0]))
        i = idx[keys[0]]
        cand = (float(cx[i, 0]), float(cz[i, 0]), float(cy[i, 0]))
        if best is None or cand < best[0]:
            best = (cand, (cand[0], cand[2], cand[1], l, w, h))
    return None if best is None else best[1]
