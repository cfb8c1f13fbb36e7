"""Loading order: number placements so that rule 6 holds.

A package must follow its supporters, and must go in before anything that
will stand between it and the door.  Both relations point up or towards the
door, so a geometric load has such an order unless packages interlock; we
take the topological order that loads front wall first, bottom up.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from dataclasses import replace
from typing import Sequence

from .check import _Grid, overlap_1d
from .model import AREA_EPS, EPS, Container, Placement

__all__ = ["assign_steps"]


def assign_steps(container: Container, placements: Sequence[Placement]) -> list[Placement] | None:
    """The placements in loading order with steps 1..n, or ``None`` when no order keeps rule 6."""
    ps = list(placements)
    n = len(ps)
    after: list[list[int]] = [[] for _ in range(n)]  # after[i]: placements that must come after i
    indegree = [0] * n
    xy = _Grid(ps, ("x", "y"), (container.length_cm, container.width_cm))
    yz = _Grid(ps, ("y", "z"), (container.width_cm, container.height_cm))
    by_top = sorted(range(n), key=lambda j: ps[j].z2)
    tops = [ps[j].z2 for j in by_top]
    for i, p in enumerate(ps):
        if p.z_cm > EPS:
            near = xy.near(p)
            for j in by_top[bisect_left(tops, p.z_cm - EPS):bisect_right(tops, p.z_cm + EPS)]:
                q = ps[j]
                if j != i and j in near and overlap_1d(p.x_cm, p.x2, q.x_cm, q.x2) * \
                        overlap_1d(p.y_cm, p.y2, q.y_cm, q.y2) > AREA_EPS:
                    after[j].append(i)
                    indegree[i] += 1
        for j in yz.near(p):
            q = ps[j]
            if j != i and q.x_cm >= p.x2 - EPS and overlap_1d(p.y_cm, p.y2, q.y_cm, q.y2) > EPS \
                    and overlap_1d(p.z_cm, p.z2, q.z_cm, q.z2) > EPS:
                after[i].append(j)  # q stands between p and the door: p goes in first
                indegree[j] += 1
    ready = [(p.x_cm, p.z_cm, p.y_cm, i) for i, p in enumerate(ps) if indegree[i] == 0]
    heapq.heapify(ready)
    out: list[Placement] = []
    while ready:
        *_, i = heapq.heappop(ready)
        out.append(replace(ps[i], step=len(out) + 1))
        for j in after[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                q = ps[j]
                heapq.heappush(ready, (q.x_cm, q.z_cm, q.y_cm, j))
    return out if len(out) == n else None
