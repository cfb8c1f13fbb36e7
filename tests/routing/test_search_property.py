"""Property: on small random networks the search returns exactly the Pareto
set that brute-force enumeration of every itinerary yields."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.routing.search import Call, Hub, Network, Trip, search

from .helpers import brute_force, check_itinerary, pareto_criteria, result_criteria, table_price

ZONES = ["UTC", "Asia/Shanghai", "Asia/Almaty", "Europe/Moscow", "Europe/Warsaw", "Europe/Berlin"]
# 2026-03-29 is the EU switch to summer time: timetables straddle it.
BASE = datetime(2026, 3, 27, 0, 0, tzinfo=timezone.utc)
MODES = ["RAIL", "WATER", "AIR", "ROAD"]


def _in_zone(ts_hours: float, zone: str) -> datetime:
    """Instant BASE + hours, expressed in ``zone`` (so each time a trip
    publishes may be written in a different zone)."""
    return (BASE + timedelta(hours=ts_hours)).astimezone(ZoneInfo(zone))


def _ride_hours(trip: Trip, a: str, b: str):
    """Hours from the first departure at ``a`` to the next arrival at ``b``."""
    for i, ci in enumerate(trip.calls):
        if ci.hub == a and ci.departs_at is not None:
            for cj in trip.calls[i + 1 :]:
                if cj.hub == b and cj.arrives_at is not None:
                    return (cj.arrives_at - ci.departs_at) / timedelta(hours=1)
            return None
    return None


@st.composite
def networks(draw):
    n_hubs = draw(st.integers(2, 4))
    hubs = [
        Hub(f"H{k}", draw(st.sampled_from(ZONES)), draw(st.sampled_from([0, 0.5, 1, 2, 6, 12])))
        for k in range(n_hubs)
    ]
    codes = [h.code for h in hubs]
    trips = []
    prices = {}
    # half the networks price faster rides dearer, which makes larger Pareto sets
    speed_priced = draw(st.booleans())
    for t in range(draw(st.integers(1, 14))):
        n_calls = draw(st.integers(2, 4))
        stops = draw(st.lists(st.sampled_from(codes), min_size=n_calls, max_size=n_calls))
        clock = draw(st.integers(0, 48))  # hours after BASE
        calls = []
        for c, hub in enumerate(stops):
            first, last = c == 0, c == n_calls - 1
            zone = draw(st.sampled_from(ZONES))
            arr = None
            if not first:
                clock += draw(st.integers(0, 20))
                arr = None if draw(st.integers(0, 9)) == 0 and not last else _in_zone(clock, zone)
            dep = cut = None
            if not last:
                clock += draw(st.integers(0, 6))
                dep = _in_zone(clock, zone)
                if draw(st.integers(0, 9)) > 0:
                    cut = _in_zone(clock - draw(st.integers(0, 12)), draw(st.sampled_from(ZONES)))
            if not first and arr is None and dep is None:
                arr = _in_zone(clock, zone)
            calls.append(Call(hub, arr, dep, cut))
        trip = Trip(
            f"T{t}",
            draw(st.sampled_from(["S0", "S1", "S2", "S3"])),
            draw(st.sampled_from(MODES)),
            tuple(calls),
            full=draw(st.integers(0, 14)) == 0,
        )
        trips.append(trip)
        for a in set(stops):
            for b in set(stops):
                if a == b:
                    continue
                if speed_priced:
                    hours = _ride_hours(trip, a, b)
                    price = None if hours is None else max(0, 30 - int(hours) // 2) + draw(st.integers(0, 3))
                    if draw(st.integers(0, 9)) == 0:
                        price = None
                else:
                    price = draw(st.sampled_from([None, 0, 1, 2, 3, 5, 8, 10, 15, 20, 30]))
                prices[(trip.id, a, b)] = price
    return hubs, trips, prices


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    net=networks(),
    data=st.data(),
)
def test_search_matches_brute_force(net, data):
    hubs, trips, prices = net
    codes = [h.code for h in hubs]
    # bias the origin towards hubs where some trip starts, so fewer cases are trivially empty
    starts = sorted({t.calls[0].hub for t in trips})
    origin = data.draw(st.one_of(st.sampled_from(starts), st.sampled_from(codes)))
    destination = data.draw(st.sampled_from([c for c in codes if c != origin]))
    ready = _in_zone(data.draw(st.integers(-24, 24)), data.draw(st.sampled_from(ZONES)))
    max_legs = data.draw(st.integers(1, 4))
    horizon_days = data.draw(st.sampled_from([60, 60, 60, 2, 1, 0.5]))
    excluded = data.draw(st.sets(st.sampled_from(["S0", "S1", "S2", "S3"]), max_size=1))
    exclude = (lambda t: t.service_code in excluded) if excluded else None
    price_fn = table_price(prices)

    network = Network.build(hubs, trips)
    kw = dict(price_fn=price_fn, max_legs=max_legs, exclude=exclude, horizon_days=horizon_days)
    res = search(network, origin, destination, ready, **kw)

    expected = pareto_criteria(brute_force(hubs, trips, origin, destination, ready, **kw))
    event(f"options={min(len(expected), 4)}")
    assert result_criteria(res) == expected
    assert len(res) == len(expected)  # one itinerary per criteria tuple
    for it in res:
        check_itinerary(it, hubs, trips, origin, destination, ready, **kw)
    keys = [(it.arrives_at, it.price, it.n_legs) for it in res]
    assert keys == sorted(keys)
    # the cached lower bounds must not leak between queries: ask again
    assert search(network, origin, destination, ready, **kw) == res
