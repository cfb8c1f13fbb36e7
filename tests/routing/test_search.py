"""Hand-made timetables with known answers for app.routing.search."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from app.routing.search import Call, Hub, Itinerary, Mode, Network, Trip, search

from .helpers import at, brute_force, check_itinerary, pareto_criteria, result_criteria, trip, utc

SH, ALM, WAW, BER = "Asia/Shanghai", "Asia/Almaty", "Europe/Warsaw", "Europe/Berlin"

HUBS = [
    Hub("XIY", SH, 6),  # Xi'an
    Hub("WUH", SH, 6),  # Wuhan
    Hub("SHA", SH, 12),  # Shanghai port
    Hub("ALA", ALM, 4),  # Almaty / Khorgos
    Hub("MAL", WAW, 12),  # Malaszewicze
    Hub("FRA", BER, 3),  # Frankfurt airport
    Hub("HAM", BER, 24),  # Hamburg port
    Hub("DUI", BER, 2),  # Duisburg
]


def flat(price: int):
    """price_fn charging ``price`` for every leg."""
    return lambda t, a, b: Decimal(price)


def by_trip(**prices):
    """price_fn looking the price up by trip id (same for any board/alight)."""
    return lambda t, a, b: None if prices.get(t.id) is None else Decimal(prices[t.id])


def run(trips, origin, dest, ready, price_fn, hubs=HUBS, **kw):
    """Search, check every answer against the rules and against brute force."""
    net = Network.build(hubs, trips)
    res = search(net, origin, dest, ready, price_fn=price_fn, **kw)
    for it in res:
        check_itinerary(it, hubs, trips, origin, dest, ready, price_fn=price_fn, **_bf_kw(kw))
    brute = brute_force(hubs, trips, origin, dest, ready, price_fn=price_fn, **_bf_kw(kw))
    assert result_criteria(res) == pareto_criteria(brute)
    return res


def _bf_kw(kw):
    out = dict(kw)
    ex = out.get("exclude")
    if ex is not None and not callable(ex):
        codes = set(ex)
        out["exclude"] = lambda t: t.service_code in codes
    return out


def trips_of(it: Itinerary) -> list[str]:
    return [leg.trip_id for leg in it.legs]


# --------------------------------------------------------------------------
# cut-offs and handling
# --------------------------------------------------------------------------


def wuh_dui(id, day, *, dep_h=12, days=18, **kw):
    return trip(
        id,
        [("WUH", None, at(SH, 2026, 3, day, dep_h)), ("DUI", at(BER, 2026, 3, day + days, 8), None)],
        cutoff_hours=2,
        **kw,
    )


def test_missed_cutoff_takes_next_departure():
    trips = [wuh_dui("T1", 2), wuh_dui("T2", 3)]
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 2, 10, 30), flat(1000))
    assert [trips_of(it) for it in res] == [["T2"]]


def test_cutoff_is_inclusive():
    trips = [wuh_dui("T1", 2), wuh_dui("T2", 3)]
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 2, 10, 0), flat(1000))
    # T2 arrives later at the same price: dominated
    assert [trips_of(it) for it in res] == [["T1"]]
    assert res[0].legs[0].cutoff_at == at(SH, 2026, 3, 2, 10)


def overnight(handling_hours: float, cutoffs_h: tuple[int, ...] = (1,)):
    hubs = [h if h.code != "ALA" else Hub("ALA", ALM, handling_hours) for h in HUBS]
    trips = [
        trip("IN", [("WUH", None, at(SH, 2026, 3, 1, 9)), ("ALA", at(ALM, 2026, 3, 5, 22), None)], cutoff_hours=3),
    ]
    for n, day in enumerate((6, 7)):
        trips.append(
            trip(
                f"OUT{day}",
                [("ALA", None, at(ALM, 2026, 3, day, cutoffs_h[0] + 2)), ("MAL", at(WAW, 2026, 3, day + 6, 10), None)],
                cutoff_hours=2,
            )
        )
    return hubs, trips


def test_overnight_transfer():
    hubs, trips = overnight(3)
    res = run(trips, "WUH", "MAL", at(SH, 2026, 3, 1, 0), flat(100), hubs=hubs)
    assert [trips_of(it) for it in res] == [["IN", "OUT6"]]
    it = res[0]
    assert it.arrives_at == at(WAW, 2026, 3, 12, 10)
    assert it.price == Decimal(200)
    # arrives 22:00, available at 01:00 next day == cut-off of OUT6
    assert it.legs[1].cutoff_at == at(ALM, 2026, 3, 6, 1)


def test_handling_time_breaks_connection():
    hubs, trips = overnight(4)  # available 02:00, OUT6 cut-off 01:00: missed
    res = run(trips, "WUH", "MAL", at(SH, 2026, 3, 1, 0), flat(100), hubs=hubs)
    assert [trips_of(it) for it in res] == [["IN", "OUT7"]]
    assert res[0].arrives_at == at(WAW, 2026, 3, 13, 10)


def test_handling_breaks_only_connection_gives_empty():
    hubs, trips = overnight(48)
    assert run(trips, "WUH", "MAL", at(SH, 2026, 3, 1, 0), flat(100), hubs=hubs) == []


def test_no_handling_when_staying_on_board():
    hubs = [h if h.code != "ALA" else Hub("ALA", ALM, 1000) for h in HUBS]
    t = trip(
        "X1",
        [
            ("XIY", None, at(SH, 2026, 3, 1, 8)),
            ("WUH", at(SH, 2026, 3, 1, 20), at(SH, 2026, 3, 1, 23)),
            ("ALA", at(ALM, 2026, 3, 4, 10), at(ALM, 2026, 3, 4, 12)),
            ("MAL", at(WAW, 2026, 3, 10, 6), None),
        ],
        cutoff_hours=4,
    )
    res = run([t], "WUH", "MAL", at(SH, 2026, 3, 1, 12), flat(700), hubs=hubs)
    assert len(res) == 1 and res[0].n_legs == 1
    leg = res[0].legs[0]
    assert (leg.from_hub, leg.to_hub) == ("WUH", "MAL")
    assert leg.cutoff_at == at(SH, 2026, 3, 1, 19)  # the WUH call's own cut-off
    assert leg.departs_at == at(SH, 2026, 3, 1, 23)


def test_boarding_mid_trip_respects_that_calls_cutoff():
    t = trip(
        "X1",
        [
            ("XIY", None, at(SH, 2026, 3, 1, 8)),
            ("WUH", at(SH, 2026, 3, 1, 20), at(SH, 2026, 3, 1, 23)),
            ("MAL", at(WAW, 2026, 3, 10, 6), None),
        ],
        cutoff_hours=4,
    )
    # WUH cut-off is 19:00 local; ready at 19:30 misses it even though the
    # train is still upstream
    assert run([t], "WUH", "MAL", at(SH, 2026, 3, 1, 19, 30), flat(1)) == []


def test_call_without_cutoff_cannot_board_and_without_arrival_cannot_alight():
    t = trip(
        "X1",
        [
            ("XIY", None, at(SH, 2026, 3, 1, 8)),
            ("WUH", at(SH, 2026, 3, 1, 20), at(SH, 2026, 3, 1, 23), None),  # set-down only
            ("ALA", None, at(ALM, 2026, 3, 4, 12)),  # pick-up only
            ("MAL", at(WAW, 2026, 3, 10, 6), None),
        ],
    )
    ready = at(SH, 2026, 3, 1, 0)
    assert run([t], "WUH", "MAL", ready, flat(1)) == []
    assert run([t], "XIY", "ALA", ready, flat(1)) == []
    assert [it.legs[0].to_hub for it in run([t], "XIY", "WUH", ready, flat(1))] == ["WUH"]
    assert [it.legs[0].to_hub for it in run([t], "ALA", "MAL", ready, flat(1))] == ["MAL"]


# --------------------------------------------------------------------------
# time zones
# --------------------------------------------------------------------------


def test_transfer_times_published_in_different_zones_are_compared_in_utc():
    # IN arrives at ALA at 14:00 Beijing time (= 11:00 Almaty = 06:00Z);
    # +2 h handling = 08:00Z = 13:00 Almaty = OUT's cut-off: feasible.
    # A naive wall-clock comparison (14:00 + 2 h > 13:00) would miss it.
    hubs = [h if h.code != "ALA" else Hub("ALA", ALM, 2) for h in HUBS]
    trips = [
        trip("IN", [("WUH", None, at(SH, 2026, 3, 1, 9)), ("ALA", at(SH, 2026, 3, 5, 14), None)], cutoff_hours=3),
        trip(
            "OUT",
            [("ALA", None, at(ALM, 2026, 3, 5, 15)), ("MAL", at(WAW, 2026, 3, 11, 9), None)],
            cutoff_hours=2,
        ),
        trip(
            "OUT_NEXT",
            [("ALA", None, at(ALM, 2026, 3, 6, 15)), ("MAL", at(WAW, 2026, 3, 12, 9), None)],
            cutoff_hours=2,
        ),
    ]
    ready = at(SH, 2026, 3, 1, 5)  # 2026-02-28 21:00Z; IN's cut-off is 06:00 local
    res = run(trips, "WUH", "MAL", ready, flat(100), hubs=hubs)
    assert [trips_of(it) for it in res] == [["IN", "OUT"]]
    it = res[0]
    # 2026-03-11 09:00 Warsaw (+01) = 08:00Z; ready 02-28 21:00Z
    assert it.transit_hours == 10 * 24 + 11  # naive wall clock would say 244
    assert it.arrives_at == utc(2026, 3, 11, 8)
    assert it.arrives_at.utcoffset() == timedelta(0)


def test_naive_wall_clock_would_accept_an_impossible_transfer():
    # IN arrives at ALA at 03:00 Warsaw time (= 02:00Z = 07:00 Almaty);
    # +2 h handling = 04:00Z = 09:00 Almaty, after OUT's cut-off 08:00 Almaty.
    hubs = [h if h.code != "ALA" else Hub("ALA", ALM, 2) for h in HUBS]
    trips = [
        trip("IN", [("WUH", None, at(SH, 2026, 3, 1, 9)), ("ALA", at(WAW, 2026, 3, 5, 3), None)], cutoff_hours=3),
        trip(
            "OUT",
            [("ALA", None, at(ALM, 2026, 3, 5, 10)), ("MAL", at(WAW, 2026, 3, 11, 9), None)],
            cutoff_hours=2,
        ),
    ]
    assert run(trips, "WUH", "MAL", at(SH, 2026, 3, 1, 5), flat(100), hubs=hubs) == []
    # ... whereas the next day's departure is fine
    trips.append(
        trip("OUT2", [("ALA", None, at(ALM, 2026, 3, 6, 10)), ("MAL", at(WAW, 2026, 3, 12, 9), None)], cutoff_hours=2)
    )
    res = run(trips, "WUH", "MAL", at(SH, 2026, 3, 1, 5), flat(100), hubs=hubs)
    assert [trips_of(it) for it in res] == [["IN", "OUT2"]]


def test_dominance_uses_instants_not_wall_clocks():
    # R1 arrives 15:00 Beijing = 07:00Z = 08:00 Berlin; R2 09:00 Berlin = 08:00Z.
    # R1 is earlier AND cheaper, so R2 is dominated (naively R2 looks faster).
    trips = [
        trip("R1", [("WUH", None, at(SH, 2026, 3, 2, 12)), ("DUI", at(SH, 2026, 3, 20, 15), None)]),
        trip("R2", [("WUH", None, at(SH, 2026, 3, 2, 13)), ("DUI", at(BER, 2026, 3, 20, 9), None)]),
    ]
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 1), by_trip(R1=900, R2=1000))
    assert [trips_of(it) for it in res] == [["R1"]]


def test_dst_end_in_warsaw():
    # 2026-10-25: 03:00 CEST -> 02:00 CET.  IN arrives MAL 01:30 CEST (23:30Z),
    # +1 h handling = 00:30Z; OUT's cut-off is the *second* 02:15 (CET, 01:15Z).
    # Wall clock: 01:30 + 1 h = 02:30 > 02:15 would wrongly reject it.
    hubs = [h if h.code != "MAL" else Hub("MAL", WAW, 1) for h in HUBS]
    trips = [
        trip("IN", [("ALA", None, at(ALM, 2026, 10, 19, 10)), ("MAL", at(WAW, 2026, 10, 25, 1, 30), None)]),
        trip(
            "OUT",
            [
                ("MAL", None, at(WAW, 2026, 10, 25, 4), at(WAW, 2026, 10, 25, 2, 15, fold=1)),
                ("DUI", at(BER, 2026, 10, 26, 6), None),
            ],
        ),
    ]
    res = run(trips, "ALA", "DUI", at(ALM, 2026, 10, 19, 0), flat(1), hubs=hubs)
    assert [trips_of(it) for it in res] == [["IN", "OUT"]]
    # one hour less wall clock than elapsed time on the DST night
    out = res[0].legs[1]
    assert out.cutoff_at == utc(2026, 10, 25, 1, 15)


def test_local_times_helper_and_local_input():
    trips = [
        trip("IN", [("WUH", None, at(SH, 2026, 3, 1, 9)), ("ALA", at(ALM, 2026, 3, 5, 22), None)], cutoff_hours=3),
    ]
    net = Network.build(HUBS, trips)
    ready = net.at_hub("WUH", datetime(2026, 3, 1, 5, 0))  # naive local -> aware UTC
    assert ready == utc(2026, 2, 28, 21)
    (it,) = search(net, "WUH", "ALA", ready, price_fn=flat(1))
    lt = net.local_times(it.legs[0])
    assert lt.cutoff_at.replace(tzinfo=None) == datetime(2026, 3, 1, 6)
    assert lt.departs_at.replace(tzinfo=None) == datetime(2026, 3, 1, 9)
    assert lt.arrives_at.replace(tzinfo=None) == datetime(2026, 3, 5, 22)
    assert str(lt.arrives_at.tzinfo) == ALM and str(lt.departs_at.tzinfo) == SH
    # aware input passes through (converted to UTC)
    assert net.at_hub("ALA", at(BER, 2026, 3, 1, 1)) == utc(2026, 3, 1, 0)


# --------------------------------------------------------------------------
# Pareto set
# --------------------------------------------------------------------------


def pareto_network():
    d = lambda day, h, tz=SH: at(tz, 2026, 3, day, h)  # noqa: E731
    trips = [
        # air via Frankfurt: fastest, dearest
        trip("AIR1", [("WUH", None, d(2, 1)), ("FRA", at(BER, 2026, 3, 2, 7), None)], mode="AIR", cutoff_hours=6),
        trip("TRUCK1", [("FRA", None, at(BER, 2026, 3, 2, 14)), ("DUI", at(BER, 2026, 3, 2, 18), None)], mode="ROAD"),
        # direct rail: in between
        trip("RAIL1", [("WUH", None, d(3, 12)), ("DUI", at(BER, 2026, 3, 18, 8), None)], cutoff_hours=24),
        # rail-water-rail: slowest, cheapest
        trip("FEED1", [("WUH", None, d(2, 6)), ("SHA", d(3, 6), None)], cutoff_hours=4),
        trip("SHIP1", [("SHA", None, d(6, 6)), ("HAM", at(BER, 2026, 4, 9, 6), None)], mode="WATER", cutoff_hours=48),
        trip("HINT1", [("HAM", None, at(BER, 2026, 4, 11, 6)), ("DUI", at(BER, 2026, 4, 12, 6), None)], cutoff_hours=6),
        # dominated: direct truck, slower and dearer than RAIL1
        trip("ROAD1", [("WUH", None, d(2, 12)), ("DUI", at(BER, 2026, 3, 22, 8), None)], mode="ROAD"),
        # dominated: rail via Almaty, later and dearer than RAIL1 with more legs
        trip("VIA1", [("WUH", None, d(2, 12)), ("ALA", at(ALM, 2026, 3, 6, 8), None)], cutoff_hours=6),
        trip("VIA2", [("ALA", None, at(ALM, 2026, 3, 7, 8)), ("DUI", at(BER, 2026, 3, 19, 8), None)], cutoff_hours=6),
    ]
    prices = dict(AIR1=4800, TRUCK1=200, RAIL1=2500, FEED1=150, SHIP1=900, HINT1=150, ROAD1=3000, VIA1=1300, VIA2=1300)
    return trips, by_trip(**prices)


def test_pareto_set_with_exactly_three_options():
    trips, price_fn = pareto_network()
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 1, 8), price_fn)
    assert [trips_of(it) for it in res] == [["AIR1", "TRUCK1"], ["RAIL1"], ["FEED1", "SHIP1", "HINT1"]]
    assert [it.price for it in res] == [Decimal(5000), Decimal(2500), Decimal(1200)]
    assert [[leg.mode for leg in it.legs] for it in res] == [
        [Mode.AIR, Mode.ROAD],
        [Mode.RAIL],
        [Mode.RAIL, Mode.WATER, Mode.RAIL],
    ]
    # ordering: arrival ascending
    assert [it.arrives_at for it in res] == sorted(it.arrives_at for it in res)
    assert res[0].transit_hours < res[1].transit_hours < res[2].transit_hours


def test_max_legs_limits_the_pareto_set():
    trips, price_fn = pareto_network()
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 1, 8), price_fn, max_legs=2)
    assert [trips_of(it) for it in res] == [["AIR1", "TRUCK1"], ["RAIL1"]]
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 1, 8), price_fn, max_legs=1)
    assert [trips_of(it) for it in res] == [["RAIL1"]]


def test_fewer_legs_keeps_an_otherwise_dominated_option():
    trips = [
        trip("D1", [("WUH", None, at(SH, 2026, 3, 2, 12)), ("DUI", at(BER, 2026, 3, 20, 8), None)]),
        trip("A1", [("WUH", None, at(SH, 2026, 3, 2, 12)), ("ALA", at(ALM, 2026, 3, 6, 8), None)]),
        trip("A2", [("ALA", None, at(ALM, 2026, 3, 7, 8)), ("DUI", at(BER, 2026, 3, 18, 8), None)]),
        # later and dearer than A1+A2 with as many legs: dominated
        trip("B2", [("ALA", None, at(ALM, 2026, 3, 8, 8)), ("DUI", at(BER, 2026, 3, 21, 8), None)]),
    ]
    price_fn = by_trip(D1=2000, A1=900, A2=900, B2=1200)
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 1), price_fn)
    assert [trips_of(it) for it in res] == [["A1", "A2"], ["D1"]]


def test_equal_options_reported_once():
    trips = [wuh_dui("T1", 2), trip("T1b", [("WUH", None, at(SH, 2026, 3, 2, 12)), ("DUI", at(BER, 2026, 3, 20, 8), None)])]
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 1), flat(10))
    assert len(res) == 1


# --------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------


def test_full_trips_are_skipped():
    trips, price_fn = pareto_network()
    trips = [Trip(t.id, t.service_code, t.mode, t.calls, full=(t.id == "RAIL1")) for t in trips]
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 1, 8), price_fn)
    assert ["RAIL1"] not in [trips_of(it) for it in res]
    # VIA1+VIA2 is no longer dominated, and neither is the one-leg ROAD1
    # (slower and dearer than VIA1+VIA2 but with fewer legs)
    assert [trips_of(it) for it in res] == [
        ["AIR1", "TRUCK1"],
        ["VIA1", "VIA2"],
        ["ROAD1"],
        ["FEED1", "SHIP1", "HINT1"],
    ]


def test_excluded_services_are_skipped():
    trips, price_fn = pareto_network()
    ready = at(SH, 2026, 3, 1, 8)
    res = run(trips, "WUH", "DUI", ready, price_fn, exclude={"AIR1"})
    assert [trips_of(it) for it in res] == [["RAIL1"], ["FEED1", "SHIP1", "HINT1"]]
    res = run(trips, "WUH", "DUI", ready, price_fn, exclude=lambda t: t.mode in (Mode.AIR, Mode.WATER))
    assert [trips_of(it) for it in res] == [["RAIL1"]]


def test_price_none_means_cannot_carry():
    trips, _ = pareto_network()
    price_fn = by_trip(AIR1=4800, TRUCK1=200, RAIL1=None, ROAD1=3000)
    res = run(trips, "WUH", "DUI", at(SH, 2026, 3, 1, 8), price_fn)
    assert [trips_of(it) for it in res] == [["AIR1", "TRUCK1"], ["ROAD1"]]


def test_horizon_ignores_far_departures():
    trips = [trip("LATE", [("WUH", None, at(SH, 2026, 5, 10, 12)), ("DUI", at(BER, 2026, 5, 30, 8), None)])]
    ready = at(SH, 2026, 3, 1)
    assert run(trips, "WUH", "DUI", ready, flat(1)) == []
    assert len(run(trips, "WUH", "DUI", ready, flat(1), horizon_days=75)) == 1


def test_no_route_gives_empty_list():
    trips, price_fn = pareto_network()
    # nothing goes eastbound
    assert run(trips, "DUI", "WUH", at(BER, 2026, 3, 1), price_fn) == []
    # everything already left
    assert run(trips, "WUH", "DUI", at(SH, 2026, 4, 20), price_fn) == []
    # empty network
    assert search(Network.build(HUBS, []), "WUH", "DUI", at(SH, 2026, 3, 1), price_fn=price_fn) == []


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------


def test_naive_datetimes_rejected():
    net = Network.build(HUBS, [wuh_dui("T1", 2)])
    with pytest.raises(ValueError, match="timezone-aware"):
        search(net, "WUH", "DUI", datetime(2026, 3, 1, 8), price_fn=flat(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Call("WUH", None, datetime(2026, 3, 1, 8), at(SH, 2026, 3, 1, 6))
    with pytest.raises(ValueError, match="timezone-aware"):
        Call("WUH", None, at(SH, 2026, 3, 1, 8), datetime(2026, 3, 1, 6))


def test_bad_inputs_rejected():
    net = Network.build(HUBS, [wuh_dui("T1", 2)])
    ready = at(SH, 2026, 3, 1)
    with pytest.raises(ValueError):
        search(net, "WUH", "NOPE", ready, price_fn=flat(1))
    with pytest.raises(ValueError):
        search(net, "WUH", "WUH", ready, price_fn=flat(1))
    with pytest.raises(ValueError):
        search(net, "WUH", "DUI", ready, price_fn=flat(1), max_legs=0)
    with pytest.raises(ValueError):
        search(net, "WUH", "DUI", ready, price_fn=flat(-1))
    with pytest.raises(TypeError):
        search(net, "WUH", "DUI", ready, price_fn=lambda t, a, b: 1.5)
    for bad in ("NaN", "Infinity"):
        with pytest.raises(ValueError):
            search(net, "WUH", "DUI", ready, price_fn=lambda t, a, b, bad=bad: Decimal(bad))
    with pytest.raises(ValueError):
        Hub("X", "Mars/Olympus", 1)
    with pytest.raises(ValueError):
        Network.build(HUBS, [wuh_dui("T1", 2), wuh_dui("T1", 3)])
    with pytest.raises(ValueError):
        Network.build(HUBS[:1], [wuh_dui("T1", 2)])
    with pytest.raises(ValueError):  # time goes backwards
        trip("B", [("WUH", None, at(SH, 2026, 3, 5)), ("DUI", at(SH, 2026, 3, 4), None)])
    with pytest.raises(ValueError):  # cut-off after departure
        Call("WUH", None, at(SH, 2026, 3, 5), at(SH, 2026, 3, 6))


def test_results_are_deterministic_and_network_reusable():
    trips, price_fn = pareto_network()
    net = Network.build(HUBS, trips)
    ready = at(SH, 2026, 3, 1, 8)
    a = search(net, "WUH", "DUI", ready, price_fn=price_fn)
    b = search(net, "WUH", "DUI", ready, price_fn=price_fn)
    net2 = Network.build(HUBS, list(reversed(trips)))
    c = search(net2, "WUH", "DUI", ready, price_fn=price_fn)
    assert a == b == c
    keys = [(it.arrives_at, it.price, it.n_legs) for it in a]
    assert keys == sorted(keys)


# --------------------------------------------------------------------------
# regression cases for the pruning (each kills a specific wrong variant)
# --------------------------------------------------------------------------

T0 = utc(2026, 3, 2)


def h(hours: float):
    return T0 + timedelta(hours=hours)


PRUNE_HUBS = [Hub("O", SH, 0), Hub("X", ALM, 0), Hub("Y", WAW, 3), Hub("D", BER, 0)]


def test_cheaper_label_that_arrives_exactly_at_a_cutoff_is_used_and_not_pruned():
    # At X: label L1 (available h10, price 10) and L2 (available h20, price 1).
    # DIR O->D (h52, 5) is found first.  U1 (cut-off h15) can only be caught by
    # L1 -> (h55, 11), dominated by DIR; but that must not stop the scan of
    # X's departures, because U2 (cut-off h20 == L2's availability) gives the
    # non-dominated (h60, 2).
    trips = [
        trip("T1", [("O", None, h(0)), ("X", h(10), None)]),
        trip("T2", [("O", None, h(0)), ("X", h(20), None)]),
        trip("DIR", [("O", None, h(0)), ("D", h(52), None)]),
        trip("U1", [("X", None, h(16), h(15)), ("D", h(55), None)]),
        trip("U2", [("X", None, h(21), h(20)), ("D", h(60), None)]),
    ]
    price_fn = by_trip(T1=10, T2=1, DIR=5, U1=1, U2=1)
    res = run(trips, "O", "D", h(-2), price_fn, hubs=PRUNE_HUBS)
    assert [(trips_of(it), it.price) for it in res] == [(["DIR"], 5), (["T2", "U2"], 2)]


def test_lower_bound_does_not_prune_a_faster_dearer_option():
    # A (1 leg, h25, 5) is found before the label at X; B+C reaches D at h20
    # for 6 with 2 legs: faster, so it must survive the target pruning.
    trips = [
        trip("A", [("O", None, h(0), h(0)), ("D", h(25), None)]),
        trip("B", [("O", None, h(1), h(1)), ("X", h(10), None)]),
        trip("C", [("X", None, h(10), h(10)), ("D", h(20), None)]),
    ]
    res = run(trips, "O", "D", h(-2), by_trip(A=5, B=5, C=1), hubs=PRUNE_HUBS)
    assert [(trips_of(it), it.price) for it in res] == [(["B", "C"], 6), (["A"], 5)]


def test_lower_bound_with_handling_on_a_three_leg_chain():
    # O->X->Y->D where Y's 3 h handling is part of the bound from X; the
    # 3-leg option (h30, 3) is faster than the direct one (h33, 1); the bound
    # from X is exactly 25 h, so any over-estimate would prune it.
    trips = [
        trip("DIR", [("O", None, h(0), h(0)), ("D", h(33), None)]),
        trip("L1", [("O", None, h(1), h(1)), ("X", h(5), None)]),
        trip("L2", [("X", None, h(5), h(5)), ("Y", h(15), None)]),
        trip("L3", [("Y", None, h(18), h(18)), ("D", h(30), None)]),
    ]
    res = run(trips, "O", "D", h(-2), by_trip(DIR=1, L1=1, L2=1, L3=1), hubs=PRUNE_HUBS)
    assert [(trips_of(it), it.price) for it in res] == [(["L1", "L2", "L3"], 3), (["DIR"], 1)]
