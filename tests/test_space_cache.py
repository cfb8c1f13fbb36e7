"""The per-process projection cache of space control: used when the departure is unchanged,
never when the database holds other bookings or other figures than the cached packing."""

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking
from app.consolidation import space
from tests.factories import booking_body, line_of_cbm
from tests.test_quotes import quote


@pytest.fixture
def full_loads(monkeypatch) -> list[int]:
    """The departures whose projection is loaded the full way from now on (instead of from the cache)."""
    loads: list[int] = []
    original = space.load_state

    async def counting_load_state(*args, **kwargs):
        loads.append(args[1].id)
        return await original(*args, **kwargs)

    monkeypatch.setattr(space, "load_state", counting_load_state)
    return loads


async def book(client, headers, departure_id, cbm):
    response = await client.post("/v1/bookings", json=booking_body(departure_id, cargo=[line_of_cbm(cbm)]), headers=headers)
    assert response.status_code == 201, response.text
    return response


async def test_a_stale_cache_never_oversells(client, exporter, network):
    departure_id = network["departure_id"]  # 2 TEU: one 40HC of 66 CBM, or two 20GP of 28
    first = await book(client, exporter, departure_id, 40)  # cached: {A: 40}
    waiting = await book(client, exporter, departure_id, 30)
    assert waiting.json()["status"] == "WAITLISTED"
    # Shrinking A promotes W by the full path: the database now holds 20 + 30 CBM.
    amended = await client.patch(
        f"/v1/bookings/{first.json()['reference']}", json={"cargo": [line_of_cbm(20)]},
        headers=exporter | {"If-Match": first.headers["etag"]},
    )
    assert amended.status_code == 200
    promoted = await client.get(f"/v1/bookings/{waiting.json()['reference']}", headers=exporter)
    assert promoted.json()["status"] == "CONFIRMED"
    # The cached packing ({A: 40}) would take 20 more; the real departure (50 CBM) cannot.
    late = await book(client, exporter, departure_id, 20)
    assert late.json()["status"] == "WAITLISTED"


async def test_an_unchanged_departure_is_decided_from_the_cache(client, exporter, network, request):
    departure_id = network["departure_id"]
    await book(client, exporter, departure_id, 5)
    full_loads = request.getfixturevalue("full_loads")
    second = await book(client, exporter, departure_id, 5)
    third = await book(client, exporter, departure_id, 5)
    assert second.json()["status"] == third.json()["status"] == "CONFIRMED"
    assert full_loads == []
    departure = (await client.get(f"/v1/departures/{departure_id}", headers=exporter)).json()
    assert departure["booked_cbm"] == 15.0


async def test_a_booking_no_smaller_than_a_refused_one_is_refused_without_replanning(
    client, exporter, network, request
):
    departure_id = network["departure_id"]  # 2 TEU: one 40HC of 66 CBM
    await book(client, exporter, departure_id, 40)
    refused = await book(client, exporter, departure_id, 30)  # first fit fails, the planner fails: refused
    assert refused.json()["status"] == "WAITLISTED"
    full_loads = request.getfixturevalue("full_loads")
    bigger = await book(client, exporter, departure_id, 35)
    assert bigger.json()["status"] == "WAITLISTED" and full_loads == []
    smaller = await book(client, exporter, departure_id, 20)  # 40 + 20 fits the 40HC by first fit
    assert smaller.json()["status"] == "CONFIRMED" and full_loads == []
    # Adding cargo never makes room: the refusal still stands on 40 + 20, without a replan.
    again = await book(client, exporter, departure_id, 30)
    assert again.json()["status"] == "WAITLISTED" and full_loads == []


async def test_refusals_are_forgotten_when_a_booking_leaves(client, exporter, network, request):
    departure_id = network["departure_id"]  # 2 TEU: one 40HC of 66 CBM
    first = await book(client, exporter, departure_id, 40)
    refused = await book(client, exporter, departure_id, 30)
    assert refused.json()["status"] == "WAITLISTED"
    cancelled = await client.post(f"/v1/bookings/{first.json()['reference']}/cancel", headers=exporter)
    assert cancelled.status_code == 200
    # The waitlisted 30 CBM was promoted into the room; another 30 fits beside it.
    later = await book(client, exporter, departure_id, 30)
    assert later.json()["status"] == "CONFIRMED"


async def test_a_quote_loads_a_projection_once_and_again_only_when_its_riders_change(
        client, exporter, network, monkeypatch, elsewhere):
    """A process that did not make the bookings loads the departure's projection for the first quote
    that asks, and keeps it for the next; a change of its riders committed elsewhere loads it anew."""
    departure_id = network["departure_id"]
    booked = await book(client, exporter, departure_id, 20)
    space._cache.clear()  # as in another process: nothing of this departure is cached
    loads: list[int] = []
    original = space._load

    async def counting_load(*args, **kwargs):
        loads.append(args[1].id)
        return await original(*args, **kwargs)

    monkeypatch.setattr(space, "_load", counting_load)
    five = [line_of_cbm(5)]
    first = await quote(client, exporter, cargo=five)
    assert first["options"][0]["legs"][0]["departure_id"] == departure_id and loads == [departure_id]
    await quote(client, exporter, cargo=five)
    assert loads == [departure_id]  # the second quote packs from the cache
    async with AsyncSession(elsewhere) as session:  # another process amends the booking behind this one's back
        await session.execute(update(Booking).where(Booking.reference == booked.json()["reference"])
                              .values(weight_kg=Booking.weight_kg + 100, version=Booking.version + 1))
        await session.commit()
    await quote(client, exporter, cargo=five)
    assert loads == [departure_id, departure_id]
