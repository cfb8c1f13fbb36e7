"""Property: on small random networks the search returns exactly the Pareto
set that brute-force enumeration of every itinerary yields."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.routing.search import Call, Hub, Network, Trip, search, search_many

from .helpers import (
    brute_force,
    check_itinerary,
    pareto_criteria,
    result_criteria,
    table_price,
)

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


@st.composite
def timetables(draw):
    """Timetable-like networks: a few services, each a fixed hub sequence with
    fixed running times and a fixed price, departing several times.  This
    creates many competing labels per hub and nearly tight lower bounds."""
    n_hubs = draw(st.integers(3, 5))
    hubs = [
        Hub(f"H{k}", draw(st.sampled_from(ZONES)), draw(st.sampled_from([0, 1, 2, 4, 8])))
        for k in range(n_hubs)
    ]
    codes = [h.code for h in hubs]
    trips = []
    prices = {}
    for sv in range(draw(st.integers(2, 6))):
        n_calls = draw(st.integers(2, 3))
        stops = draw(st.lists(st.sampled_from(codes), min_size=n_calls, max_size=n_calls, unique=True))
        runs = [draw(st.integers(1, 24)) for _ in range(n_calls - 1)]
        dwell = draw(st.integers(0, 3))
        cutoff = draw(st.integers(0, 6))
        mode = draw(st.sampled_from(MODES))
        # fares either independent of speed or "faster is dearer"
        speed_priced = draw(st.booleans())
        fare = {
            (a, b): (max(0, 24 - sum(runs[i:j]) // 2) if speed_priced else 0) + draw(st.integers(0, 12))
            for i, a in enumerate(stops)
            for j, b in enumerate(stops[i + 1 :], start=i + 1)
        }
        for dep in sorted(set(draw(st.lists(st.integers(0, 60), min_size=1, max_size=5)))):
            clock = dep
            calls = []
            for c, hub in enumerate(stops):
                zone = draw(st.sampled_from(ZONES))
                arr = None if c == 0 else _in_zone(clock, zone)
                if c == n_calls - 1:
                    calls.append(Call(hub, arr, None, None))
                    break
                if c > 0:
                    clock += dwell
                depart = _in_zone(clock, zone)
                calls.append(Call(hub, arr, depart, _in_zone(clock - cutoff, zone)))
                clock += runs[c]
            trip = Trip(f"S{sv}-{dep}", f"S{sv % 4}", mode, tuple(calls), full=draw(st.integers(0, 19)) == 0)
            trips.append(trip)
            for (a, b), f in fare.items():
                # occasional per-departure discount / "cannot carry"
                bump = draw(st.sampled_from([0, 0, 0, -1, 1, None]))
                prices[(trip.id, a, b)] = None if bump is None else max(0, f + bump)
    return hubs, trips, prices


def _check_query(hubs, trips, network, origin, destination, ready, **kw):
    res = search(network, origin, destination, ready, **kw)
    expected = pareto_criteria(brute_force(hubs, trips, origin, destination, ready, **kw))
    assert result_criteria(res) == expected
    assert len(res) == len(expected)  # one itinerary per criteria tuple
    for it in res:
        check_itinerary(it, hubs, trips, origin, destination, ready, **kw)
    keys = [(it.arrives_at, it.price, it.n_legs) for it in res]
    assert keys == sorted(keys)
    return res


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=st.one_of(networks(), timetables()), data=st.data())
def test_search_matches_brute_force(net, data):
    """Every origin/destination pair of a random network, one ready time."""
    hubs, trips, prices = net
    codes = [h.code for h in hubs]
    ready = _in_zone(data.draw(st.integers(-24, 24)), data.draw(st.sampled_from(ZONES)))
    max_legs = data.draw(st.integers(1, 4))
    horizon_days = data.draw(st.sampled_from([60, 60, 60, 2, 1, 0.5]))
    excluded = data.draw(st.sets(st.sampled_from(["S0", "S1", "S2", "S3"]), max_size=1))
    exclude = (lambda t: t.service_code in excluded) if excluded else None
    kw = dict(price_fn=table_price(prices), max_legs=max_legs, exclude=exclude, horizon_days=horizon_days)

    network = Network.build(hubs, trips)
    sizes = []
    for origin in codes:
        for destination in codes:
            if origin != destination:
                res = _check_query(hubs, trips, network, origin, destination, ready, **kw)
                sizes.append(len(res))
    event(f"max options={min(max(sizes), 4)}")
    # the per-destination bounds cached on the network must not leak between
    # queries: a fresh network gives the same answers
    fresh = Network.build(hubs, trips)
    for origin in codes[:2]:
        for destination in codes:
            if origin != destination:
                assert search(fresh, origin, destination, ready, **kw) == search(
                    network, origin, destination, ready, **kw
                )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=st.one_of(networks(), timetables()), data=st.data())
def test_one_pass_from_several_origins_to_several_destinations_is_the_front_of_every_pair(net, data):
    """``search_many`` (what a quote for a UN/LOCODE with several hubs runs) answers the Pareto set of the
    union of every origin/destination pair's itineraries, by brute force."""
    hubs, trips, prices = net
    codes = [h.code for h in hubs]
    origins = data.draw(st.sets(st.sampled_from(codes), min_size=1, max_size=len(codes) - 1))
    destinations = data.draw(st.sets(st.sampled_from([c for c in codes if c not in origins]), min_size=1))
    ready = _in_zone(data.draw(st.integers(-24, 24)), data.draw(st.sampled_from(ZONES)))
    kw = dict(price_fn=table_price(prices), max_legs=data.draw(st.integers(1, 4)),
              horizon_days=data.draw(st.sampled_from([60, 60, 2, 0.5])))
    network = Network.build(hubs, trips)
    found = search_many(network, sorted(origins), sorted(destinations), ready, **kw)
    every_pair = [option for origin in origins for destination in destinations
                  for option in brute_force(hubs, trips, origin, destination, ready, **kw)]
    assert result_criteria(found) == pareto_criteria(every_pair)
    assert len(found) == len(result_criteria(found))  # one itinerary per criteria tuple
    for itinerary in found:
        assert itinerary.legs[0].from_hub in origins and itinerary.legs[-1].to_hub in destinations
    with pytest.raises(ValueError, match="share a hub"):
        search_many(network, [codes[0]], [codes[0], codes[1]], ready, **kw)
