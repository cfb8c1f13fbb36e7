"""Space projections warmed at start (app/consolidation/warm.py): after a restart, the first booking on a
departure with many bookings is decided from the warmed projection, not by loading every booking."""

import pytest

from app.consolidation import space, warm
from tests.factories import booking_body, line_of_cbm
from tests.test_space_cache import book, full_loads  # noqa: F401 (a fixture)


@pytest.fixture
def restarted():
    """A process that has just started: no projection in memory (the tests' app shares the module's cache)."""
    space._cache.clear()
    space._refused.clear()


async def test_a_warmed_departure_takes_its_first_booking_without_loading(
    client, app, exporter, network, full_loads, restarted
):
    departure_id = network["departure_id"]
    for _ in range(3):
        await book(client, exporter, departure_id, 2)
    space._cache.clear()  # the restart
    assert await warm.warm(app.state.sessionmaker, min_bookings=3, budget_s=10) == 1
    full_loads.clear()
    assert (await book(client, exporter, departure_id, 2)).json()["status"] == "CONFIRMED"
    assert full_loads == []  # decided from the warmed projection
    departure = (await client.get(f"/v1/departures/{departure_id}", headers=exporter)).json()
    assert departure["booked_cbm"] == 8.0


async def test_only_departures_with_enough_bookings_are_warmed(client, app, exporter, network, restarted):
    first, second = (d["id"] for d in network["departures"][:2])
    for departure_id, count in ((first, 2), (second, 1)):
        for _ in range(count):
            await book(client, exporter, departure_id, 1)
    space._cache.clear()
    async with app.state.sessionmaker() as session:
        assert await warm.departures_to_warm(session, 1) == [first, second]  # most bookings first
        assert await warm.departures_to_warm(session, 2) == [first]
    assert await warm.warm(app.state.sessionmaker, min_bookings=2, budget_s=10) == 1
    assert {key[0] for key in space._cache} == {first}


async def test_a_booking_made_after_warming_is_not_hidden_by_the_warmed_projection(
    client, app, exporter, other_exporter, network, full_loads, restarted
):
    """Another process books after the projection was warmed: the fingerprint no longer matches, so the
    next decision loads afresh and sees it (a 2-TEU departure: 40 + 30 CBM cannot both fit)."""
    departure_id = network["departure_id"]
    await book(client, exporter, departure_id, 40)
    space._cache.clear()
    assert await warm.warm(app.state.sessionmaker, min_bookings=1, budget_s=10) == 1
    cached = dict(space._cache)
    await book(client, other_exporter, departure_id, 20)  # as if elsewhere: put the warmed entry back
    space._cache.clear()
    space._cache.update(cached)
    full_loads.clear()
    late = await client.post("/v1/bookings", json=booking_body(departure_id, cargo=[line_of_cbm(10)]), headers=exporter)
    assert late.json()["status"] == "WAITLISTED"  # 40 + 20 + 10 > 66 CBM
    assert full_loads == [departure_id]


async def test_the_time_budget_bounds_warming(client, app, exporter, network, restarted):
    await book(client, exporter, network["departure_id"], 1)
    space._cache.clear()
    assert await warm.warm(app.state.sessionmaker, min_bookings=1, budget_s=0) == 0
