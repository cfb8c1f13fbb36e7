"""Pure multi-criteria itinerary search for LCL freight (no I/O, no app imports).

Model
-----
* :class:`Hub` -- a terminal with an IANA time zone and a minimum transfer
  (handling) time in hours.
* :class:`Trip` -- one scheduled departure of a service (any :class:`Mode`),
  calling at two or more hubs in order (:class:`Call`).  Cargo may board at any
  call that has a ``cutoff_at`` and leave at any *later* call that has an
  ``arrives_at``, staying on board in between (no transfer, no handling).
* All datetimes at the API boundary must be timezone-aware (naive ones raise
  :class:`ValueError`); internally everything is UTC epoch microseconds (int, exact), so the
  hubs' zones only matter for presentation (:meth:`Network.local_times`) and for
  turning local wall-clock input into instants (:meth:`Network.at_hub`).

Rules of :func:`search`
-----------------------
* The cargo is at ``origin`` at ``ready_at``.  No handling is added at the
  origin nor at the destination (the itinerary arrives when the last trip
  arrives).
* To board a trip at hub H the cargo must be at H no later than that call's
  ``cutoff_at`` (``available <= cutoff_at``, equality allowed).
* After arriving at a transfer hub, the cargo is available there only
  ``handling_hours`` later: ``arrives_at + handling <= next cutoff_at``.
* Full trips (``Trip.full``) are never boarded; ``exclude`` lets the caller
  drop more trips (e.g. services that cannot take the cargo's DG class).
* Boardings whose ``cutoff_at`` is later than ``ready_at + horizon_days`` are
  ignored.
* ``price_fn(trip, board_hub_code, alight_hub_code)`` returns a non-negative
  :class:`~decimal.Decimal` (or ``None`` = cannot carry); an itinerary's price
  is the sum over its legs.
* A leg whose board and alight hubs are the same hub is never used.
* Alighting from a trip and re-boarding the same trip later (a separate
  booking) is allowed if the handling time fits; it is just another leg.

The result is the Pareto set over (arrival instant, price, number of legs):
no returned itinerary is matched or beaten on all three by another feasible
itinerary with at most ``max_legs`` legs.  When two itineraries tie on all
three criteria only one (the first found, deterministically) is returned.
Results are ordered by arrival, then price, then number of legs.

Algorithm
---------
A round-based multi-criteria search in the spirit of McRAPTOR (Delling, Pajor,
Werneck, "Round-Based Public Transit Routing"): round *k* extends the labels
created in round *k-1* by one leg.  Each hub keeps a Pareto bag over
(available instant, price); a new label is kept only if no label with at most
as many legs matches or beats it.  Per hub and round, the departures are
scanned once in cut-off order (bisect into a per-hub index) while a pointer
walks the hub's labels, so each boarding uses the cheapest label that makes
the cut-off.  Target pruning uses the destination's bag together with
per-destination lower bounds (minimum travel time incl. handling and minimum
number of legs to the destination), computed lazily from a static hub graph
and cached on the :class:`Network`.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Callable, Collection, Iterable, NamedTuple, Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Mode",
    "Hub",
    "Call",
    "Trip",
    "Leg",
    "Itinerary",
    "LocalTimes",
    "Network",
    "PriceFn",
    "search",
]

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_US_PER_HOUR = 3_600_000_000
_INF = math.inf
_ZERO = Decimal(0)


class Mode(str, Enum):
    RAIL = "RAIL"
    WATER = "WATER"
    AIR = "AIR"
    ROAD = "ROAD"


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value!r}")


def _ts(value: datetime, what: str) -> int:
    """Aware datetime -> UTC epoch microseconds (exact)."""
    _require_aware(value, what)
    return (value - _EPOCH) // _MICRO


# --------------------------------------------------------------------------
# Input model
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hub:
    """A terminal.  ``timezone``: IANA name; ``handling_hours``: minimum time
    (hours, >= 0) between a trip's arrival here and the next boarding cut-off."""

    code: str
    timezone: str
    handling_hours: float = 0.0

    def __post_init__(self) -> None:
        if not self.code:
            raise ValueError("hub code must be non-empty")
        if not (self.handling_hours >= 0) or math.isinf(self.handling_hours):
            raise ValueError(f"hub {self.code}: handling_hours must be finite and >= 0")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"hub {self.code}: unknown time zone {self.timezone!r}") from exc


@dataclass(frozen=True, slots=True)
class Call:
    """One stop of a trip.  All times are aware datetimes (or ``None``):

    * ``arrives_at`` -- when the trip arrives (``None`` on the first call, or
      for pick-up-only calls: cargo cannot leave the trip here);
    * ``departs_at`` -- when it leaves (``None`` on the last call);
    * ``cutoff_at`` -- latest instant the cargo must be at this hub to board
      here (``None``: no boarding here).  Requires ``departs_at``.
    """

    hub: str
    arrives_at: Optional[datetime] = None
    departs_at: Optional[datetime] = None
    cutoff_at: Optional[datetime] = None

    def __post_init__(self) -> None:
        for name in ("arrives_at", "departs_at", "cutoff_at"):
            v = getattr(self, name)
            if v is not None:
                _require_aware(v, f"call at {self.hub}: {name}")
        if self.cutoff_at is not None:
            if self.departs_at is None:
                raise ValueError(f"call at {self.hub}: cutoff_at requires departs_at")
            if self.cutoff_at > self.departs_at:
                raise ValueError(f"call at {self.hub}: cutoff_at after departs_at")
        if self.arrives_at is not None and self.departs_at is not None:
            if self.arrives_at > self.departs_at:
                raise ValueError(f"call at {self.hub}: arrives_at after departs_at")


@dataclass(frozen=True, slots=True)
class Trip:
    """One departure of a service.  ``price_key`` is opaque to the search and
    meant for the caller's ``price_fn`` (e.g. a tariff id)."""

    id: str
    service_code: str
    mode: Mode
    calls: tuple[Call, ...]
    full: bool = False
    price_key: Optional[str] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", Mode(self.mode))
        object.__setattr__(self, "calls", tuple(self.calls))
        if len(self.calls) < 2:
            raise ValueError(f"trip {self.id}: needs at least two calls")
        prev: Optional[datetime] = None
        for n, c in enumerate(self.calls):
            if n > 0 and c.arrives_at is None and c.departs_at is None:
                raise ValueError(f"trip {self.id}: call {n} at {c.hub} has no times")
            for t in (c.arrives_at, c.departs_at):
                if t is not None:
                    if prev is not None and t < prev:
                        raise ValueError(f"trip {self.id}: call times go backwards at {c.hub}")
                    prev = t
        if self.calls[0].departs_at is None:
            raise ValueError(f"trip {self.id}: first call needs departs_at")


def _handling_us(hub: Hub) -> int:
    return int(round(hub.handling_hours * _US_PER_HOUR))


PriceFn = Callable[[Trip, str, str], Optional[Decimal]]


# --------------------------------------------------------------------------
# Output model
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leg:
    """A ride on one trip from ``from_hub`` to ``to_hub`` (hub codes).  Times
    are aware datetimes in UTC; ``price`` is this leg's ``price_fn`` value."""

    trip_id: str
    service_code: str
    mode: Mode
    from_hub: str
    to_hub: str
    cutoff_at: datetime
    departs_at: datetime
    arrives_at: datetime
    price: Decimal


@dataclass(frozen=True, slots=True)
class Itinerary:
    """``ready_at``/``arrives_at`` are aware UTC datetimes; ``price`` is the
    sum of the legs' prices."""

    legs: tuple[Leg, ...]
    ready_at: datetime
    arrives_at: datetime
    price: Decimal

    @property
    def n_legs(self) -> int:
        return len(self.legs)

    @property
    def departs_at(self) -> datetime:
        return self.legs[0].departs_at

    @property
    def transit_hours(self) -> float:
        """Hours from ``ready_at`` to ``arrives_at``."""
        return (self.arrives_at - self.ready_at) / timedelta(hours=1)

    def criteria(self) -> tuple[datetime, Decimal, int]:
        return (self.arrives_at, self.price, len(self.legs))


class LocalTimes(NamedTuple):
    """A leg's times as wall-clock times of the hub where each happens."""

    cutoff_at: datetime  # in the from-hub's zone
    departs_at: datetime  # in the from-hub's zone
    arrives_at: datetime  # in the to-hub's zone


# --------------------------------------------------------------------------
# Network index
# --------------------------------------------------------------------------


@dataclass(eq=False)
class Network:
    """Index over hubs and trips; build it once with :meth:`Network.build`
    and share it between queries (treat it as read-only; the only state a
    query adds is a per-destination cache of lower bounds)."""

    hubs: dict[str, Hub]
    trips: dict[str, Trip]
    # --- internals (indices are hub/trip positions) ---
    _hub_codes: list[str] = field(repr=False)
    _hub_idx: dict[str, int] = field(repr=False)
    _zones: list[ZoneInfo] = field(repr=False)
    _trip_list: list[Trip] = field(repr=False)
    # per hub: boarding cutoffs (sorted) and parallel entries
    # (trip_idx, call_idx, alights) with alights = ((pair_id, call_j, hub_j, arr_j, avail_j), ...);
    # pair_id numbers each (trip, board call, alight call) for per-query price caching
    _cut: list[list[int]] = field(repr=False)
    _ent: list[list[tuple]] = field(repr=False)
    # reverse static graph for lower bounds: v -> [(u, min (arr_v - cutoff_u))]
    _redges: list[list[tuple[int, int]]] = field(repr=False)
    _bounds_cache: dict[int, tuple[list[float], list[float]]] = field(repr=False, default_factory=dict)

    @classmethod
    def build(cls, hubs: Iterable[Hub], trips: Iterable[Trip]) -> "Network":
        hub_list = list(hubs)
        hub_idx: dict[str, int] = {}
        for h in hub_list:
            if h.code in hub_idx:
                raise ValueError(f"duplicate hub {h.code}")
            hub_idx[h.code] = len(hub_idx)
        n = len(hub_list)
        handling = [_handling_us(h) for h in hub_list]
        trip_list = list(trips)
        trips_by_id: dict[str, Trip] = {}
        raw: list[list[tuple[int, int, int, tuple]]] = [[] for _ in range(n)]
        best_edge: dict[tuple[int, int], int] = {}
        pair_id = 0
        for ti, trip in enumerate(trip_list):
            if trip.id in trips_by_id:
                raise ValueError(f"duplicate trip id {trip.id}")
            trips_by_id[trip.id] = trip
            calls = []
            for c in trip.calls:
                if c.hub not in hub_idx:
                    raise ValueError(f"trip {trip.id}: unknown hub {c.hub}")
                calls.append(
                    (
                        hub_idx[c.hub],
                        None if c.arrives_at is None else _ts(c.arrives_at, "arrives_at"),
                        None if c.departs_at is None else _ts(c.departs_at, "departs_at"),
                        None if c.cutoff_at is None else _ts(c.cutoff_at, "cutoff_at"),
                    )
                )
            if trip.full:
                continue
            for i, (hi, _a, dep_i, cut_i) in enumerate(calls):
                if cut_i is None:
                    continue
                alights = []
                for j in range(i + 1, len(calls)):
                    hj, arr_j, _d, _c = calls[j]
                    if arr_j is None or hj == hi:
                        continue
                    alights.append((pair_id, j, hj, arr_j, arr_j + handling[hj]))
                    pair_id += 1
                    w = arr_j - cut_i
                    key = (hi, hj)
                    if w < best_edge.get(key, _INF):
                        best_edge[key] = w
                if alights:
                    raw[hi].append((cut_i, dep_i, ti, i, tuple(alights)))
        cut: list[list[int]] = []
        ent: list[list[tuple]] = []
        for lst in raw:
            lst.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
            cut.append([r[0] for r in lst])
            ent.append([(r[2], r[3], r[4]) for r in lst])
        redges: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for (u, v), w in sorted(best_edge.items()):
            redges[v].append((u, w))
        return cls(
            hubs={h.code: h for h in hub_list},
            trips=trips_by_id,
            _hub_codes=[h.code for h in hub_list],
            _hub_idx=hub_idx,
            _zones=[ZoneInfo(h.timezone) for h in hub_list],
            _trip_list=trip_list,
            _cut=cut,
            _ent=ent,
            _redges=redges,
        )

    @property
    def n_boardings(self) -> int:
        """Number of (trip, boarding call) entries in the index."""
        return sum(len(c) for c in self._cut)

    # -- time zone helpers -------------------------------------------------

    def zone(self, hub: str) -> ZoneInfo:
        return self._zones[self._index(hub)]

    def at_hub(self, hub: str, local: datetime, *, fold: int = 0) -> datetime:
        """Interpret a naive wall-clock time at ``hub`` and return the aware
        UTC instant (``fold`` picks the occurrence of an ambiguous time).  An
        aware datetime is simply converted to UTC."""
        if local.tzinfo is not None:
            _require_aware(local, "local")
            return local.astimezone(UTC)
        return local.replace(tzinfo=self.zone(hub), fold=fold).astimezone(UTC)

    def local_times(self, leg: Leg) -> LocalTimes:
        """A leg's cut-off and departure in the from-hub's zone and its arrival
        in the to-hub's zone."""
        zf, zt = self.zone(leg.from_hub), self.zone(leg.to_hub)
        return LocalTimes(
            leg.cutoff_at.astimezone(zf), leg.departs_at.astimezone(zf), leg.arrives_at.astimezone(zt)
        )

    # -- internals -----------------------------------------------------------

    def _index(self, hub: str) -> int:
        try:
            return self._hub_idx[hub]
        except KeyError:
            raise ValueError(f"unknown hub {hub!r}") from None

    def _bounds(self, dest: int) -> tuple[list[float], list[float]]:
        """Per hub u: a lower bound on (arrival at dest - availability at u),
        and the minimum number of legs from u to dest (inf if unreachable).
        Ignores timetables' timing, so valid for every query and filter."""
        cached = self._bounds_cache.get(dest)
        if cached is not None:
            return cached
        n = len(self._hub_codes)
        handling = [_handling_us(self.hubs[c]) for c in self._hub_codes]
        dist: list[float] = [_INF] * n
        dist[dest] = 0
        heap: list[tuple[float, int]] = [(0, dest)]
        while heap:
            dv, v = heapq.heappop(heap)
            if dv > dist[v]:
                continue
            via = 0 if v == dest else dv + handling[v]
            for u, w in self._redges[v]:
                du = via + w
                if du < dist[u]:
                    dist[u] = du
                    heapq.heappush(heap, (du, u))
        hops: list[float] = [_INF] * n
        hops[dest] = 0
        q = deque([dest])
        while q:
            v = q.popleft()
            for u, _w in self._redges[v]:
                if hops[u] == _INF:
                    hops[u] = hops[v] + 1
                    q.append(u)
        # dist[dest] is 0 by definition; the search never expands the destination.
        self._bounds_cache[dest] = (dist, hops)
        return dist, hops

    def _bounds_to_any(self, dests: tuple[int, ...]) -> tuple[list[float], list[float]]:
        """``_bounds`` to the nearest of several destinations (element-wise minimum: still lower bounds)."""
        if len(dests) == 1:
            return self._bounds(dests[0])
        pairs = [self._bounds(d) for d in dests]
        return [min(col) for col in zip(*(p[0] for p in pairs))], [min(col) for col in zip(*(p[1] for p in pairs))]


# --------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------


class _Label:
    __slots__ = ("avail", "arr", "price", "parent", "trip", "i", "j", "leg_price", "alive", "legs")

    def __init__(self, avail, arr, price, parent, trip, i, j, leg_price, legs):
        self.avail = avail
        self.arr = arr
        self.price = price
        self.parent = parent
        self.trip = trip
        self.i = i
        self.j = j
        self.leg_price = leg_price
        self.legs = legs
        self.alive = True


class _Front:
    """Pareto front over (time, price), both minimised: prices ascending,
    times strictly descending."""

    __slots__ = ("prices", "times", "labels")

    def __init__(self) -> None:
        self.prices: list = []
        self.times: list = []
        self.labels: list = []

    def best_time(self, price) -> float:
        """Earliest time among entries with price <= ``price``."""
        k = bisect_right(self.prices, price)
        return self.times[k - 1] if k else _INF

    def insert(self, t, price, label) -> bool:
        """Insert unless matched or beaten; drop the entries it beats."""
        k = bisect_right(self.prices, price)
        if k and self.times[k - 1] <= t:
            return False
        self.add(t, price, label)
        return True

    def add(self, t, price, label) -> None:
        """Insert an entry known not to be matched or beaten (see insert)."""
        prices, times, labels = self.prices, self.times, self.labels
        # entries before k have a lower price and (not beaten) a later time;
        # from k on, drop those with a later-or-equal time.
        k = bisect_left(prices, price)
        m = k
        while m < len(prices) and times[m] >= t:
            labels[m].alive = False
            m += 1
        prices[k:m] = [price]
        times[k:m] = [t]
        labels[k:m] = [label]


def _as_exclude(exclude) -> Optional[Callable[[Trip], bool]]:
    if exclude is None:
        return None
    if callable(exclude):
        return exclude
    if isinstance(exclude, str):
        raise TypeError("exclude must be a callable or a collection of service codes, not a str")
    codes = frozenset(exclude)
    return lambda trip: trip.service_code in codes


def search(
    network: Network,
    origin: str,
    destination: str,
    ready_at: datetime,
    *,
    price_fn: PriceFn,
    max_legs: int = 4,
    exclude: Union[Callable[[Trip], bool], Collection[str], None] = None,
    horizon_days: float = 60.0,
) -> list[Itinerary]:
    """Pareto-optimal itineraries over (arrival, price, number of legs).

    ``origin``/``destination`` are hub codes; ``ready_at`` is an aware
    datetime; ``exclude`` is a predicate ``trip -> bool`` (True = do not use)
    or a collection of service codes to avoid.  See the module docstring for
    the rules.  Returns ``[]`` when nothing is feasible.
    """
    if network._index(origin) == network._index(destination):
        raise ValueError("origin and destination are the same hub")
    return search_many(network, [origin], [destination], ready_at, price_fn=price_fn, max_legs=max_legs,
                       exclude=exclude, horizon_days=horizon_days)


def search_many(
    network: Network,
    origins: Collection[str],
    destinations: Collection[str],
    ready_at: datetime,
    *,
    price_fn: PriceFn,
    max_legs: int = 4,
    exclude: Union[Callable[[Trip], bool], Collection[str], None] = None,
    horizon_days: float = 60.0,
) -> list[Itinerary]:
    """``search`` from any of ``origins`` to any of ``destinations`` in one pass: the Pareto set of the
    union of every pair's itineraries (the cargo is ready at every origin at ``ready_at``; an itinerary
    ends at the first destination it reaches, as going on could only make it later, dearer and longer).

    ``origins`` and ``destinations`` must not share a hub (an itinerary could then end where it began).
    Returns ``[]`` when nothing is feasible.
    """
    net = network
    ds = tuple(sorted({net._index(code) for code in destinations}))
    os_ = sorted({net._index(code) for code in origins})
    if set(os_) & set(ds):
        raise ValueError("origins and destinations share a hub")
    if max_legs < 1:
        raise ValueError("max_legs must be >= 1")
    t0 = _ts(ready_at, "ready_at")
    if not horizon_days >= 0:
        raise ValueError("horizon_days must be >= 0")
    hend = t0 + int(round(horizon_days * 24 * _US_PER_HOUR))
    if not ds or not os_:
        return []
    dist, hops = net._bounds_to_any(ds)
    os_ = [o for o in os_ if hops[o] <= max_legs]
    if not os_:
        return []
    is_dest = [False] * len(net._hub_codes)
    for d in ds:
        is_dest[d] = True
    excl = _as_exclude(exclude)
    trips = net._trip_list
    codes = net._hub_codes
    cut_idx, ent_idx = net._cut, net._ent

    excluded: dict[int, bool] = {}
    prices: dict[int, Optional[Decimal]] = {}  # pair_id -> leg price
    missing = object()

    def leg_price(pid: int, ti: int, i: int, j: int) -> Optional[Decimal]:
        trip = trips[ti]
        pr = price_fn(trip, trip.calls[i].hub, trip.calls[j].hub)
        if pr is not None:
            if isinstance(pr, int) and not isinstance(pr, bool):
                pr = Decimal(pr)
            elif not isinstance(pr, Decimal):
                raise TypeError(f"price_fn must return Decimal or None, got {type(pr).__name__}")
            if not pr.is_finite() or pr < _ZERO:
                raise ValueError(f"price_fn returned {pr} for trip {trip.id}")
        prices[pid] = pr
        return pr

    # Destination front (time = arrival); its lists are mutated in place, so
    # these aliases stay valid.  ``dver`` counts insertions so that cached
    # best-time look-ups are refreshed only when the front changed.
    dest_front = _Front()
    d_prices, d_times = dest_front.prices, dest_front.times
    dver = 0
    dest_labels: list[_Label] = []
    bags: list[Optional[_Front]] = [None] * len(codes)
    marked: dict[int, list[_Label]] = {}
    for o in os_:
        start = _Label(t0, t0, _ZERO, None, -1, -1, -1, _ZERO, 0)
        bags[o] = _Front()
        bags[o].insert(t0, _ZERO, start)
        marked[o] = [start]

    for k in range(1, max_legs + 1):
        limit = max_legs - k  # legs still allowed after this one
        new_marked: dict[int, list[_Label]] = {}
        for h in sorted(marked):
            labs = marked[h]  # avail ascending, price strictly descending
            cut = cut_idx[h]
            ent = ent_idx[h]
            s = bisect_left(cut, labs[0].avail)
            e = bisect_right(cut, hend)
            if s >= e:
                continue
            dist_h = dist[h]
            last_li = len(labs) - 1
            li = 0
            lab = labs[0]
            p = lab.price
            p_min = labs[-1].price
            seen = -1  # dver for which bt_min/bt_p are valid
            bt_min = bt_p = _INF
            for x in range(s, e):
                c = cut[x]
                if li < last_li and labs[li + 1].avail <= c:
                    li += 1
                    while li < last_li and labs[li + 1].avail <= c:
                        li += 1
                    lab = labs[li]
                    p = lab.price
                    seen = -1
                if seen != dver:
                    seen = dver
                    if d_prices:
                        q = bisect_right(d_prices, p_min)
                        bt_min = d_times[q - 1] if q else _INF
                        q = bisect_right(d_prices, p)
                        bt_p = d_times[q - 1] if q else _INF
                lb = c + dist_h
                if bt_min <= lb:
                    break  # every later departure is dominated too
                if bt_p <= lb:
                    continue
                ti, i, alights = ent[x]
                ex = excluded.get(ti)
                if ex is None:
                    ex = excluded[ti] = bool(excl(trips[ti])) if excl is not None else False
                if ex:
                    continue
                # bt_p may go stale (too large) while this trip's alights add
                # destination labels: that only prunes less, never wrongly.
                for pid, j, hj, arr_j, avail_j in alights:
                    if is_dest[hj]:
                        if bt_p <= arr_j:
                            continue
                        pr = prices.get(pid, missing)
                        if pr is missing:
                            pr = leg_price(pid, ti, i, j)
                        if pr is None:
                            continue
                        np_ = p + pr
                        q = bisect_right(d_prices, np_)
                        if q and d_times[q - 1] <= arr_j:
                            continue
                        nlab = _Label(arr_j, arr_j, np_, lab, ti, i, j, pr, k)
                        dest_front.add(arr_j, np_, nlab)
                        dest_labels.append(nlab)
                        dver += 1
                        continue
                    if hops[hj] > limit:
                        continue
                    bound = avail_j + dist[hj]
                    if bt_p <= bound:
                        continue
                    bag = bags[hj]
                    if bag is not None:
                        b_prices = bag.prices
                        q = bisect_right(b_prices, p)
                        if q and bag.times[q - 1] <= avail_j:
                            continue
                    pr = prices.get(pid, missing)
                    if pr is missing:
                        pr = leg_price(pid, ti, i, j)
                    if pr is None:
                        continue
                    np_ = p + pr
                    q = bisect_right(d_prices, np_)
                    if q and d_times[q - 1] <= bound:
                        continue
                    if bag is None:
                        bag = bags[hj] = _Front()
                    else:
                        q = bisect_right(bag.prices, np_)
                        if q and bag.times[q - 1] <= avail_j:
                            continue
                    nlab = _Label(avail_j, arr_j, np_, lab, ti, i, j, pr, k)
                    bag.add(avail_j, np_, nlab)
                    lst = new_marked.get(hj)
                    if lst is None:
                        new_marked[hj] = [nlab]
                    else:
                        lst.append(nlab)
        marked = {}
        for h, lst in new_marked.items():
            dh = dist[h]
            keep = [
                lab
                for lab in lst
                if lab.alive and dest_front.best_time(lab.price) > lab.avail + dh
            ]
            if keep:
                keep.sort(key=lambda lab: lab.avail)
                marked[h] = keep
        if not marked:
            break

    # Final 3-criteria filter: a destination label of round k may have been
    # kept although a later label of the same round beats it.
    found = [lab for lab in dest_labels]
    result: list[_Label] = []
    for a in found:
        dominated = False
        for b in found:
            if b is a:
                continue
            if b.arr <= a.arr and b.price <= a.price and b.legs <= a.legs and (
                b.arr < a.arr or b.price < a.price or b.legs < a.legs
            ):
                dominated = True
                break
        if not dominated:
            result.append(a)
    itineraries = [_materialise(net, lab, ready_at) for lab in result]
    itineraries.sort(
        key=lambda it: (it.arrives_at, it.price, len(it.legs), tuple((l.trip_id, l.from_hub, l.to_hub) for l in it.legs))
    )
    # identical criteria from different paths cannot both survive the fronts,
    # but guard anyway so the contract "one per criteria tuple" always holds.
    out: list[Itinerary] = []
    seen: set = set()
    for it in itineraries:
        key = it.criteria()
        if key not in seen:
            seen.add(key)
            out.append(it)
    return out


def _materialise(net: Network, lab: _Label, ready_at: datetime) -> Itinerary:
    legs: list[Leg] = []
    node = lab
    while node.parent is not None:
        trip = net._trip_list[node.trip]
        ci, cj = trip.calls[node.i], trip.calls[node.j]
        legs.append(
            Leg(
                trip_id=trip.id,
                service_code=trip.service_code,
                mode=trip.mode,
                from_hub=ci.hub,
                to_hub=cj.hub,
                cutoff_at=ci.cutoff_at.astimezone(UTC),
                departs_at=ci.departs_at.astimezone(UTC),
                arrives_at=cj.arrives_at.astimezone(UTC),
                price=node.leg_price,
            )
        )
        node = node.parent
    legs.reverse()
    return Itinerary(
        legs=tuple(legs),
        ready_at=ready_at.astimezone(UTC),
        arrives_at=legs[-1].arrives_at,
        price=lab.price,
    )
