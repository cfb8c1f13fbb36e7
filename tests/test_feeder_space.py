"""A booking made from a quote holds space on its feeder legs too, not only on its main departure.

The network: a truck from Changsha to the Wuhan rail terminal (one 20GP: 28 CBM) that
feeds the train to Duisburg (tests.test_tracking_quotes.road_then_rail).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from app.consolidation.models import SpaceSlot
from tests import factories
from tests.conftest import postgres_only
from tests.factories import booking_body, cargo_line
from tests.test_tracking_quotes import road_then_rail


def cubes(cbm: int) -> dict:
    """``cbm`` one-metre cartons: light, so charged by volume on every service."""
    return cargo_line(packages=cbm, length_cm=100, width_cm=100, height_cm=100, weight_kg=50 * cbm)


async def road_rail_option(client, exporter, cbm: int) -> dict:
    response = await client.post("/v1/quotes", headers=exporter, json={
        "origin": "CNCSX", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
        "cargo": [cubes(cbm)]})
    assert response.status_code == 201, response.text
    return {tuple(o["modes"]): o for o in response.json()["options"]}[("ROAD", "RAIL")]


async def book_option(client, exporter, option: dict):
    return await client.post("/v1/bookings", headers=exporter, json={
        "quote_option_id": option["id"], "consignee": booking_body(1)["consignee"]})


async def book_truck(client, exporter, road_id: int, cbm: int) -> dict:
    response = await client.post("/v1/bookings", headers=exporter, json=booking_body(road_id, cargo=[cubes(cbm)]))
    assert response.status_code == 201, response.text
    return response.json()


async def test_quoted_cargo_on_the_truck_takes_its_space_from_direct_bookings(client, operator, exporter):
    network = await road_then_rail(client, operator)
    road_id = network["road"]["id"]
    quoted = await book_option(client, exporter, await road_rail_option(client, exporter, 16))
    assert quoted.status_code == 201, quoted.text
    assert quoted.json()["status"] == "CONFIRMED"

    # 16 + 16 CBM do not pack into the truck's one 20GP (28 CBM).
    direct = await book_truck(client, exporter, road_id, 16)
    assert direct["status"] == "WAITLISTED"
    truck = (await client.get(f"/v1/departures/{road_id}", headers=exporter)).json()
    assert truck["booked_cbm"] == pytest.approx(16.0)

    # Cancelling the quoted booking frees the truck: the waitlisted booking is confirmed.
    response = await client.post(f"/v1/bookings/{quoted.json()['reference']}/cancel", headers=exporter)
    assert response.status_code == 200, response.text
    waiting = (await client.get(f"/v1/bookings/{direct['reference']}", headers=exporter)).json()
    assert waiting["status"] == "CONFIRMED"


async def test_an_option_whose_truck_filled_up_since_the_quote_is_refused_and_writes_nothing(client, operator, exporter):
    network = await road_then_rail(client, operator)
    road_id = network["road"]["id"]
    option = await road_rail_option(client, exporter, 16)
    await book_truck(client, exporter, road_id, 16)  # after the quote: the truck now has 12 CBM left

    response = await book_option(client, exporter, option)
    assert response.status_code == 409, response.text
    assert f"departure {road_id}" in response.json()["detail"]
    bookings = (await client.get("/v1/bookings", headers=exporter)).json()["items"]
    assert len(bookings) == 1  # the truck booking alone
    assert (await client.get(f"/v1/quote-options/{option['id']}", headers=exporter)).json()["booking_reference"] is None


async def test_an_amendment_that_no_longer_fits_the_truck_is_refused(client, operator, exporter):
    network = await road_then_rail(client, operator)
    quoted = await book_option(client, exporter, await road_rail_option(client, exporter, 10))
    await book_truck(client, exporter, network["road"]["id"], 16)  # 26 of 28 CBM on the truck

    response = await client.patch(
        f"/v1/bookings/{quoted.json()['reference']}", json={"cargo": [cubes(14)]},
        headers=exporter | {"If-Match": quoted.headers["etag"]},
    )
    assert response.status_code == 409, response.text
    assert f"departure {network['road']['id']}" in response.json()["detail"]


@postgres_only
async def test_concurrent_quoted_bookings_never_oversell_the_truck(app, client, operator, exporter):
    network = await road_then_rail(client, operator)
    road_id = network["road"]["id"]
    options = [await road_rail_option(client, exporter, 9) for _ in range(6)]  # three 9 CBM fit one 20GP

    responses = await asyncio.gather(*(book_option(client, exporter, option) for option in options))
    assert sorted(r.status_code for r in responses) == [201, 201, 201, 409, 409, 409]
    assert all(r.json()["status"] == "CONFIRMED" for r in responses if r.status_code == 201)
    async with app.state.sessionmaker() as session:
        slots = list(await session.scalars(select(SpaceSlot).where(SpaceSlot.departure_id == road_id)))
    assert len(slots) == 3 and {slot.slot for slot in slots} == {1}


async def test_a_quote_leaves_out_a_truck_the_cargo_no_longer_packs_into(client, operator, exporter):
    network = await road_then_rail(client, operator)
    road_id = network["road"]["id"]
    await book_truck(client, exporter, road_id, 16)
    # By volume the truck has 33 - 16 = 17 CBM left, but its one 20GP holds 28: 16 + 14 do not pack.
    response = await client.post("/v1/quotes", headers=exporter, json={
        "origin": "CNCSX", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
        "cargo": [cubes(14)]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert all(road_id not in [leg["departure_id"] for leg in option["legs"]] for option in body["options"])
    [left_out] = [item for item in body["left_out"] if item["departure_id"] == road_id]
    assert left_out["reason"] == "DEPARTURE_FULL" and "cannot pack" in left_out["detail"]


@pytest.mark.parametrize("change", ["amend", "cancel"])
async def test_a_quoted_booking_is_closed_once_its_truck_is_past_its_cutoff(app, client, operator, exporter, change):
    """The train's cut-off is days away, but the truck that carries the cargo to it has closed:
    the cargo can no longer change or be withdrawn, and nothing is written."""
    from datetime import timedelta

    from app.db import utcnow
    from app.network.models import Departure

    network = await road_then_rail(client, operator)
    booked = await book_option(client, exporter, await road_rail_option(client, exporter, 4))
    quoted = booked.json()
    async with app.state.sessionmaker() as session:
        truck = await session.get(Departure, network["road"]["id"])
        truck.cutoff_at = utcnow() - timedelta(minutes=1)
        await session.commit()

    path = f"/v1/bookings/{quoted['reference']}"
    if change == "amend":
        response = await client.patch(path, json={"cargo": [cubes(5)]}, headers=exporter | {"If-Match": booked.headers["etag"]})
    else:
        response = await client.post(f"{path}/cancel", headers=exporter)
    assert response.status_code == 409, response.text
    assert f"departure {network['road']['id']} (ROAD) has closed" in response.json()["detail"]
    after = (await client.get(path, headers=exporter)).json()
    assert after["status"] == "CONFIRMED" and after["version"] == quoted["version"]
    assert after["chargeable_cbm"] == quoted["chargeable_cbm"]


async def test_departures_are_locked_by_when_they_leave_their_origin_not_by_id(app, client, operator, monkeypatch):
    """Roll-overs lock a line's departures in departure-time order; every path that locks several
    must take the same order, or two of them can wait on each other for good."""
    from app.network import service as network

    legs = await road_then_rail(client, operator)  # the truck was created after the train, and leaves first
    truck, train = legs["road"]["id"], legs["rail"]["id"]
    assert truck > train
    order, get_departure = [], network.get_departure

    async def recording(session, departure_id, **kwargs):
        order.append(departure_id)
        return await get_departure(session, departure_id, **kwargs)

    monkeypatch.setattr(network, "get_departure", recording)
    async with app.state.sessionmaker() as session:
        locked = await network.lock_departures(session, {train, truck})
        await session.rollback()
    assert order == [truck, train] and set(locked) == {truck, train}


async def test_a_quoted_booking_whose_truck_the_hub_cancelled_can_still_be_cancelled_not_amended(client, operator, exporter):
    """The hub cancelled the feeding truck: the booking is at risk and the exporter must be able
    to withdraw it; changing its cargo waits for a way to make the connection."""
    network = await road_then_rail(client, operator)
    booked = await book_option(client, exporter, await road_rail_option(client, exporter, 4))
    response = await client.patch(f"/v1/departures/{network['road']['id']}", json={"status": "CANCELLED"}, headers=operator)
    assert response.status_code == 200, response.text
    path = f"/v1/bookings/{booked.json()['reference']}"
    amended = await client.patch(path, json={"cargo": [cubes(5)]}, headers=exporter | {"If-Match": booked.headers["etag"]})
    assert amended.status_code == 409 and "is CANCELLED" in amended.json()["detail"]
    cancelled = await client.post(f"{path}/cancel", headers=exporter)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
