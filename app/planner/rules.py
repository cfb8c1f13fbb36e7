"""The rules of FORMAT.md as small reusable functions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Sequence

from .model import EPS, ContainerType, Instance, Shipment

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def teu_from_code(code: str) -> int | None:
    """TEU of a container type from its code: 20-foot = 1, 40/45-foot = 2."""
    head = code[:2]
    if head == "20":
        return 1
    if head in ("40", "45"):
        return 2
    return None


def type_allows(ctype: ContainerType, s: Shipment) -> bool:
    """Reefer shipments only in reefer types, the others only in non-reefer types."""
    return ctype.reefer == s.reefer


def fits_alone(inst: Instance, s: Shipment, ctype: ContainerType, eps: float = EPS) -> bool:
    return (
        type_allows(ctype, s)
        and s.weight_kg <= inst.payload(ctype) + eps
        and s.occupied_cbm(ctype) <= ctype.usable_cbm + eps
    )


def fits_some_type(inst: Instance, s: Shipment) -> bool:
    return any(fits_alone(inst, s, t) for t in inst.container_types)


def temp_intersection(ranges: Iterable[tuple[float, float] | None]) -> tuple[float, float] | None:
    """Common set-point interval of the given ranges (None entries ignored).

    Returns (lo, hi) with lo <= hi, or None when the intersection is empty.
    With no ranges at all it returns (-inf, inf).
    """
    lo, hi = float("-inf"), float("inf")
    for r in ranges:
        if r is None:
            continue
        lo = max(lo, r[0])
        hi = min(hi, r[1])
    if lo > hi:
        return None
    return lo, hi


def dg_conflict_in(inst: Instance, classes: Sequence[str | None]) -> tuple[str, str] | None:
    """First pair of incompatible DG classes among ``classes`` (or None)."""
    present = sorted({c for c in classes if c is not None})
    for i, a in enumerate(present):
        if frozenset((a,)) in inst.dg_incompatible:
            # a class declared incompatible with itself: two shipments of it conflict
            if sum(1 for c in classes if c == a) > 1:
                return a, a
        for b in present[i + 1:]:
            if inst.conflicts(a, b):
                return a, b
    return None


def rollover_key(s: Shipment) -> tuple:
    """Sort key: the shipment rolled over first sorts first.

    Lowest priority first, then latest booked_at (a missing booked_at counts
    as latest), then the id (descending) so that the order is total.
    """
    if s.booked_at is None:
        booked = float("-inf")
    else:
        booked = -(s.booked_at - _EPOCH).total_seconds()
    return (s.priority, booked, _Desc(s.id))


class _Desc:
    """Wraps a string so that it sorts in descending order."""

    __slots__ = ("v",)

    def __init__(self, v: str) -> None:
        self.v = v

    def __lt__(self, other: "_Desc") -> bool:
        return self.v > other.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v


def rollover_rank(s: Shipment) -> tuple:
    """Like rollover_key, without the id tie-break (shipments that tie here may
    be rolled over in either order)."""
    return rollover_key(s)[:2]
