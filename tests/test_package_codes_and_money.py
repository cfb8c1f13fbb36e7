"""Issue 17, items 3 and 4: cargo lines take the UN/ECE Recommendation 21 package codes partners
send as well as Caravan's names, and answer both; money in a request body is a string only."""

from __future__ import annotations

import pytest

from app.bookings.schemas import PackageType
from app.cargo.packages import CODE_OF_NAME, NAME_OF_CODE, package_code, package_name
from tests import factories
from tests.factories import booking_body, cargo_line

CODES = {"CT": "CARTON", "PX": "PALLET", "CR": "CRATE", "CS": "CASE", "DR": "DRUM", "BG": "BAG", "BL": "BALE",
         "BN": "BALE", "RO": "ROLL", "CL": "COIL", "PK": "PACKAGE", "PP": "PIECE", "BX": "BOX", "SA": "SACK"}


def test_every_code_the_issue_names_stands_for_its_name_and_every_name_has_a_code():
    assert {code: package_name(code) for code in CODES} == CODES
    assert set(CODE_OF_NAME) == {member.value for member in PackageType}
    assert all(package_name(package_code(name)) == name for name in CODE_OF_NAME)
    assert package_name("ct") == "CARTON" and package_name("CARTON") == "CARTON" and package_name("ZZ") == "ZZ"
    assert set(NAME_OF_CODE) == set(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
async def test_a_cargo_line_takes_a_code_and_answers_name_and_code(client, exporter, network, code):
    body = booking_body(network["departure_id"], cargo=[cargo_line(package_type=code)])
    created = await client.post("/v1/bookings", json=body, headers=exporter)
    assert created.status_code == 201, created.text
    line = created.json()["cargo"][0]
    assert line["package_type"] == CODES[code]
    assert line["package_code"] == ("BL" if code == "BN" else code)
    stored = (await client.get(f"/v1/bookings/{created.json()['reference']}", headers=exporter)).json()
    assert stored["cargo"][0]["package_type"] == CODES[code]


async def test_names_are_taken_as_before_and_answered_with_their_code(client, exporter, network):
    body = booking_body(network["departure_id"], cargo=[cargo_line(package_type="PALLET"), cargo_line()])
    created = (await client.post("/v1/bookings", json=body, headers=exporter)).json()
    assert [(line["package_type"], line["package_code"]) for line in created["cargo"]] == [("PALLET", "PX"), ("CARTON", "CT")]
    # A pallet given by code stands upright as a pallet given by name does.
    by_code = booking_body(network["departure_id"], cargo=[cargo_line(package_type="PX")])
    assert (await client.post("/v1/bookings", json=by_code, headers=exporter)).json()["cargo"][0]["vertical"] == ["height"]


@pytest.mark.parametrize("package_type", ["ZZ", "C", "CTN", "", 7])
async def test_an_unknown_package_type_is_a_422_naming_it(client, exporter, network, package_type):
    body = booking_body(network["departure_id"], cargo=[cargo_line(package_type=package_type)])
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["cargo.0.package_type"]


async def test_quotes_take_codes_too(client, exporter, network):
    body = {"origin": "CNWUH-WJS", "destination": "DEDUI", "ready_at": factories.iso(factories.future(1)),
            "cargo": [cargo_line(package_type="CT")]}
    response = await client.post("/v1/quotes", json=body, headers=exporter)
    assert response.status_code == 201, response.text


async def test_the_schema_lists_names_and_codes(client):
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    package_type = schema["CargoLineIn"]["properties"]["package_type"]
    assert {"CARTON", "CT", "BN", "SA"} <= set(package_type["enum"])
    assert "package_code" in schema["CargoLineRead"]["required"]


# --- money as strings ------------------------------------------------------------------------

RATE_CARD = {"currency": "EUR", "rate_per_cbm": "120.00", "minimum_charge": "200.00"}


@pytest.mark.parametrize("field", ["rate_per_cbm", "minimum_charge", "delivery_minimum"])
async def test_a_rate_card_s_money_as_a_json_number_is_a_422_naming_it(client, operator, network, field):
    response = await client.post("/v1/services/WUH-DUI/rates", json=RATE_CARD | {field: 120.5}, headers=operator)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field and "string" in response.json()["errors"][0]["message"]
    assert (await client.get("/v1/services/WUH-DUI/rates", headers=operator)).json()["items"] == []
    taken = await client.post("/v1/services/WUH-DUI/rates", json=RATE_CARD | {field: "120.50"}, headers=operator)
    assert taken.status_code == 201 and taken.json()[field] == "120.50"


async def test_a_container_type_s_cost_and_a_service_s_rate_as_numbers_are_422(client, operator, network):
    container_type = dict(factories.CONTAINER_TYPES[0], code="45HC", cost=4000)
    response = await client.post("/v1/container-types", json=container_type, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cost", response.text
    service = factories.service_body(code="WUH-DUI-2", rate_per_cbm=100)
    response = await client.post("/v1/services", json=service, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "rate_per_cbm", response.text


async def test_the_schema_says_money_is_a_string(client):
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert schema["RateCardCreate"]["properties"]["rate_per_cbm"]["type"] == "string"
