"""The event feed can be polled: its last page's cursor stands after what was seen, so the next poll
returns what was recorded since; every list's cursors are signed (issue 12, item 10)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

from app.pagination import encode_cursor
from tests.factories import booking_body


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def estimate(departure_id: int) -> dict:
    return {"event_type": "TRANSPORT", "event_classifier": "EST", "code": "DEPA", "location": "CNWUH-WJS",
            "event_datetime": (now() + timedelta(days=9)).isoformat(), "departure_id": departure_id}


async def page(client, headers, **params) -> dict:
    response = await client.get("/v1/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_poller_keeps_its_place_at_the_end_of_the_feed(client, operator, exporter, network):
    first, second = network["departures"][0]["id"], network["departures"][1]["id"]
    booked = await client.post("/v1/bookings", json=booking_body(first), headers=exporter)
    assert booked.status_code == 201
    one = await page(client, exporter)
    assert [e["code"] for e in one["items"]] == ["CONF"] and one["has_more"] is False and one["next_cursor"]

    # Nothing new: an empty page, and a cursor that still works.
    empty = await page(client, exporter, cursor=one["next_cursor"])
    assert empty["items"] == [] and empty["has_more"] is False and empty["next_cursor"]
    # Events the exporter may not see come and go: its empty page moves past them.
    for _ in range(3):
        response = await client.post("/v1/events", json=estimate(second), headers=operator)
        assert response.status_code == 201
    skipped = await page(client, exporter, cursor=empty["next_cursor"])
    assert skipped["items"] == []
    response = await client.post("/v1/events", json=estimate(first), headers=operator)
    assert response.status_code == 201
    later = await page(client, exporter, cursor=skipped["next_cursor"], limit=1)
    assert [e["id"] for e in later["items"]] == [response.json()["id"]] and later["has_more"] is False
    # Paging through a backlog: has_more until the poller has caught up.
    backlog = await page(client, operator, limit=2)
    assert len(backlog["items"]) == 2 and backlog["has_more"] is True


async def test_cursors_are_signed_for_their_list(client, operator, exporter, network):
    for _ in range(3):
        await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=exporter)
    bookings = (await client.get("/v1/bookings", params={"limit": 1}, headers=exporter)).json()
    feed = await page(client, exporter, limit=1)
    assert bookings["next_cursor"] and feed["next_cursor"]
    rest = (await client.get("/v1/bookings", params={"cursor": bookings["next_cursor"]}, headers=exporter)).json()
    assert len(rest["items"]) == 2

    blob = bytearray(base64.urlsafe_b64decode(feed["next_cursor"] + "=" * (-len(feed["next_cursor"]) % 4)))
    blob[8] ^= 1  # another id, same signature
    tampered = base64.urlsafe_b64encode(bytes(blob)).decode().rstrip("=")
    refused = {
        "tampered": tampered,
        "another list's": bookings["next_cursor"],
        "another server's": encode_cursor(1, "events", key=b"k" * 32),
        "the unsigned old form": base64.urlsafe_b64encode(b"id:1").decode().rstrip("="),
    }
    for what, cursor in refused.items():
        response = await client.get("/v1/events", params={"cursor": cursor}, headers=exporter)
        assert response.status_code == 422, what
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"], what
    response = await client.get("/v1/bookings", params={"cursor": feed["next_cursor"]}, headers=exporter)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cursor"
    response = await client.get("/dcsa/tnt/v2/events", params={"cursor": feed["next_cursor"]}, headers=exporter)
    assert response.status_code == 400 and "cursor" in response.text
