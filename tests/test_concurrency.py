"""Space control under racing requests: nothing is oversold."""

import asyncio

import pytest

from tests.conftest import IS_POSTGRES
from tests.factories import booking_body, cargo_line, line_of_cbm


async def test_fifty_concurrent_bookings_never_oversell_ten_places(client, exporter, network):
    # 2 TEU: one 40HC, filled to 62.5 CBM at most (cargo.stuffable_cbm): room for exactly ten 6.2 CBM bookings
    departure_id = network["departure_id"]
    body = booking_body(departure_id, cargo=[line_of_cbm(6.2)])
    responses = await asyncio.gather(*(client.post("/v1/bookings", json=body, headers=exporter) for _ in range(50)))
    assert all(r.status_code == 201 for r in responses), {r.status_code for r in responses}
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("CONFIRMED") == 10 and statuses.count("WAITLISTED") == 40
    departure = (await client.get(f"/v1/departures/{departure_id}", headers=exporter)).json()
    assert departure["booked_cbm"] == pytest.approx(62.0)


async def test_concurrent_amendments_and_cancellations_keep_the_books_straight(client, exporter, network):
    departure_id = network["departure_id"]
    created = [
        (await client.post("/v1/bookings", json=booking_body(departure_id, cargo=[line_of_cbm(5.5)]), headers=exporter))
        for _ in range(10)
    ]  # 55 of the 62.5 CBM a 40HC is filled to confirmed
    grow = [
        client.patch(
            f"/v1/bookings/{r.json()['reference']}",
            json={"cargo": [line_of_cbm(9)]},
            headers=exporter | {"If-Match": r.headers["etag"]},
        )
        for r in created
    ]
    results = await asyncio.gather(*grow)
    assert sorted(r.status_code for r in results) == [200, 200] + [409] * 8  # 7.5 CBM free: two grow by 3.5
    departure = (await client.get(f"/v1/departures/{departure_id}", headers=exporter)).json()
    assert departure["booked_cbm"] == pytest.approx(62.0)


@pytest.mark.skipif(not IS_POSTGRES, reason="rollover lock ordering is exercised against real row locks")
async def test_concurrent_rollovers_fill_departures_in_order_without_deadlock(client, exporter, network):
    first_id = network["departures"][0]["id"]
    body = booking_body(first_id, cargo=[cargo_line(packages=4, length_cm=200, width_cm=200, height_cm=125, weight_kg=10)],
                        allow_rollover=True)  # 20 CBM: three per departure (a 40HC is filled to 62.5 CBM)
    responses = await asyncio.gather(*(client.post("/v1/bookings", json=body, headers=exporter) for _ in range(10)))
    by_departure: dict[int, int] = {}
    for r in responses:
        assert r.status_code == 201
        if r.json()["status"] == "CONFIRMED":
            by_departure[r.json()["departure_id"]] = by_departure.get(r.json()["departure_id"], 0) + 1
    assert by_departure == {d["id"]: 3 for d in network["departures"]}


@pytest.mark.skipif(not IS_POSTGRES, reason="SQLite has one writer: the operator's change waits for the request")
@pytest.mark.parametrize("change", ["amend", "cancel"])
async def test_a_departure_changed_while_a_booking_waits_for_its_lock_is_judged_as_it_is_now(
    app, client, operator, exporter, network, monkeypatch, change
):
    """The operator shrinks and closes the departure after the exporter's request has read the
    booking (and with it the departure) but before it holds the departure's lock: the request
    must judge the departure as it is under the lock, not as it was read."""
    from sqlalchemy import update

    from app.network.models import Departure
    from app.routing import rates

    departure_id = network["departure_id"]  # 2 TEU
    created = await client.post("/v1/bookings", json=booking_body(departure_id, cargo=[line_of_cbm(20)]), headers=exporter)
    held_legs = rates.held_legs

    changed = []

    async def operator_changes_it_meanwhile(session, booking_id):
        if not changed:  # once, before the request locks the departure (later calls hold the lock)
            changed.append(True)
            async with app.state.sessionmaker() as other:
                await other.execute(update(Departure).where(Departure.id == departure_id)
                                    .values(capacity_teu=1, status="CLOSED" if change == "cancel" else "OPEN"))
                await other.commit()
        return await held_legs(session, booking_id)

    monkeypatch.setattr(rates, "held_legs", operator_changes_it_meanwhile)
    path = f"/v1/bookings/{created.json()['reference']}"
    if change == "amend":  # 40 CBM fit 2 TEU (a 40HC), not the 1 TEU now left (a 20GP of 28)
        response = await client.patch(path, json={"cargo": [line_of_cbm(40)]}, headers=exporter | {"If-Match": created.headers["etag"]})
    else:
        response = await client.post(f"{path}/cancel", headers=exporter)
    assert response.status_code == 409, response.text
    monkeypatch.setattr(rates, "held_legs", held_legs)
    after = (await client.get(path, headers=exporter)).json()
    assert after["status"] == "CONFIRMED" and after["chargeable_cbm"] == pytest.approx(20.0)


async def test_a_booking_is_delivered_once_however_many_report_it_at_once(app, client, operator, exporter, network):
    from sqlalchemy import update

    from app.bookings.models import Booking

    reference = (await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=exporter)).json()["reference"]
    async with app.state.sessionmaker() as session:  # the train has arrived (the tracking suite's business)
        await session.execute(update(Booking).where(Booking.reference == reference).values(status="ARRIVED"))
        await session.commit()
    await asyncio.gather(*(client.get("/v1/hubs", headers=operator) for _ in range(6)))  # warm connections
    answers = await asyncio.gather(*(
        client.post(f"/v1/bookings/{reference}/deliver", json={"received_by": f"Clerk {i}"}, headers=operator)
        for i in range(4)
    ))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    events = (await client.get(f"/v1/bookings/{reference}/tracking", headers=exporter)).json()["events"]
    assert [e["booking_status"] for e in events if e["event_type"] == "SHIPMENT"].count("DELIVERED") == 1


async def test_concurrent_reads_of_a_booking_without_legs_give_it_its_legs_once(app, client, operator, exporter, network):
    """A riding booking that has no legs (made before tracking existed, or moved off a cancelled
    departure) gets them on the first read; readers at once must not insert them twice (a 500)."""
    from sqlalchemy import delete, func, select

    from app.tracking.models import DepartureCall, Leg

    reference = (await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=exporter)).json()["reference"]
    received = await client.post(f"/v1/bookings/{reference}/receipt",
                                 json={"pieces": 1, "weight_kg": 10, "volume_cbm": 1.2}, headers=operator)
    assert received.status_code == 200
    async with app.state.sessionmaker() as session:
        await session.execute(delete(Leg))
        await session.execute(delete(DepartureCall))
        await session.commit()
    await asyncio.gather(*(client.get("/v1/hubs", headers=exporter) for _ in range(6)))  # warm connections
    answers = await asyncio.gather(*(client.get(f"/v1/bookings/{reference}/tracking", headers=exporter) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert len({len(a.json()["legs"]) for a in answers}) == 1
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Leg)) == len(answers[0].json()["legs"])
