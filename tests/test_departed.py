"""A train that has left takes nothing more: an actual departure makes the departure DEPARTED, an actual
arrival at its last stop ARRIVED, in the transaction that records the event (issue 12, item 1)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests import factories
from tests.factories import booking_body, cargo_line


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def transport(departure_id: int, code: str, location: str, when: datetime, classifier: str = "ACT") -> dict:
    return {"event_type": "TRANSPORT", "event_classifier": classifier, "code": code, "location": location,
            "event_datetime": when.isoformat(), "departure_id": departure_id}


async def record(client, headers, body: dict) -> dict:
    response = await client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def status_of(client, headers, departure_id: int) -> str:
    response = await client.get(f"/v1/departures/{departure_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def test_an_actual_departure_closes_the_train_to_bookings_and_changes(client, operator, exporter, network):
    departure_id = network["departure_id"]
    booked = await client.post("/v1/bookings", json=booking_body(departure_id), headers=exporter)
    assert booked.status_code == 201 and booked.json()["status"] == "CONFIRMED"
    reference = booked.json()["reference"]
    etag = booked.headers["etag"]
    plan = await client.post(f"/v1/departures/{departure_id}/plan", json={}, headers=operator)
    assert plan.status_code == 201, plan.text
    container_id = plan.json()["containers"][0]["id"]

    # The train leaves early, before its cut-off: the cut-off alone would still let bookings in.
    event = await record(client, operator, transport(departure_id, "DEPA", "CNWUH-WJS", now() - timedelta(hours=1)))
    assert event["departure_status"] == "DEPARTED"
    assert await status_of(client, exporter, departure_id) == "DEPARTED"
    feed = (await client.get("/v1/events", params={"departure": departure_id}, headers=exporter)).json()["items"]
    assert [e["departure_status"] for e in feed] == ["DEPARTED"]

    refused = [
        await client.post("/v1/bookings", json=booking_body(departure_id), headers=exporter),
        await client.patch(f"/v1/bookings/{reference}", json={"allow_rollover": True},
                           headers={**exporter, "If-Match": etag}),
        await client.post(f"/v1/bookings/{reference}/cancel", headers=exporter),
        await client.post(f"/v1/departures/{departure_id}/plan", json={}, headers=operator),
        await client.post(f"/v1/departures/{departure_id}/plan/lock", json={"all": True}, headers=operator),
        await client.patch(f"/v1/containers/{container_id}", json={"seal_number": "CN1234567"}, headers=operator),
    ]
    for response in refused:
        assert response.status_code == 409, response.text
        assert f"departure {departure_id}" in response.json()["detail"] and (
            "DEPARTED" in response.json()["detail"]), response.text
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["status"] == "CONFIRMED"


async def test_quotes_leave_out_a_train_that_has_left(client, operator, exporter, network):
    first = network["departure_id"]
    body = {"origin": "CNWUH", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
            "cargo": [cargo_line()]}

    async def offered() -> set[int]:
        response = await client.post("/v1/quotes", json=body, headers=exporter)
        assert response.status_code == 201, response.text
        return {leg["departure_id"] for option in response.json()["options"] for leg in option["legs"]}

    assert first in await offered()
    await record(client, operator, transport(first, "DEPA", "CNWUH-WJS", now() - timedelta(minutes=30)))
    assert first not in await offered()


async def test_an_arrival_at_the_last_stop_makes_it_arrived_even_before_its_departure_is_told(client, operator, network):
    first, second = network["departures"][0]["id"], network["departures"][1]["id"]
    # In order: departed, then arrived.
    await record(client, operator, transport(first, "DEPA", "CNWUH-WJS", now() - timedelta(hours=3)))
    event = await record(client, operator, transport(first, "ARRI", "DEDUI", now() - timedelta(hours=1)))
    assert event["departure_status"] == "ARRIVED" and await status_of(client, operator, first) == "ARRIVED"
    # Out of order: the arrival comes first; the late departure report does not undo it.
    await record(client, operator, transport(second, "ARRI", "DEDUI", now() - timedelta(hours=1)))
    assert await status_of(client, operator, second) == "ARRIVED"
    late = await record(client, operator, transport(second, "DEPA", "CNWUH-WJS", now() - timedelta(hours=3)))
    assert late["departure_status"] == "ARRIVED" and await status_of(client, operator, second) == "ARRIVED"
    response = await client.post("/v1/bookings", json=booking_body(second), headers=operator)
    assert response.status_code == 409 and "ARRIVED" in response.json()["detail"]


async def test_a_departure_or_arrival_at_a_stop_on_the_way_means_the_train_has_left(client, operator, network):
    first, second, third = (d["id"] for d in network["departures"])
    await record(client, operator, transport(first, "DEPA", "CNAKL", now() - timedelta(hours=1)))
    assert await status_of(client, operator, first) == "DEPARTED"
    await record(client, operator, transport(second, "ARRI", "PLMAA", now() - timedelta(hours=1)))
    assert await status_of(client, operator, second) == "DEPARTED"
    # Planned and estimated times move nothing.
    estimate = await record(client, operator, transport(third, "DEPA", "CNWUH-WJS", now() + timedelta(days=9), "EST"))
    assert estimate["departure_status"] == "OPEN" and await status_of(client, operator, third) == "OPEN"


async def test_a_cancelled_departure_stays_cancelled(client, operator, network):
    departure_id = network["departure_id"]
    response = await client.patch(f"/v1/departures/{departure_id}", json={"status": "CANCELLED"}, headers=operator)
    assert response.status_code == 200, response.text
    await record(client, operator, transport(departure_id, "DEPA", "CNWUH-WJS", now() - timedelta(hours=1)))
    assert await status_of(client, operator, departure_id) == "CANCELLED"
