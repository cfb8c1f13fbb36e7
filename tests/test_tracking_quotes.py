"""Tracking a booking made from a quote option: legs from the quoted itinerary (road
pre-carriage, then rail), and connection risk when the first ride runs late."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.tracking.models import Leg
from sqlalchemy import select
from tests import factories
from tests.factories import cargo_line

DEPOT = {"code": "CNCSX", "name": "Changsha road depot", "kind": "ROAD_DEPOT", "un_locode": "CNCSX",
         "timezone": "Asia/Shanghai", "handling_hours": 2}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def road_then_rail(client, operator) -> dict:
    """factories.small_network (rail Wuhan–Duisburg from day 10, cut-off 4 days before) plus a truck
    from Changsha to the Wuhan rail terminal arriving a day before the first train's cut-off."""
    network = await factories.small_network(client, operator)
    assert (await client.post("/v1/hubs", json=DEPOT, headers=operator)).status_code == 201
    road = factories.service_body(
        "CSX-WUH-ROAD", name="Changsha – Wuhan truck", mode="ROAD", origin="CNCSX", destination="CNWUH-WJS", stops=[],
        weight_per_cbm_kg=333, rate_per_cbm="20.00", minimum_charge="40.00", forbidden_dg_classes=[],
        reefer_allowed=False, container_types=["20GP"],
    )
    response = await client.post("/v1/services", json=road, headers=operator)
    assert response.status_code == 201, response.text
    rail = network["departures"][0]
    rail_cutoff = at(rail["cutoff_at"])
    departs = rail_cutoff - timedelta(hours=34)
    response = await client.post("/v1/departures", headers=operator, json={
        "service": "CSX-WUH-ROAD", "departs_at": factories.iso(departs),
        "cutoff_at": factories.iso(departs - timedelta(hours=4)),
        "arrives_at": factories.iso(departs + timedelta(hours=10)), "capacity_teu": 1})
    assert response.status_code == 201, response.text
    return {"rail": rail, "road": response.json()}


async def tracking_of(client, headers, reference: str) -> dict:
    response = await client.get(f"/v1/bookings/{reference}/tracking", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def delay(client, operator, departure_id: int, location: str, when: datetime) -> None:
    response = await client.post("/v1/events", headers=operator, json={
        "event_type": "TRANSPORT", "event_classifier": "EST", "code": "DEPA", "location": location,
        "event_datetime": factories.iso(when), "departure_id": departure_id})
    assert response.status_code == 201, response.text


async def book_road_and_rail(client, exporter) -> tuple[dict, dict]:
    """Quote Changsha to Duisburg and book the truck-then-train option: (option, booking)."""
    response = await client.post("/v1/quotes", headers=exporter, json={
        "origin": "CNCSX", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
        "cargo": [cargo_line()]})
    assert response.status_code == 201, response.text
    option = {tuple(o["modes"]): o for o in response.json()["options"]}[("ROAD", "RAIL")]
    response = await client.post("/v1/bookings", headers=exporter, json={
        "quote_option_id": option["id"], "consignee": factories.booking_body(1)["consignee"]})
    assert response.status_code == 201, response.text
    return option, response.json()


async def test_a_quoted_road_and_rail_itinerary_is_tracked_leg_by_leg(client, app, operator, exporter):
    network = await road_then_rail(client, operator)
    road, rail = network["road"], network["rail"]
    option, booking = await book_road_and_rail(client, exporter)
    assert [leg["departure_id"] for leg in option["legs"]] == [road["id"], rail["id"]]
    assert booking["status"] == "CONFIRMED"

    view = await tracking_of(client, exporter, booking["reference"])
    assert [(leg["sequence"], leg["mode"], leg["departure_id"], leg["from_hub"], leg["to_hub"]) for leg in view["legs"]] == [
        (1, "ROAD", road["id"], "CNCSX", "CNWUH-WJS"),
        (2, "RAIL", rail["id"], "CNWUH-WJS", "CNAKL"),
        (3, "RAIL", rail["id"], "CNAKL", "PLMAA"),
        (4, "RAIL", rail["id"], "PLMAA", "DEDUI"),
    ]
    # End to end: from the road pick-up, though the booking's own departure is the train from Wuhan.
    assert (view["origin"], view["destination"]) == ("CNCSX", "DEDUI")
    assert (booking["origin"], booking["destination"]) == ("CNCSX", "DEDUI")
    assert booking["departure_id"] == rail["id"]
    first, second, last = view["legs"][0], view["legs"][1], view["legs"][-1]
    assert at(first["planned_departure_at"]) == at(road["departs_at"])
    assert at(first["planned_arrival_at"]) == at(road["arrives_at"])
    assert at(second["planned_departure_at"]) == at(rail["departs_at"])
    assert at(last["planned_arrival_at"]) == at(rail["arrives_at"]) == at(view["eta"])
    assert view["at_risk"] is False and not any(leg["connection_at_risk"] for leg in view["legs"])
    async with app.state.sessionmaker() as session:  # the confirmation's main-departure legs were replaced, not kept
        assert len(list(await session.scalars(select(Leg.id).where(Leg.departure_id == rail["id"])))) == 3

    # The truck leaves 30 hours late: it reaches Wuhan after the train's cut-off.
    await delay(client, operator, road["id"], "CNCSX", at(road["departs_at"]) + timedelta(hours=30))
    view = await tracking_of(client, exporter, booking["reference"])
    assert view["at_risk"] is True
    assert [leg["connection_at_risk"] for leg in view["legs"]] == [True, False, False, False]
    assert at(view["legs"][0]["estimated_arrival_at"]) == at(road["arrives_at"]) + timedelta(hours=30)
    assert at(view["legs"][0]["estimated_arrival_at"]) > at(rail["cutoff_at"])
    risk = [e for e in view["events"] if e["code"] == "RISK"]
    assert len(risk) == 1 and str(rail["id"]) in risk[0]["reason"]

    # A better estimate (only 6 hours late) makes the connection again.
    await delay(client, operator, road["id"], "CNCSX", at(road["departs_at"]) + timedelta(hours=6))
    view = await tracking_of(client, exporter, booking["reference"])
    assert view["at_risk"] is False and [e["code"] for e in view["events"] if e["code"] in ("RISK", "SAFE")] == ["RISK", "SAFE"]


async def test_a_cancelled_truck_puts_the_quoted_connection_at_risk_and_keeps_the_train(client, app, operator, exporter):
    network = await road_then_rail(client, operator)
    road, rail = network["road"], network["rail"]
    _, booking = await book_road_and_rail(client, exporter)

    response = await client.patch(f"/v1/departures/{road['id']}", json={"status": "CANCELLED"}, headers=operator)
    assert response.status_code == 200, response.text
    view = await tracking_of(client, exporter, booking["reference"])
    assert view["status"] == "CONFIRMED" and view["at_risk"] is True
    assert view["legs"][0]["connection_at_risk"] is True
    [risk] = [e for e in view["events"] if e["code"] == "RISK"]
    assert f"departure {road['id']}" in risk["reason"] and "cancelled" in risk["reason"]

    # A later estimate for the train does not declare the connection safe again: the truck is gone.
    await delay(client, operator, rail["id"], "CNWUH-WJS", at(rail["departs_at"]))
    view = await tracking_of(client, exporter, booking["reference"])
    assert view["at_risk"] is True and not [e for e in view["events"] if e["code"] == "SAFE"]
