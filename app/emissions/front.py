"""The Pareto front: which of a set of options no other option beats (pure).

An option is dropped only when another is at least as good on every criterion and better on one
(lower is better on each). Among options equal on every criterion, the first is kept.
"""

from __future__ import annotations

from collections.abc import Sequence


def dominates(a: Sequence, b: Sequence) -> bool:
    """``a`` is no worse than ``b`` on every criterion and better on one."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def front(points: Sequence[Sequence]) -> list[int]:
    """Indices, in input order, of the points that no other point dominates (first of equal points)."""
    kept: list[int] = []
    seen: set[tuple] = set()
    for i, p in enumerate(points):
        key = tuple(p)
        if key in seen or any(dominates(q, p) for j, q in enumerate(points) if j != i):
            continue
        seen.add(key)
        kept.append(i)
    return kept
