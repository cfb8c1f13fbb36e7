"""What a partner that reports events (events:write) sees of them afterwards (issue 12, item 14): the
TRANSPORT and EQUIPMENT events it recorded and those of the departures it reports on, in the feed, the
DCSA view and its webhooks; never the SHIPMENT events of the bookings its reports moved."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.factories import booking_body

CONTAINER = "CSQU3054383"


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def transport(departure_id: int, code: str, location: str, when: datetime, classifier: str = "ACT") -> dict:
    return {"event_type": "TRANSPORT", "event_classifier": classifier, "code": code, "location": location,
            "event_datetime": when.isoformat(), "departure_id": departure_id}


async def record(client, headers, body: dict) -> dict:
    response = await client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def feed(client, headers, **params) -> list[dict]:
    response = await client.get("/v1/events", params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def received_booking(client, operator, exporter, departure_id: int) -> str:
    booking = await client.post("/v1/bookings", json=booking_body(departure_id), headers=exporter)
    assert booking.status_code == 201, booking.text
    reference = booking.json()["reference"]
    receipt = {"pieces": 10, "weight_kg": 180, "volume_cbm": 1.2}
    response = await client.post(f"/v1/bookings/{reference}/receipt", json=receipt, headers=operator)
    assert response.status_code == 200, response.text
    return reference


async def test_a_partner_sees_its_reports_and_the_events_of_the_trains_it_reports_on(
    client, operator, exporter, partner, network
):
    first, second = network["departures"][0]["id"], network["departures"][1]["id"]
    reference = await received_booking(client, operator, exporter, first)
    estimate = await record(client, operator, transport(first, "DEPA", "CNWUH-WJS", now(), "EST"))
    elsewhere = await record(client, operator, transport(second, "DEPA", "CNWUH-WJS", now(), "EST"))
    assert await feed(client, partner) == []

    left = await record(client, partner, transport(first, "DEPA", "CNWUH-WJS", now() - timedelta(hours=1)))
    arrived = await record(client, operator, transport(first, "ARRI", "DEDUI", now()))
    seen = await feed(client, partner)
    # Its own report, and what others report of the same train; not the other train, not the booking's events.
    assert [e["id"] for e in seen] == [estimate["id"], left["id"], arrived["id"]]
    assert elsewhere["id"] not in [e["id"] for e in seen]
    assert all(e["event_type"] == "TRANSPORT" for e in seen)
    assert await feed(client, partner, booking=reference) == []
    # The exporter still sees its booking move (its SHIPMENT events are its own).
    codes = [e["code"] for e in await feed(client, exporter, event_type="SHIPMENT")]
    assert codes == ["CONF", "CRCV", "TRNS", "ARRV"]

    # The DCSA view shows the partner the same events.
    response = await client.get("/dcsa/tnt/v2/events", headers=partner)
    assert response.status_code == 200, response.text
    assert [(e["eventType"], e["transportEventTypeCode"], e["eventClassifierCode"]) for e in response.json()] == [
        ("TRANSPORT", "DEPA", "EST"), ("TRANSPORT", "DEPA", "ACT"), ("TRANSPORT", "ARRI", "ACT")]


async def test_a_partner_gets_webhooks_for_the_trains_it_reports_on_but_not_their_bookings(
    app, monkeypatch, client, operator, exporter, partner, network
):
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_allow_private_urls": True}))
    first = network["departure_id"]
    await received_booking(client, operator, exporter, first)
    plan = await client.post(f"/v1/departures/{first}/plan", json={}, headers=operator)
    assert plan.status_code == 201, plan.text
    container_id = plan.json()["containers"][0]["id"]
    numbered = await client.patch(f"/v1/containers/{container_id}", json={"container_number": CONTAINER},
                                  headers=operator)
    assert numbered.status_code == 200, numbered.text
    response = await client.post(
        "/v1/webhook-subscriptions",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["SHIPMENT", "TRANSPORT", "EQUIPMENT"]},
        headers=partner,
    )
    assert response.status_code == 201, response.text
    subscription_id = response.json()["id"]

    gate_in = await record(client, partner, {
        "event_type": "EQUIPMENT", "event_classifier": "ACT", "code": "GTIN", "location": "CNWUH-WJS",
        "event_datetime": (now() - timedelta(hours=3)).isoformat(), "container_number": CONTAINER,
    })
    stuffed = await record(client, operator, {
        "event_type": "EQUIPMENT", "event_classifier": "ACT", "code": "STUF", "location": "CNWUH-WJS",
        "event_datetime": (now() - timedelta(hours=2)).isoformat(), "container_number": CONTAINER,
    })
    left = await record(client, partner, transport(first, "DEPA", "CNWUH-WJS", now() - timedelta(hours=1)))
    arrived = await record(client, operator, transport(first, "ARRI", "DEDUI", now()))

    response = await client.get(f"/v1/webhook-subscriptions/{subscription_id}/deliveries",
                                params={"limit": 100}, headers=partner)
    assert response.status_code == 200, response.text
    delivered = sorted(d["event_id"] for d in response.json()["items"])
    assert delivered == [gate_in["id"], stuffed["id"], left["id"], arrived["id"]]
    assert [e["id"] for e in await feed(client, partner)] == delivered
