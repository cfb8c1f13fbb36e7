"""EQUIPMENT events on consolidation containers: resolution by container number on the
current plan version, fan-out to the container's bookings, STUF statuses, visibility, order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.events.models import TrackingEvent
from tests.factories import booking_body, line_of_cbm

FLAMMABLE_BOX = "CSQU3054383"
OXIDISER_BOX = "MSKU9070323"


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def dg_line(cbm: float, dg_class: str, un_number: str = "1263") -> dict:
    return line_of_cbm(cbm) | {"dangerous_goods": {"un_number": un_number, "class": dg_class, "packing_group": "II"}}


async def book(client, headers, departure_id, **overrides) -> dict:
    response = await client.post("/v1/bookings", json=booking_body(departure_id, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "CONFIRMED", response.text
    return response.json()


def equipment(number: str, code: str, when: datetime, location: str = "CNWUH-WJS", classifier: str = "ACT",
              **extra) -> dict:
    return {"event_type": "EQUIPMENT", "event_classifier": classifier, "code": code, "location": location,
            "event_datetime": when.isoformat(), "container_number": number, **extra}


async def post_event(client, headers, body: dict, expect: int = 201) -> dict:
    response = await client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == expect, response.text
    return response.json()


async def status_of(client, headers, reference: str) -> str:
    response = await client.get(f"/v1/bookings/{reference}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def timeline(client, headers, reference: str) -> list[tuple[str, str, str | None]]:
    response = await client.get(f"/v1/bookings/{reference}/tracking", headers=headers)
    assert response.status_code == 200, response.text
    return [(e["event_type"], e["code"], e["container_number"]) for e in response.json()["events"]]


async def feed(client, headers, **params) -> list[dict]:
    response = await client.get("/v1/events", params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def receive(client, operator, reference: str) -> None:
    response = await client.post(f"/v1/bookings/{reference}/receipt",
                                 json={"pieces": 1, "weight_kg": 10, "volume_cbm": 3}, headers=operator)
    assert response.status_code == 200, response.text


@pytest.fixture
async def boxes(client, operator, exporter, other_exporter, network) -> dict:
    """Two numbered containers on the first departure: flammables of both exporters in one (DG
    class 3 must not travel with the class 5.1 oxidiser), the first exporter's oxidiser in the other."""
    departure_id = network["departure_id"]
    mine = await book(client, exporter, departure_id, cargo=[dg_line(3, "3")])
    theirs = await book(client, other_exporter, departure_id, cargo=[dg_line(3, "3")])
    oxidiser = await book(client, exporter, departure_id, cargo=[dg_line(3, "5.1", "1479")])
    response = await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)
    assert response.status_code in (200, 201), response.text
    holding = {ref: c for c in response.json()["containers"] for ref in c["bookings"]}
    flammable, other = holding[mine["reference"]], holding[oxidiser["reference"]]
    assert sorted(flammable["bookings"]) == sorted([mine["reference"], theirs["reference"]])
    assert other["bookings"] == [oxidiser["reference"]]
    for container, number in ((flammable, FLAMMABLE_BOX), (other, OXIDISER_BOX)):
        response = await client.patch(f"/v1/containers/{container['id']}", json={"container_number": number},
                                      headers=operator)
        assert response.status_code == 200, response.text
    return {"departure_id": departure_id, "mine": mine["reference"], "theirs": theirs["reference"],
            "oxidiser": oxidiser["reference"], "flammable_id": flammable["id"]}


async def equipment_rows(app) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(
            select(func.count()).select_from(TrackingEvent).where(TrackingEvent.event_type == "EQUIPMENT")
        )


async def test_unknown_or_superseded_container_is_422_on_container_number(client, app, operator, exporter, boxes):
    unknown = await post_event(client, operator, equipment("TGHU1234567", "GTIN", now()), expect=422)
    assert [e["field"] for e in unknown["errors"]] == ["container_number"]
    # Another departure's id does not reach this departure's container.
    elsewhere = await post_event(client, operator, equipment(FLAMMABLE_BOX, "GTIN", now(), departure_id=999999),
                                 expect=422)
    assert [e["field"] for e in elsewhere["errors"]] == ["container_number"]
    assert (await post_event(client, operator, equipment(FLAMMABLE_BOX, "PICK", now()), expect=422))["errors"][0]["field"] == "code"
    assert (await post_event(client, operator, equipment(FLAMMABLE_BOX, "GTIN", now(), location="XXNOPE"),
                             expect=422))["errors"][0]["field"] == "location"
    await post_event(client, exporter, equipment(FLAMMABLE_BOX, "GTIN", now()), expect=403)

    # Replanning without locks makes a new version whose containers carry no numbers yet.
    response = await client.post(f"/v1/departures/{boxes['departure_id']}/plan", headers=operator)
    assert response.status_code in (200, 201), response.text
    stale = await post_event(client, operator, equipment(FLAMMABLE_BOX, "GTIN", now()), expect=422)
    assert [e["field"] for e in stale["errors"]] == ["container_number"]
    assert "plan version 1" in stale["detail"] + str(stale["errors"])
    assert await equipment_rows(app) == 0


async def test_stuffing_fans_out_to_the_container_s_bookings_only(client, operator, exporter, other_exporter, boxes):
    await receive(client, operator, boxes["mine"])
    await receive(client, operator, boxes["oxidiser"])
    stuffed = await post_event(client, operator, equipment(FLAMMABLE_BOX, "STUF", now() - timedelta(hours=2)))
    assert stuffed["container_number"] == FLAMMABLE_BOX and stuffed["departure_id"] == boxes["departure_id"]
    assert stuffed["bookings_updated"] == 1
    # The other exporter's cargo never reached the CFS: it is not marked stuffed, and the response says so.
    assert [(s["booking_reference"], s["status"]) for s in stuffed["skipped"]] == [(boxes["theirs"], "CONFIRMED")]
    assert await status_of(client, operator, boxes["mine"]) == "STUFFED"
    assert await status_of(client, operator, boxes["theirs"]) == "CONFIRMED"
    assert await status_of(client, operator, boxes["oxidiser"]) == "CARGO_RECEIVED"  # another container

    # Gate-out, load, and an estimate change nothing but the timelines of the container's bookings.
    for code, hours in (("GTOT", 1.5), ("LOAD", 1)):
        recorded = await post_event(client, operator, equipment(FLAMMABLE_BOX, code, now() - timedelta(hours=hours)))
        assert recorded["bookings_updated"] == 0 and recorded["skipped"] is None
    await post_event(client, operator, equipment(FLAMMABLE_BOX, "DISC", now() + timedelta(days=20),
                                                 location="DEDUI", classifier="EST"))
    assert await status_of(client, operator, boxes["mine"]) == "STUFFED"
    mine = await timeline(client, exporter, boxes["mine"])
    assert [e for e in mine if e[0] == "EQUIPMENT"] == [
        ("EQUIPMENT", code, FLAMMABLE_BOX) for code in ("STUF", "GTOT", "LOAD", "DISC")
    ]
    assert ("SHIPMENT", "STFD", None) in mine
    assert [e for e in await timeline(client, exporter, boxes["oxidiser"]) if e[0] == "EQUIPMENT"] == []
    theirs = await timeline(client, other_exporter, boxes["theirs"])
    assert [e[1] for e in theirs if e[0] == "EQUIPMENT"] == ["STUF", "GTOT", "LOAD", "DISC"]
    assert ("SHIPMENT", "STFD", None) not in theirs

    # Stripping at the destination is recorded; it does not deliver (delivery is its own fact).
    stripped = await post_event(client, operator, equipment(FLAMMABLE_BOX, "STRP", now(), location="DEDUI"))
    assert stripped["bookings_updated"] == 0
    assert await status_of(client, operator, boxes["mine"]) == "STUFFED"


@pytest.fixture
def allow_private(app, monkeypatch):
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_allow_private_urls": True}))


async def subscribe(client, headers) -> int:
    response = await client.post("/v1/webhook-subscriptions",
                                 json={"url": "http://127.0.0.1:9/hook", "event_types": ["EQUIPMENT", "SHIPMENT"]},
                                 headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def delivered_events(client, headers, subscription_id: int) -> set[int]:
    response = await client.get(f"/v1/webhook-subscriptions/{subscription_id}/deliveries", params={"limit": 100},
                                headers=headers)
    assert response.status_code == 200, response.text
    return {d["event_id"] for d in response.json()["items"]}


async def test_two_exporters_sharing_a_container_see_its_events_not_each_other_s(
    client, operator, exporter, other_exporter, boxes, allow_private
):
    mine_hook, theirs_hook = await subscribe(client, exporter), await subscribe(client, other_exporter)
    await receive(client, operator, boxes["mine"])
    await receive(client, operator, boxes["theirs"])
    stuffed = await post_event(client, operator, equipment(FLAMMABLE_BOX, "STUF", now()))
    assert stuffed["bookings_updated"] == 2 and stuffed["skipped"] == []
    oxidiser_in = await post_event(client, operator, equipment(OXIDISER_BOX, "GTIN", now()))

    for headers, own, foreign in ((exporter, boxes["mine"], boxes["theirs"]),
                                  (other_exporter, boxes["theirs"], boxes["mine"])):
        events = await feed(client, headers)
        equipment_ids = {e["id"] for e in events if e["event_type"] == "EQUIPMENT"}
        assert stuffed["id"] in equipment_ids
        references = {e["booking_reference"] for e in events if e["booking_reference"]}
        assert own in references and foreign not in references
        # The container filter narrows the same visible set.
        assert [e["id"] for e in await feed(client, headers, container=FLAMMABLE_BOX)] == [stuffed["id"]]
        foreign_view = await client.get(f"/v1/bookings/{foreign}/tracking", headers=headers)
        assert foreign_view.status_code == 404
    # Only the first exporter has cargo in the oxidiser's container.
    assert oxidiser_in["id"] in {e["id"] for e in await feed(client, exporter, event_type="EQUIPMENT")}
    assert oxidiser_in["id"] not in {e["id"] for e in await feed(client, other_exporter, event_type="EQUIPMENT")}
    assert await feed(client, other_exporter, container=OXIDISER_BOX) == []

    # Webhooks follow the same rules.
    mine_delivered = await delivered_events(client, exporter, mine_hook)
    theirs_delivered = await delivered_events(client, other_exporter, theirs_hook)
    assert {stuffed["id"], oxidiser_in["id"]} <= mine_delivered
    assert stuffed["id"] in theirs_delivered and oxidiser_in["id"] not in theirs_delivered
    operator_feed = await feed(client, operator, event_type="SHIPMENT")
    status_events = {e["booking_reference"]: e["id"] for e in operator_feed if e["code"] == "STFD"}
    assert status_events[boxes["mine"]] in mine_delivered and status_events[boxes["mine"]] not in theirs_delivered
    assert status_events[boxes["theirs"]] in theirs_delivered and status_events[boxes["theirs"]] not in mine_delivered


async def test_out_of_order_equipment_events_do_not_move_bookings_back(client, operator, exporter, boxes):
    await receive(client, operator, boxes["mine"])
    departed = now() - timedelta(hours=1)
    response = await client.post("/v1/events", json={
        "event_type": "TRANSPORT", "event_classifier": "ACT", "code": "DEPA", "location": "CNWUH-WJS",
        "event_datetime": departed.isoformat(), "departure_id": boxes["departure_id"]}, headers=operator)
    assert response.status_code == 201, response.text
    assert await status_of(client, operator, boxes["mine"]) == "IN_TRANSIT"

    # The stuffing and loading are reported late, load first: nothing moves back.
    loaded = await post_event(client, operator, equipment(FLAMMABLE_BOX, "LOAD", departed - timedelta(hours=1)))
    stuffed = await post_event(client, operator, equipment(FLAMMABLE_BOX, "STUF", departed - timedelta(hours=5)))
    assert stuffed["bookings_updated"] == 0
    assert [s["booking_reference"] for s in stuffed["skipped"]] == [boxes["theirs"]]
    assert await status_of(client, operator, boxes["mine"]) == "IN_TRANSIT"
    # The timeline is in event time, whatever the order of arrival.
    events = await timeline(client, exporter, boxes["mine"])
    order = [(t, c) for t, c, _ in events if (t, c) in {("EQUIPMENT", "STUF"), ("EQUIPMENT", "LOAD"), ("TRANSPORT", "DEPA")}]
    assert order == [("EQUIPMENT", "STUF"), ("EQUIPMENT", "LOAD"), ("TRANSPORT", "DEPA")]
    assert loaded["id"] < stuffed["id"]


async def test_a_replan_after_stuffing_keeps_the_stuffed_container(client, operator, exporter, boxes):
    await receive(client, operator, boxes["mine"])
    await post_event(client, operator, equipment(FLAMMABLE_BOX, "STUF", now() - timedelta(hours=1)))
    assert await status_of(client, operator, boxes["mine"]) == "STUFFED"
    # The container was never locked, but its cargo is inside it now: a new plan keeps it, number and all.
    response = await client.post(f"/v1/departures/{boxes['departure_id']}/plan", headers=operator)
    assert response.status_code in (200, 201), response.text
    holding = {ref: c for c in response.json()["containers"] for ref in c["bookings"]}
    assert holding[boxes["mine"]]["container_number"] == FLAMMABLE_BOX and holding[boxes["mine"]]["locked"]
    assert boxes["theirs"] in holding[boxes["mine"]]["bookings"]
    await post_event(client, operator, equipment(FLAMMABLE_BOX, "GTOT", now()))


async def test_a_partners_report_neither_names_nor_counts_other_organisations_bookings(
    client, operator, exporter, other_exporter, boxes
):
    """A forwarder granted events:write reports the stuffing of a shared container: its answer
    speaks of its own bookings only; the operator's answer to the same kind of report, of all."""
    from app.accounts.schemas import Scope
    from tests import factories

    forwarder = await factories.org_headers(client, operator, "Rhein Forwarding", "exporter",
                                            scopes=[Scope.BOOKINGS_READ.value, Scope.EVENTS_WRITE.value])
    await receive(client, operator, boxes["mine"])  # the other exporter's cargo never came
    stuffed = await post_event(client, forwarder, equipment(FLAMMABLE_BOX, "STUF", now()))
    assert stuffed["bookings_updated"] == 0  # the forwarder has no booking in the container
    assert stuffed["skipped"] == []
    assert boxes["theirs"] not in str(stuffed)

    restuffed = await post_event(client, operator, equipment(FLAMMABLE_BOX, "STUF", now()))
    assert [s["booking_reference"] for s in restuffed["skipped"]] == [boxes["theirs"]]

    # The train leaves with three bookings of two exporters, none of them the forwarder's.
    departed = {"event_type": "TRANSPORT", "event_classifier": "ACT", "code": "DEPA", "location": "CNWUH-WJS",
                "event_datetime": now().isoformat(), "departure_id": boxes["departure_id"]}
    assert (await post_event(client, forwarder, departed))["bookings_updated"] == 0
    assert await status_of(client, exporter, boxes["mine"]) == "IN_TRANSIT"


async def test_a_number_given_to_another_container_after_a_replan_shows_its_events_to_that_containers_bookings_only(
    client, operator, exporter, other_exporter, boxes
):
    """Plan 1 numbered the flammables' container (both exporters' cargo) FLAMMABLE_BOX. Plan 2
    gives that number to the container of the first exporter's oxidiser alone: its events are
    the first exporter's business, not the other's, whose cargo once rode under that number."""
    response = await client.post(f"/v1/departures/{boxes['departure_id']}/plan", headers=operator)
    assert response.status_code in (200, 201), response.text
    oxidiser_box = next(c for c in response.json()["containers"] if boxes["oxidiser"] in c["bookings"])
    assert boxes["theirs"] not in oxidiser_box["bookings"]
    numbered = await client.patch(f"/v1/containers/{oxidiser_box['id']}", json={"container_number": FLAMMABLE_BOX},
                                  headers=operator)
    assert numbered.status_code == 200, numbered.text
    gate_in = await post_event(client, operator, equipment(FLAMMABLE_BOX, "GTIN", now()))

    assert gate_in["id"] in {e["id"] for e in await feed(client, exporter, event_type="EQUIPMENT")}
    assert gate_in["id"] not in {e["id"] for e in await feed(client, other_exporter, event_type="EQUIPMENT")}
    theirs = (await client.get(f"/v1/bookings/{boxes['theirs']}/tracking", headers=other_exporter)).json()
    assert gate_in["id"] not in {e["id"] for e in theirs["events"]}
