"""Loading order: number placements so that rule 6 holds.

A package must follow its supporters, and must go in before anything that
will stand between it and the door.  Both relations point up or towards the
door, so a geometric load has such an order unless packages interlock; we
take the topological order that loads front wall first, bottom up.
"""

from __future__ import annotations

import heapq
from dataclasses import replace
from typing import Sequence

import numpy as np

from .geometry import Boxes
from .model import EPS, Container, Placement

__all__ = ["assign_steps"]


def assign_steps(container: Container, placements: Sequence[Placement]) -> list[Placement] | None:
    """The placements in loading order with steps 1..n, or ``None`` when no order keeps rule 6."""
    ps = list(placements)
    n = len(ps)
    after: list[list[int]] = [[] for _ in range(n)]  # after[i]: placements that must come after i
    indegree = np.zeros(n, dtype=np.int64)
    boxes = Boxes(ps)
    floor = boxes.z <= EPS
    for rows in boxes.blocks():
        # i stands on j: j goes in first
        carried, carriers = np.nonzero(boxes.support_area(rows) > 0.0)
        carried += rows.start
        keep = ~floor[carried]
        for i, j in zip(carried[keep].tolist(), carriers[keep].tolist()):
            after[j].append(i)
        # j stands between i and the door: i goes in first
        firsts, seconds = np.nonzero(boxes.towards_door(rows))
        for i, j in zip((firsts + rows.start).tolist(), seconds.tolist()):
            after[i].append(j)
    for followers in after:
        np.add.at(indegree, followers, 1)
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
