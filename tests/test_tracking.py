"""Tracking: legs on confirmation, events in, fan-out to bookings, ETAs, connection risk, the feed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.bookings.models import Booking
from app.network.models import Hub
from app.tracking import legs
from app.events.models import TrackingEvent
from app.tracking.models import Leg
from tests import factories
from tests.factories import booking_body


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def book(client, headers, departure_id, **overrides) -> dict:
    response = await client.post("/v1/bookings", json=booking_body(departure_id, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def post_event(client, headers, expect: int = 201, **body) -> dict:
    body.setdefault("event_classifier", "ACT")
    response = await client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == expect, response.text
    return response.json()


def transport(departure_id: int, code: str, location: str, when: datetime, classifier: str = "ACT") -> dict:
    return {"event_type": "TRANSPORT", "event_classifier": classifier, "code": code, "location": location,
            "event_datetime": when.isoformat(), "departure_id": departure_id}


async def tracking_of(client, headers, reference: str) -> dict:
    response = await client.get(f"/v1/bookings/{reference}/tracking", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def count_rows(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


# --- legs --------------------------------------------------------------------------

async def test_a_confirmed_booking_has_its_legs_stop_by_stop(client, exporter, network):
    departure = network["departures"][0]
    booking = await book(client, exporter, departure["id"])
    view = await tracking_of(client, exporter, booking["reference"])
    departs = at(departure["departs_at"])
    hops = [(leg["from_hub"], leg["to_hub"]) for leg in view["legs"]]
    assert hops == [("CNWUH-WJS", "CNAKL"), ("CNAKL", "PLMAA"), ("PLMAA", "DEDUI")]
    assert [leg["sequence"] for leg in view["legs"]] == [1, 2, 3]
    assert all(leg["mode"] == "RAIL" and leg["departure_id"] == departure["id"] for leg in view["legs"])
    assert at(view["legs"][0]["planned_departure_at"]) == departs
    assert at(view["legs"][0]["planned_arrival_at"]) == departs + timedelta(hours=96)
    assert at(view["legs"][1]["planned_departure_at"]) == departs + timedelta(hours=96)
    assert at(view["legs"][2]["planned_arrival_at"]) == at(departure["arrives_at"])
    assert at(view["eta"]) == at(departure["arrives_at"]) and view["at_risk"] is False
    assert [(e["event_type"], e["code"], e["booking_status"]) for e in view["events"]] == [("SHIPMENT", "CONF", "CONFIRMED")]


async def test_legs_cover_only_the_booked_part_of_the_run(client, exporter, network):
    booking = await book(client, exporter, network["departure_id"], origin="CNAKL", destination="PLMAA")
    view = await tracking_of(client, exporter, booking["reference"])
    assert [(leg["from_hub"], leg["to_hub"]) for leg in view["legs"]] == [("CNAKL", "PLMAA")]


async def test_legs_are_written_with_the_confirmation_not_before(client, app, exporter, network):
    departure_id = network["departure_id"]
    first = await book(client, exporter, departure_id, cargo=[factories.line_of_cbm(40)])
    second = await book(client, exporter, departure_id, cargo=[factories.line_of_cbm(30)])
    assert second["status"] == "WAITLISTED"
    assert (await tracking_of(client, exporter, second["reference"]))["legs"] == []
    assert await count_rows(app, Leg) == 3
    await client.post(f"/v1/bookings/{first['reference']}/cancel", headers=exporter)
    view = await tracking_of(client, exporter, second["reference"])
    assert view["status"] == "CONFIRMED" and len(view["legs"]) == 3
    codes = [e["code"] for e in view["events"]]
    assert codes == ["PENA", "CONF"]


async def test_older_confirmed_bookings_get_legs_lazily(client, app, exporter, network):
    booking = await book(client, exporter, network["departure_id"])
    async with app.state.sessionmaker() as session:
        await session.execute(Leg.__table__.delete())
        await session.commit()
    assert len((await tracking_of(client, exporter, booking["reference"]))["legs"]) == 3
    assert await count_rows(app, Leg) == 3


# --- events in: bad input -----------------------------------------------------------------

@pytest.mark.parametrize(
    "change, field",
    [
        ({"departure_id": 999999}, "departure_id"),
        ({"location": "XXABC"}, "location"),
        ({"location": "CNWUH-WJS", "code": "ARRI"}, "location"),  # the run starts there
        ({"location": "DEDUI", "code": "DEPA"}, "location"),  # the run ends there
        ({"code": "GTIN"}, "code"),
        ({"code": "XXXX"}, "code"),
        ({"event_datetime": "FUTURE"}, "event_datetime"),
        ({"departure_id": None}, "departure_id"),
        ({"booking_reference": "CVNAAAAAAAA"}, "booking_reference"),
        ({"mode": "AIR"}, "mode"),
        ({"location": None}, "location"),
        ({"event_classifier": "XYZ"}, "event_classifier"),
        ({"event_datetime": "2026-01-01T00:00:00"}, "event_datetime"),  # no offset
    ],
)
async def test_bad_events_are_422_naming_the_field_and_write_nothing(client, app, operator, network, change, field):
    body = transport(network["departure_id"], "DEPA", "CNWUH-WJS", now() - timedelta(hours=1))
    if change.get("event_datetime") == "FUTURE":
        change = {"event_datetime": (now() + timedelta(hours=2)).isoformat()}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = await client.post("/v1/events", json=body, headers=operator)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await count_rows(app, TrackingEvent) == 0


async def test_a_hub_that_is_not_a_call_of_the_departure_is_refused(client, operator, network):
    hub = {"code": "DEHAM", "name": "Hamburg", "kind": "RAIL_TERMINAL", "un_locode": "DEHAM",
           "timezone": "Europe/Berlin", "handling_hours": 12}
    assert (await client.post("/v1/hubs", json=hub, headers=operator)).status_code == 201
    response = await client.post(
        "/v1/events", json=transport(network["departure_id"], "ARRI", "DEHAM", now()), headers=operator
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "location"


async def test_unknown_containers_and_bookings_are_422(client, operator, partner, other_exporter, network):
    equipment = {"event_type": "EQUIPMENT", "event_classifier": "ACT", "code": "GTIN", "location": "CNWUH-WJS",
                 "event_datetime": now().isoformat(), "container_number": "CSQU3054383"}
    response = await client.post("/v1/events", json=equipment, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "container_number"
    theirs = await book(client, other_exporter, network["departure_id"])
    shipment = {"event_type": "SHIPMENT", "event_classifier": "ACT", "code": "HOLD",
                "event_datetime": now().isoformat(), "booking_reference": theirs["reference"]}
    response = await client.post("/v1/events", json=shipment, headers=partner)  # not the partner's booking
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "booking_reference"


async def test_container_numbers_in_events_and_the_feed_have_their_check_digit_verified(client, operator):
    wrong = "CSQU3054384"  # ISO 6346 check digit is 3
    equipment = {"event_type": "EQUIPMENT", "event_classifier": "ACT", "code": "GTIN", "location": "CNWUH-WJS",
                 "event_datetime": now().isoformat(), "container_number": wrong}
    response = await client.post("/v1/events", json=equipment, headers=operator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "container_number"
    assert "check digit" in response.json()["errors"][0]["message"]
    response = await client.get("/v1/events", params={"container": wrong}, headers=operator)
    assert response.status_code == 422 and "check digit" in response.text


async def test_exporters_may_not_report_trains_partners_granted_events_write_may(client, exporter, partner, network):
    """API.md: POST /v1/events takes the operator's keys or a key with events:write, which
    exporters' keys do not get unless the operator grants it (a forwarder, a rail operator)."""
    departure = transport(network["departure_id"], "DEPA", "CNWUH-WJS", now())
    response = await client.post("/v1/events", json=departure, headers=exporter)
    assert response.status_code == 403 and "events:write" in response.json()["detail"]
    response = await client.post("/v1/events", json=departure, headers=partner)
    assert response.status_code == 201, response.text


async def test_the_operators_keys_report_events_without_the_scope(client, operator, network):
    hub_desk = await factories.org_headers(client, operator, "Han'ou yard", "operator", scopes=["network:write"])
    arrival = transport(network["departure_id"], "DEPA", "CNWUH-WJS", now())
    response = await client.post("/v1/events", json=arrival, headers=hub_desk)
    assert response.status_code == 201, response.text


async def test_location_by_un_locode_and_the_event_as_read(client, operator, network):
    when = now() - timedelta(hours=3)
    event = await post_event(client, operator, **transport(network["departure_id"], "DEPA", "CNWUH", when))
    assert event["id"] >= 1 and event["location"] == "CNWUH-WJS" and event["un_locode"] == "CNWUH"
    assert event["mode"] == "RAIL" and at(event["event_datetime"]) == when
    assert event["booking_reference"] is None and event["departure_id"] == network["departure_id"]


# --- fan-out, statuses, estimates ------------------------------------------------------------

async def test_departure_and_arrival_move_the_bookings_riding_the_train(client, operator, exporter, network):
    departure = network["departures"][0]
    received = await book(client, exporter, departure["id"])
    no_cargo = await book(client, exporter, departure["id"])
    receipt = {"pieces": 10, "weight_kg": 180, "volume_cbm": 1.2}
    response = await client.post(f"/v1/bookings/{received['reference']}/receipt", json=receipt, headers=operator)
    assert response.json()["status"] == "CARGO_RECEIVED"

    left = now() - timedelta(hours=2)
    await post_event(client, operator, **transport(departure["id"], "DEPA", "CNWUH-WJS", left))
    first = await tracking_of(client, exporter, received["reference"])
    assert first["status"] == "IN_TRANSIT"
    # Cargo that never reached the CFS did not travel: the booking stays CONFIRMED.
    assert (await tracking_of(client, exporter, no_cargo["reference"]))["status"] == "CONFIRMED"
    assert at(first["legs"][0]["actual_departure_at"]) == left
    # The train left at `left`, not when timetabled: every later estimate moves with it.
    shift = left - at(departure["departs_at"])
    assert at(first["legs"][0]["estimated_arrival_at"]) == at(departure["departs_at"]) + timedelta(hours=96) + shift
    assert at(first["eta"]) == at(departure["arrives_at"]) + shift
    etag = (await client.get(f"/v1/bookings/{received['reference']}", headers=exporter)).headers["etag"]
    assert etag.endswith('-v3"')  # confirmed v1, received v2, in transit v3

    arrived = left + timedelta(hours=1)
    await post_event(client, operator, **transport(departure["id"], "ARRI", "DEDUI", arrived))
    final = await tracking_of(client, exporter, received["reference"])
    assert final["status"] == "ARRIVED" and at(final["eta"]) == arrived
    shipment_codes = [e["code"] for e in final["events"] if e["event_type"] == "SHIPMENT"]
    # (the train's events are dated before the booking was made: the timeline goes by event time)
    assert shipment_codes == ["TRNS", "ARRV", "CONF", "CRCV"]
    transport_codes = [(e["code"], e["location"]) for e in final["events"] if e["event_type"] == "TRANSPORT"]
    assert transport_codes == [("DEPA", "CNWUH-WJS"), ("ARRI", "DEDUI")]


async def test_a_delay_at_a_stop_shifts_the_rest_and_late_events_do_not_undo_it(client, operator, exporter, network):
    departure = network["departures"][0]
    booking = await book(client, exporter, departure["id"])
    planned = at(departure["departs_at"])
    late = planned + timedelta(hours=96 + 10)
    await post_event(client, operator, **transport(departure["id"], "ARRI", "CNAKL", late, "EST"))
    view = await tracking_of(client, exporter, booking["reference"])
    assert at(view["legs"][0]["estimated_arrival_at"]) == late
    assert at(view["legs"][1]["estimated_departure_at"]) == late
    assert at(view["legs"][1]["estimated_arrival_at"]) == planned + timedelta(hours=270 + 10)
    assert at(view["eta"]) == at(departure["arrives_at"]) + timedelta(hours=10)
    assert at(view["legs"][0]["estimated_departure_at"]) == planned  # before the delay: untouched

    # An earlier estimate for an earlier point, recorded later, does not move points past it that have news.
    await post_event(client, operator, **transport(departure["id"], "DEPA", "CNWUH-WJS", planned + timedelta(hours=2), "EST"))
    view = await tracking_of(client, exporter, booking["reference"])
    assert at(view["legs"][0]["estimated_departure_at"]) == planned + timedelta(hours=2)
    assert at(view["legs"][0]["estimated_arrival_at"]) == late
    assert at(view["eta"]) == at(departure["arrives_at"]) + timedelta(hours=10)
    # The timeline is by event time, not by the order events came in.
    times = [at(e["event_datetime"]) for e in view["events"]]
    assert times == sorted(times)


async def test_a_missed_departure_report_still_ends_arrived(client, operator, exporter, network):
    departure_id = network["departure_id"]
    booking = await book(client, exporter, departure_id)
    await client.post(f"/v1/bookings/{booking['reference']}/receipt",
                      json={"pieces": 10, "weight_kg": 180, "volume_cbm": 1.2}, headers=operator)
    await post_event(client, operator, **transport(departure_id, "ARRI", "DEDUI", now() - timedelta(minutes=5)))
    view = await tracking_of(client, exporter, booking["reference"])
    assert view["status"] == "ARRIVED"
    by_id = sorted(view["events"], key=lambda e: e["id"])
    assert [e["booking_status"] for e in by_id if e["event_type"] == "SHIPMENT"][-2:] == ["IN_TRANSIT", "ARRIVED"]


async def test_booking_status_changes_publish_shipment_events(client, exporter, network):
    booking = await book(client, exporter, network["departure_id"])
    await client.post(f"/v1/bookings/{booking['reference']}/cancel", headers=exporter)
    view = await tracking_of(client, exporter, booking["reference"])
    assert [(e["code"], e["booking_status"]) for e in view["events"]] == [("CONF", "CONFIRMED"), ("CANC", "CANCELLED")]
    assert view["eta"] is None and view["at_risk"] is False


# --- connection risk ----------------------------------------------------------------------------

async def test_a_late_feeder_flags_the_connection_and_a_recovery_clears_it(client, app, operator, exporter, network):
    # Feeder: Wuhan → Alashankou; then the booking transfers to a second train Alashankou → Duisburg.
    feeder = factories.service_body("WUH-AKL", destination="CNAKL", stops=[])
    trunk = factories.service_body("AKL-DUI", origin="CNAKL", stops=[{"hub": "PLMAA", "offset_hours": 170}])
    for body in (feeder, trunk):
        assert (await client.post("/v1/services", json=body, headers=operator)).status_code == 201
    feeder_departs = factories.future(10).replace(microsecond=0)
    first = await client.post("/v1/departures", headers=operator, json=factories.departure_body(
        "WUH-AKL", departs_at=feeder_departs.isoformat(), cutoff_at=(feeder_departs - timedelta(days=2)).isoformat(),
        arrives_at=(feeder_departs + timedelta(hours=96)).isoformat()))
    trunk_departs = feeder_departs + timedelta(hours=96 + 36)
    second = await client.post("/v1/departures", headers=operator, json=factories.departure_body(
        "AKL-DUI", departs_at=trunk_departs.isoformat(), cutoff_at=(trunk_departs - timedelta(hours=24)).isoformat(),
        arrives_at=(trunk_departs + timedelta(days=12)).isoformat()))
    feeder_id, trunk_id = first.json()["id"], second.json()["id"]
    booking = await book(client, exporter, feeder_id)
    async with app.state.sessionmaker() as session:
        row = await session.scalar(select(Booking).where(Booking.reference == booking["reference"]))
        akl, dui = (await session.scalars(select(Hub.id).where(Hub.code.in_(["CNAKL", "DEDUI"])).order_by(Hub.code))).all()
        await legs.add_ride(session, row, trunk_id, akl, dui)
        await session.commit()
    view = await tracking_of(client, exporter, booking["reference"])
    assert [leg["departure_id"] for leg in view["legs"]] == [feeder_id, trunk_id, trunk_id]
    assert view["at_risk"] is False

    # 20 h late at Alashankou: after the trunk's cut-off (arrival + 12 h).
    late = feeder_departs + timedelta(hours=96 + 20)
    await post_event(client, operator, **transport(feeder_id, "ARRI", "CNAKL", late, "EST"))
    view = await tracking_of(client, exporter, booking["reference"])
    assert view["at_risk"] is True and view["legs"][0]["connection_at_risk"] is True
    risk = [e for e in view["events"] if e["code"] == "RISK"]
    assert len(risk) == 1 and "cut-off" in risk[0]["reason"]

    await post_event(client, operator, **transport(feeder_id, "ARRI", "CNAKL", late - timedelta(hours=10), "EST"))
    view = await tracking_of(client, exporter, booking["reference"])
    assert view["at_risk"] is False
    assert [e["code"] for e in view["events"] if e["code"] in ("RISK", "SAFE")] == ["RISK", "SAFE"]


# --- reading: who sees what --------------------------------------------------------------------

async def test_tracking_is_only_for_the_bookings_owner(client, exporter, other_exporter, operator, network):
    theirs = await book(client, other_exporter, network["departure_id"])
    response = await client.get(f"/v1/bookings/{theirs['reference']}/tracking", headers=exporter)
    assert response.status_code == 404
    assert (await client.get(f"/v1/bookings/{theirs['reference']}/tracking", headers=operator)).status_code == 200


async def test_the_feed_shows_exporters_their_own_events_and_their_trains(client, operator, exporter, other_exporter, network):
    first, second = network["departures"][0]["id"], network["departures"][1]["id"]
    mine = await book(client, exporter, first)
    theirs = await book(client, other_exporter, second)
    await post_event(client, operator, **transport(first, "DEPA", "CNWUH-WJS", now() - timedelta(hours=1), "EST"))
    await post_event(client, operator, **transport(second, "DEPA", "CNWUH-WJS", now() - timedelta(hours=1), "EST"))

    async def feed(headers, **params):
        response = await client.get("/v1/events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    seen = await feed(exporter)
    assert [(e["event_type"], e["booking_reference"], e["departure_id"]) for e in seen] == [
        ("SHIPMENT", mine["reference"], None), ("TRANSPORT", None, first)]
    assert len(await feed(operator)) == 4
    assert [e["departure_id"] for e in await feed(operator, departure=second)] == [second]
    assert [e["booking_reference"] for e in await feed(operator, event_type="SHIPMENT")] == [mine["reference"], theirs["reference"]]
    assert await feed(exporter, booking=theirs["reference"]) == []
    assert [e["event_type"] for e in await feed(exporter, booking=mine["reference"])] == ["SHIPMENT", "TRANSPORT"]
    assert await feed(operator, since=(now() + timedelta(minutes=1)).isoformat()) == []
    assert await feed(operator, container="CSQU3054383") == []

    page = (await client.get("/v1/events", params={"limit": 3}, headers=operator)).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = (await client.get("/v1/events", params={"limit": 3, "cursor": page["next_cursor"]}, headers=operator)).json()
    assert len(rest["items"]) == 1 and rest["has_more"] is False and rest["next_cursor"]  # polled again later
    assert (await client.get("/v1/events", params={"cursor": "nonsense!"}, headers=operator)).status_code == 422
    assert (await client.get("/v1/events", params={"container": "CSQU3054384x"}, headers=operator)).status_code == 422
