"""Space control under racing requests: nothing is oversold."""

import asyncio

import pytest

from tests.conftest import IS_POSTGRES
from tests.factories import booking_body, cargo_line, line_of_cbm


async def test_fifty_concurrent_bookings_never_oversell_ten_places(client, exporter, network):
    departure_id = network["departure_id"]  # 2 TEU × 33 = 66 CBM: room for exactly ten 6.6 CBM bookings
    body = booking_body(departure_id, cargo=[line_of_cbm(6.6)])
    responses = await asyncio.gather(*(client.post("/v1/bookings", json=body, headers=exporter) for _ in range(50)))
    assert all(r.status_code == 201 for r in responses), {r.status_code for r in responses}
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("CONFIRMED") == 10 and statuses.count("WAITLISTED") == 40
    departure = (await client.get(f"/v1/departures/{departure_id}", headers=exporter)).json()
    assert departure["booked_cbm"] == pytest.approx(66.0) and departure["booked_cbm"] <= 66.0 + 1e-6


async def test_concurrent_amendments_and_cancellations_keep_the_books_straight(client, exporter, network):
    departure_id = network["departure_id"]
    created = [
        (await client.post("/v1/bookings", json=booking_body(departure_id, cargo=[line_of_cbm(6)]), headers=exporter))
        for _ in range(10)
    ]  # 60 of 66 CBM confirmed
    grow = [
        client.patch(
            f"/v1/bookings/{r.json()['reference']}",
            json={"cargo": [line_of_cbm(9)]},
            headers=exporter | {"If-Match": r.headers["etag"]},
        )
        for r in created
    ]
    results = await asyncio.gather(*grow)
    assert sorted(r.status_code for r in results) == [200, 200] + [409] * 8  # 6 CBM free: two grow by 3
    departure = (await client.get(f"/v1/departures/{departure_id}", headers=exporter)).json()
    assert departure["booked_cbm"] == pytest.approx(66.0)


@pytest.mark.skipif(not IS_POSTGRES, reason="rollover lock ordering is exercised against real row locks")
async def test_concurrent_rollovers_fill_departures_in_order_without_deadlock(client, exporter, network):
    first_id = network["departures"][0]["id"]
    body = booking_body(first_id, cargo=[cargo_line(packages=1, length_cm=200, width_cm=200, height_cm=550, weight_kg=10)],
                        allow_rollover=True)  # 22 CBM: three per departure
    responses = await asyncio.gather(*(client.post("/v1/bookings", json=body, headers=exporter) for _ in range(10)))
    by_departure: dict[int, int] = {}
    for r in responses:
        assert r.status_code == 201
        if r.json()["status"] == "CONFIRMED":
            by_departure[r.json()["departure_id"]] = by_departure.get(r.json()["departure_id"], 0) + 1
    assert by_departure == {d["id"]: 3 for d in network["departures"]}
