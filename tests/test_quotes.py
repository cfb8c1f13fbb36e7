"""Quotes over a small multimodal network: rail Wuhan–Duisburg, or air Wuhan–Frankfurt with road on to Duisburg."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from app.routing import quotes
from app.routing.models import QuoteOption
from tests import factories
from tests.factories import cargo_line, line_of_cbm

AIR_HUBS = [
    {"code": "CNWUH-WUH", "name": "Wuhan Tianhe airport", "kind": "AIRPORT", "un_locode": "CNWUH",
     "timezone": "Asia/Shanghai", "handling_hours": 6},
    {"code": "DEFRA", "name": "Frankfurt airport", "kind": "AIRPORT", "un_locode": "DEFRA",
     "timezone": "Europe/Berlin", "handling_hours": 4},
]
AIR_FORBIDDEN = ["1", "2.1", "2.3", "3", "4.2", "4.3", "5.2", "6.2", "7"]


def _service(code, mode, origin, destination, ratio, rate, minimum, **extra):
    body = factories.service_body(
        code, name=code, mode=mode, origin=origin, destination=destination, stops=[], weight_per_cbm_kg=ratio,
        rate_per_cbm=rate, minimum_charge=minimum, forbidden_dg_classes=[], reefer_allowed=False,
        container_types=["20GP"],
    )
    body.update(extra)
    return body


async def multimodal_network(client, operator) -> dict:
    """factories.small_network (rail WUH-DUI, 3 weekly departures from day 10) plus air + road via Frankfurt."""
    network = await factories.small_network(client, operator)
    for hub in AIR_HUBS:
        assert (await client.post("/v1/hubs", json=hub, headers=operator)).status_code == 201
    air = _service("WUH-FRA-AIR", "AIR", "CNWUH-WUH", "DEFRA", 167, "900.00", "300.00", forbidden_dg_classes=AIR_FORBIDDEN)
    road = _service("FRA-DUI-ROAD", "ROAD", "DEFRA", "DEDUI", 333, "40.00", "60.00")
    for body in (air, road):
        assert (await client.post("/v1/services", json=body, headers=operator)).status_code == 201, body
    departs = factories.future(7).replace(microsecond=0)
    air_dep = await client.post("/v1/departures", headers=operator, json={
        "service": "WUH-FRA-AIR", "departs_at": factories.iso(departs),
        "cutoff_at": factories.iso(departs - timedelta(hours=6)),
        "arrives_at": factories.iso(departs + timedelta(hours=14)), "capacity_teu": 1})
    assert air_dep.status_code == 201, air_dep.text
    road_departs = departs + timedelta(hours=22)
    road_dep = await client.post("/v1/departures", headers=operator, json={
        "service": "FRA-DUI-ROAD", "departs_at": factories.iso(road_departs),
        "cutoff_at": factories.iso(road_departs - timedelta(hours=2)),
        "arrives_at": factories.iso(road_departs + timedelta(hours=4)), "capacity_teu": 1})
    assert road_dep.status_code == 201, road_dep.text
    network["air_departure_id"] = air_dep.json()["id"]
    network["road_departure_id"] = road_dep.json()["id"]
    return network


def quote_body(**overrides) -> dict:
    body = {"origin": "CNWUH", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
            "cargo": [cargo_line()]}
    body.update(overrides)
    return body


async def quote(client, headers, **overrides):
    response = await client.post("/v1/quotes", json=quote_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def by_modes(body) -> dict[tuple, dict]:
    return {tuple(option["modes"]): option for option in body["options"]}


async def book_option(client, headers, option_id, **overrides):
    body = {"quote_option_id": option_id, "consignee": factories.booking_body(1)["consignee"]}
    body.update(overrides)
    return await client.post("/v1/bookings", json=body, headers=headers)


# --- options ----------------------------------------------------------------------------

async def test_quote_offers_the_fastest_and_the_cheapest(client, operator, exporter):
    network = await multimodal_network(client, operator)
    body = await quote(client, exporter)
    options = by_modes(body)
    assert set(options) == {("RAIL",), ("AIR", "ROAD")}
    air, rail = options[("AIR", "ROAD")], options[("RAIL",)]
    assert air["fastest"] and not air["cheapest"] and rail["cheapest"] and not rail["fastest"]
    assert air["arrives_at"] < rail["arrives_at"] and Decimal(air["price"]["total"]) > Decimal(rail["price"]["total"])
    assert [leg["departure_id"] for leg in air["legs"]] == [network["air_departure_id"], network["road_departure_id"]]
    assert rail["legs"][0]["departure_id"] == network["departure_id"]
    # 1.2 CBM of cartons: rail 1.2 × 100 = 120 topped up to the 150 minimum.
    assert rail["price"] == {"currency": "EUR", "base": "120.00", "minimum_top_up": "30.00", "dg_surcharge": "0.00",
                             "reefer_surcharge": "0.00", "non_stackable_surcharge": "0.00", "total": "150.00"}
    # air 1.2 CBM × 900 = 1080 (W/M 1:167: 180 kg is 1.078 CBM), road 1.2 × 40 = 48 → 60 minimum.
    assert [leg["price"]["total"] for leg in air["legs"]] == ["1080.00", "60.00"]
    assert air["price"]["total"] == "1140.00"
    first = air["legs"][0]
    assert first["from_hub"] == "CNWUH-WUH" and first["to_hub"] == "DEFRA" and first["mode"] == "AIR"
    assert first["local"]["departs_at"].endswith("+08:00")
    assert datetime.fromisoformat(first["local"]["departs_at"]) == datetime.fromisoformat(first["departs_at"])
    assert first["local"]["arrives_at"][-6:] in ("+01:00", "+02:00")
    assert air["transit_days"] < rail["transit_days"]
    valid_until = datetime.fromisoformat(air["valid_until"])
    assert valid_until <= factories.future(1) and body["left_out"] == []


async def test_unknown_places_are_422_naming_the_field(client, operator, exporter):
    await multimodal_network(client, operator)
    for field, overrides in (("origin", {"origin": "CNXXX"}), ("destination", {"destination": "DEHAM-ABC"})):
        response = await client.post("/v1/quotes", json=quote_body(**overrides), headers=exporter)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    same = await client.post("/v1/quotes", json=quote_body(origin="DEDUI"), headers=exporter)
    assert same.status_code == 422
    mixed = await client.post(
        "/v1/quotes", json=quote_body(cargo=[cargo_line(temperature_c={"min": 2, "max": 8}), cargo_line()]), headers=exporter
    )
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "cargo.1.temperature_c"


async def test_services_that_cannot_take_the_cargo_are_left_out_with_reasons(client, operator, exporter):
    await multimodal_network(client, operator)
    flammable = cargo_line(dangerous_goods={"un_number": "1263", "class": "3", "packing_group": "II"})
    body = await quote(client, exporter, cargo=[flammable])
    assert set(by_modes(body)) == {("RAIL",)}
    assert body["left_out"] == [{
        "service": "WUH-FRA-AIR", "mode": "AIR", "departure_id": None, "reason": "DG_CLASS_FORBIDDEN",
        "detail": "service WUH-FRA-AIR does not carry dangerous goods of class 3", "field": "cargo.0.dangerous_goods.class",
    }]
    tall = await quote(client, exporter, cargo=[cargo_line(packages=1, height_cm=250, weight_kg=100)])
    assert set(by_modes(tall)) == {("RAIL",)}  # the rail line offers 40' high cubes (269.8 cm inside)
    assert [(e["service"], e["reason"], e["field"]) for e in tall["left_out"]] == [
        ("FRA-DUI-ROAD", "PIECE_TOO_LARGE", "cargo.0.height_cm"), ("WUH-FRA-AIR", "PIECE_TOO_LARGE", "cargo.0.height_cm")
    ]
    cold = await quote(client, exporter, cargo=[cargo_line(temperature_c={"min": 2, "max": 8})])
    assert set(by_modes(cold)) == {("RAIL",)}
    assert {e["reason"] for e in cold["left_out"]} == {"REEFER_NOT_OFFERED"}
    # Rail's reefer cargo pays the card's reefer surcharge.
    card = {"rate_per_cbm": "100.00", "minimum_charge": "150.00", "reefer_surcharge_per_cbm": "50.00",
            "valid_from": factories.iso(factories.future(-1))}
    assert (await client.post("/v1/services/WUH-DUI/rates", json=card, headers=operator)).status_code == 201
    priced = by_modes(await quote(client, exporter, cargo=[cargo_line(temperature_c={"min": 2, "max": 8})]))[("RAIL",)]
    assert priced["price"]["reefer_surcharge"] == "60.00" and priced["price"]["total"] == "210.00"


async def test_a_full_departure_is_not_offered(client, operator, exporter, other_exporter):
    network = await multimodal_network(client, operator)
    first, second = network["departures"][0]["id"], network["departures"][1]["id"]
    for cbm in (40, 20):  # 60 of 66 CBM taken
        booked = await client.post("/v1/bookings", json=factories.booking_body(first, cargo=[line_of_cbm(cbm)]), headers=other_exporter)
        assert booked.json()["status"] == "CONFIRMED"
    small = by_modes(await quote(client, exporter))  # 1.2 CBM still fits
    assert small[("RAIL",)]["legs"][0]["departure_id"] == first
    ten_cbm = cargo_line(packages=100, length_cm=100, width_cm=100, height_cm=10, weight_kg=500)
    body = await quote(client, exporter, cargo=[ten_cbm])
    rail = by_modes(body)[("RAIL",)]
    assert rail["legs"][0]["departure_id"] == second
    assert [(e["departure_id"], e["reason"]) for e in body["left_out"]] == [(first, "DEPARTURE_FULL")]


async def test_when_the_rounds_run_out_no_unchecked_departure_is_offered(client, operator, exporter, other_exporter,
                                                                        monkeypatch):
    """Departures are checked for space as the search offers them, a few rounds at most: what the last
    search offers is checked too, and a full departure found then is dropped, not offered."""
    monkeypatch.setattr(quotes, "CHECK_ROUNDS", 1)
    network = await multimodal_network(client, operator)
    first, second = network["departures"][0]["id"], network["departures"][1]["id"]
    for departure_id in (first, second):
        for cbm in (40, 20):  # 60 of 66 CBM taken
            booked = await client.post("/v1/bookings", headers=other_exporter,
                                       json=factories.booking_body(departure_id, cargo=[line_of_cbm(cbm)]))
            assert booked.json()["status"] == "CONFIRMED"
    ten_cbm = cargo_line(packages=100, length_cm=100, width_cm=100, height_cm=10, weight_kg=500)
    body = await quote(client, exporter, cargo=[ten_cbm])
    offered = {leg["departure_id"] for option in body["options"] for leg in option["legs"]}
    assert not offered & {first, second}
    assert {(e["departure_id"], e["reason"]) for e in body["left_out"]} >= {(first, "DEPARTURE_FULL")}


async def test_a_departure_past_its_cutoff_is_not_offered(client, operator, exporter):
    network = await multimodal_network(client, operator)
    first, second = network["departures"][0]["id"], network["departures"][1]["id"]
    assert by_modes(await quote(client, exporter))[("RAIL",)]["legs"][0]["departure_id"] == first
    past = {"cutoff_at": factories.iso(factories.future(-0.01))}
    assert (await client.patch(f"/v1/departures/{first}", json=past, headers=operator)).status_code == 200
    assert by_modes(await quote(client, exporter))[("RAIL",)]["legs"][0]["departure_id"] == second
    closed = await client.patch(f"/v1/departures/{second}", json={"status": "CLOSED"}, headers=operator)
    assert closed.status_code == 200
    third = network["departures"][2]["id"]
    assert by_modes(await quote(client, exporter))[("RAIL",)]["legs"][0]["departure_id"] == third


async def test_new_departures_show_up_in_the_next_quote(client, operator, exporter):
    await multimodal_network(client, operator)
    before = by_modes(await quote(client, exporter))[("RAIL",)]
    sooner = factories.departure_body(days_out=8)
    created = await client.post("/v1/departures", json=sooner, headers=operator)
    assert created.status_code == 201
    after = by_modes(await quote(client, exporter))[("RAIL",)]
    assert after["legs"][0]["departure_id"] == created.json()["id"] != before["legs"][0]["departure_id"]


# --- booking from an option -----------------------------------------------------------------

async def test_book_from_an_option_at_the_held_price(client, operator, exporter):
    network = await multimodal_network(client, operator)
    air = by_modes(await quote(client, exporter))[("AIR", "ROAD")]
    # The operator raises the air rate after the quote: the option keeps its price.
    raise_rate = {"rate_per_cbm": "2000.00", "valid_from": factories.iso(factories.future(-1))}
    assert (await client.post("/v1/services/WUH-FRA-AIR/rates", json=raise_rate, headers=operator)).status_code == 201
    booked = await book_option(client, exporter, air["id"])
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["status"] == "CONFIRMED"
    assert booking["price"] == {"amount": "1140.00", "currency": "EUR"}
    assert booking["departure_id"] == network["air_departure_id"]  # the main (longest) leg holds the space
    # End to end: from the airport to Duisburg by road, though the space held is the flight's.
    assert booking["origin"] == "CNWUH-WUH" and booking["destination"] == "DEDUI"
    assert booking["cargo"][0]["hs_code"] == "950510"
    option = (await client.get(f"/v1/quote-options/{air['id']}", headers=exporter)).json()
    assert option["booking_reference"] == booking["reference"]
    again = await book_option(client, exporter, air["id"])
    assert again.status_code == 409 and booking["reference"] in again.json()["detail"]
    departure = (await client.get(f"/v1/departures/{network['air_departure_id']}", headers=exporter)).json()
    assert departure["booked_cbm"] == pytest.approx(1.2)


async def test_booking_cargo_must_equal_the_quoted_cargo(client, operator, exporter):
    await multimodal_network(client, operator)
    rail = by_modes(await quote(client, exporter))[("RAIL",)]
    different = await book_option(client, exporter, rail["id"], cargo=[cargo_line(weight_kg=999)])
    assert different.status_code == 422 and different.json()["errors"][0]["field"] == "cargo"
    same = await book_option(client, exporter, rail["id"], cargo=[cargo_line()])
    assert same.status_code == 201, same.text


async def test_an_expired_option_cannot_be_booked(app, client, operator, exporter):
    await multimodal_network(client, operator)
    rail = by_modes(await quote(client, exporter))[("RAIL",)]
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(QuoteOption).where(QuoteOption.public_id == rail["id"]).values(valid_until=factories.future(-0.01))
        )
        await session.commit()
    expired = await book_option(client, exporter, rail["id"])
    assert expired.status_code == 409 and "expired" in expired.json()["detail"]
    assert (await client.get("/v1/bookings", headers=exporter)).json()["items"] == []


async def test_another_organisations_option_is_404(client, operator, exporter, other_exporter):
    await multimodal_network(client, operator)
    rail = by_modes(await quote(client, exporter))[("RAIL",)]
    theirs = await book_option(client, other_exporter, rail["id"])
    assert theirs.status_code == 404 and theirs.json()["errors"][0]["field"] == "quote_option_id"
    assert (await client.get(f"/v1/quote-options/{rail['id']}", headers=other_exporter)).status_code == 404
    unknown = await book_option(client, exporter, "QO" + "A" * 12)
    assert unknown.status_code == 404


async def test_receipt_recomputes_the_price_on_the_measured_cargo(client, operator, exporter):
    await multimodal_network(client, operator)
    air = by_modes(await quote(client, exporter, cargo=[line_of_cbm(2)]))[("AIR", "ROAD")]
    assert air["price"]["total"] == "1880.00"  # 2 × 900 + 2 × 40
    reference = (await book_option(client, exporter, air["id"])).json()["reference"]
    # A later card does not touch the held terms: the measured cargo is priced like the quote.
    later = {"rate_per_cbm": "5000.00", "valid_from": factories.iso(factories.future(-1))}
    assert (await client.post("/v1/services/WUH-FRA-AIR/rates", json=later, headers=operator)).status_code == 201
    receipt = await client.post(
        f"/v1/bookings/{reference}/receipt", json={"pieces": 1, "weight_kg": 10, "volume_cbm": 3}, headers=operator
    )
    assert receipt.status_code == 200, receipt.text
    body = receipt.json()
    assert body["price"]["amount"] == "1880.00"
    assert body["measured"]["price"] == {"amount": "2820.00", "currency": "EUR"}  # 3 × 900 + 3 × 40


async def test_a_quoted_booking_does_not_ask_to_roll_over(client, operator, exporter):
    await multimodal_network(client, operator)
    rail = by_modes(await quote(client, exporter))[("RAIL",)]
    refused = await book_option(client, exporter, rail["id"], allow_rollover=True)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "allow_rollover"
    assert (await client.get("/v1/bookings", headers=exporter)).json()["items"] == []
    assert (await book_option(client, exporter, rail["id"])).status_code == 201
