"""Builders, an independent brute-force enumerator and an itinerary checker.

Everything here works on the public input objects (Hub/Trip/Call with aware
datetimes) and never touches the search's internal index, so it is a genuine
second implementation of the rules in app/routing/search.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable, Optional, Sequence
from zoneinfo import ZoneInfo

from app.routing.search import Call, Hub, Itinerary, Trip

UTC = timezone.utc


def at(tz: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0, *, fold: int = 0) -> datetime:
    """Wall-clock time in zone ``tz`` (aware)."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz), fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def trip(
    id: str,
    stops: Sequence[tuple],
    *,
    service: Optional[str] = None,
    mode: str = "RAIL",
    cutoff_hours: float = 0,
    full: bool = False,
    price_key: Optional[str] = None,
) -> Trip:
    """``stops``: (hub, arrives_at, departs_at) triples; first arrives and last
    departs may be None.  Each boarding call gets cutoff = departs - cutoff_hours
    unless the triple has a 4th element (explicit cutoff, or None = no boarding)."""
    calls = []
    for s in stops:
        hub, arr, dep = s[0], s[1], s[2]
        if len(s) > 3:
            cut = s[3]
        else:
            cut = None if dep is None else dep - timedelta(hours=cutoff_hours)
        calls.append(Call(hub, arr, dep, cut))
    return Trip(id, service or id, mode, tuple(calls), full=full, price_key=price_key)


def table_price(table: dict) -> Callable:
    """price_fn from {(trip_id, board, alight): price or None}; missing = None."""

    def price_fn(t: Trip, board: str, alight: str):
        v = table.get((t.id, board, alight))
        return None if v is None else Decimal(v)

    return price_fn


def brute_force(
    hubs: Sequence[Hub],
    trips: Sequence[Trip],
    origin: str,
    destination: str,
    ready_at: datetime,
    *,
    price_fn: Callable,
    max_legs: int = 4,
    exclude: Optional[Callable[[Trip], bool]] = None,
    horizon_days: float = 60,
) -> list[tuple]:
    """Every feasible itinerary as (arrives_at, price, n_legs, path)."""
    handling = {h.code: h.handling_hours * 3600 for h in hubs}
    horizon_end = ready_at.timestamp() + horizon_days * 86400
    out: list[tuple] = []

    def rec(hub: str, avail: float, price: Decimal, path: list) -> None:
        if len(path) == max_legs:
            return
        for t in trips:
            if t.full or (exclude is not None and exclude(t)):
                continue
            for i, ci in enumerate(t.calls):
                if ci.hub != hub or ci.cutoff_at is None:
                    continue
                if ci.cutoff_at.timestamp() < avail or ci.cutoff_at.timestamp() > horizon_end:
                    continue
                for j in range(i + 1, len(t.calls)):
                    cj = t.calls[j]
                    if cj.arrives_at is None or cj.hub == hub:
                        continue
                    pr = price_fn(t, ci.hub, cj.hub)
                    if pr is None:
                        continue
                    new_path = path + [(t.id, i, j)]
                    if cj.hub == destination:
                        out.append((cj.arrives_at, price + pr, len(new_path), new_path))
                    rec(cj.hub, cj.arrives_at.timestamp() + handling[cj.hub], price + pr, new_path)

    rec(origin, ready_at.timestamp(), Decimal(0), [])
    return out


def pareto_criteria(options: Sequence[tuple]) -> set[tuple]:
    """Pareto-minimal (utc_timestamp, price, n_legs) tuples, duplicates merged."""
    crit = {(o[0].timestamp(), o[1], o[2]) for o in options}
    return {
        a
        for a in crit
        if not any(b != a and b[0] <= a[0] and b[1] <= a[1] and b[2] <= a[2] for b in crit)
    }


def result_criteria(result: Sequence[Itinerary]) -> set[tuple]:
    return {(it.arrives_at.timestamp(), it.price, it.n_legs) for it in result}


def _same(a: Optional[datetime], b: datetime) -> bool:
    return a is not None and a.timestamp() == b.timestamp()


def check_itinerary(
    it: Itinerary,
    hubs: Sequence[Hub],
    trips: Sequence[Trip],
    origin: str,
    destination: str,
    ready_at: datetime,
    *,
    price_fn: Callable,
    max_legs: int = 4,
    exclude: Optional[Callable[[Trip], bool]] = None,
    horizon_days: float = 60,
) -> None:
    """Assert that ``it`` obeys every rule, re-deriving it from the inputs."""
    by_id = {t.id: t for t in trips}
    handling = {h.code: h.handling_hours * 3600 for h in hubs}
    assert 1 <= len(it.legs) <= max_legs
    assert it.legs[0].from_hub == origin
    assert it.legs[-1].to_hub == destination
    avail = ready_at.timestamp()
    total = Decimal(0)
    for n, leg in enumerate(it.legs):
        t = by_id[leg.trip_id]
        assert not t.full
        assert exclude is None or not exclude(t)
        assert leg.service_code == t.service_code and leg.mode == t.mode
        # find the calls this leg uses
        matches = [
            (i, j)
            for i, ci in enumerate(t.calls)
            for j, cj in enumerate(t.calls)
            if i < j
            and ci.hub == leg.from_hub
            and cj.hub == leg.to_hub
            # instants, not ==: PEP 495 makes == False across zones for
            # ambiguous (DST fold) wall-clock times
            and _same(ci.cutoff_at, leg.cutoff_at)
            and _same(ci.departs_at, leg.departs_at)
            and _same(cj.arrives_at, leg.arrives_at)
        ]
        assert matches, f"leg {n} does not match trip {t.id}"
        assert leg.cutoff_at.timestamp() >= avail, f"leg {n} misses its cut-off"
        assert leg.cutoff_at.timestamp() <= ready_at.timestamp() + horizon_days * 86400
        for dt in (leg.cutoff_at, leg.departs_at, leg.arrives_at):
            assert dt.utcoffset() == timedelta(0)
        pr = price_fn(t, leg.from_hub, leg.to_hub)
        assert pr is not None and pr == leg.price
        total += pr
        avail = leg.arrives_at.timestamp() + handling[leg.to_hub]
    assert total == it.price
    assert _same(it.arrives_at, it.legs[-1].arrives_at)
