"""Bad input gets a 4xx problem+json naming the field, and changes nothing."""

import json

import pytest
from sqlalchemy import func, select

from app.bookings.models import Booking, CargoLine
from tests.factories import booking_body, cargo_line


async def count_rows(app) -> tuple[int, int]:
    async with app.state.sessionmaker() as session:
        return (
            await session.scalar(select(func.count()).select_from(Booking)),
            await session.scalar(select(func.count()).select_from(CargoLine)),
        )


BAD_LINES = [
    ({"weight_kg": -5}, "cargo.0.weight_kg"),
    ({"weight_kg": 0}, "cargo.0.weight_kg"),
    ({"weight_kg": 30_000.5}, "cargo.0.weight_kg"),
    ({"weight_kg": "heavy"}, "cargo.0.weight_kg"),
    ({"length_cm": 0}, "cargo.0.length_cm"),
    ({"height_cm": 1300.1}, "cargo.0.height_cm"),
    ({"packages": 0}, "cargo.0.packages"),
    ({"packages": 10_001}, "cargo.0.packages"),
    ({"packages": 1.5}, "cargo.0.packages"),
    ({"hs_code": "95051"}, "cargo.0.hs_code"),
    ({"hs_code": "95051012345"}, "cargo.0.hs_code"),
    ({"package_type": "HAMPER"}, "cargo.0.package_type"),
    ({"description": "x" * 201}, "cargo.0.description"),
    ({"description": "nul\u0000byte"}, "cargo.0.description"),
    ({"description": "\ud800"}, "cargo.0.description"),
    ({"dangerous_goods": {"un_number": "123", "class": "3"}}, "cargo.0.dangerous_goods.un_number"),
    ({"dangerous_goods": {"un_number": "1263", "class": "10"}}, "cargo.0.dangerous_goods.class"),
    ({"dangerous_goods": {"un_number": "1263", "class": "3", "packing_group": "IV"}}, "cargo.0.dangerous_goods.packing_group"),
    ({"temperature_c": {"min": 8, "max": 2}}, "cargo.0.temperature_c"),
    ({"temperature_c": {"min": -31, "max": 2}}, "cargo.0.temperature_c.min"),
    ({"surprise": 1}, "cargo.0.surprise"),
    # A JSON value of the wrong kind is refused, not converted.
    ({"packages": "4"}, "cargo.0.packages"),
    ({"packages": True}, "cargo.0.packages"),
    ({"weight_kg": "72"}, "cargo.0.weight_kg"),
    ({"stackable": "false"}, "cargo.0.stackable"),
    ({"stackable": 0}, "cargo.0.stackable"),
    # A package no container type of the service takes: taller than any, or heavier than any payload.
    ({"length_cm": 100, "width_cm": 100, "height_cm": 1000}, "cargo.0.height_cm"),
    ({"packages": 1, "weight_kg": 29_999}, "cargo.0.weight_kg"),
    # More cargo than one booking takes (every package fits a container).
    ({"packages": 10_000, "length_cm": 230, "width_cm": 230, "height_cm": 200, "weight_kg": 30_000}, "cargo"),
]


@pytest.mark.parametrize("change,field", BAD_LINES)
async def test_bad_cargo_line_names_the_field_and_writes_nothing(app, client, exporter, network, change, field):
    body = booking_body(network["departure_id"], cargo=[cargo_line(**change)])
    raw = json.dumps(body, ensure_ascii=True).encode()  # a lone surrogate travels as its \\u escape
    response = await client.post("/v1/bookings", content=raw, headers=exporter | {"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    assert await count_rows(app) == (0, 0)


async def test_too_many_lines_and_bad_consignee(client, exporter, network):
    body = booking_body(network["departure_id"], cargo=[cargo_line()] * 201)
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cargo"
    body = booking_body(network["departure_id"])
    body["consignee"]["country"] = "Germany"
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.json()["errors"][0]["field"] == "consignee.country"


async def test_both_or_neither_target_is_422(client, exporter, network):
    body = booking_body(network["departure_id"], quote_option_id="q1")
    assert (await client.post("/v1/bookings", json=body, headers=exporter)).status_code == 422
    body = booking_body(network["departure_id"])
    del body["departure_id"]
    assert (await client.post("/v1/bookings", json=body, headers=exporter)).status_code == 422


async def test_malformed_json_and_wrong_top_level_type(client, exporter, network):
    response = await client.post(
        "/v1/bookings", content=b'{"departure_id": 1,', headers=exporter | {"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "body"  # not the character offset of the syntax error
    # Who is asking comes first, even when the body is not JSON at all.
    for headers in ({}, {"Authorization": "Bearer cvn_not-a-key"}):
        response = await client.post(
            "/v1/bookings", content=b'{"departure_id": 1,', headers=headers | {"Content-Type": "application/json"}
        )
        assert response.status_code == 401, response.text
    response = await client.post("/v1/bookings", json=[1, 2, 3], headers=exporter)
    assert response.status_code == 422


async def test_oversized_body_is_413_and_writes_nothing(app, client, exporter, network):
    body = booking_body(network["departure_id"])
    body["consignee"]["address"] = "x" * 2_000_000
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert await count_rows(app) == (0, 0)


async def test_chunked_oversized_body_is_cut_off(client, exporter, network):
    async def chunks():
        yield b'{"consignee": {"address": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}}'

    response = await client.post(
        "/v1/bookings", content=chunks(), headers=exporter | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_huge_ids_and_bad_paths_are_4xx(client, exporter, network):
    assert (await client.get("/v1/departures/99999999999999999999", headers=exporter)).status_code == 422
    assert (await client.get("/v1/departures/0", headers=exporter)).status_code == 422
    assert (await client.get("/v1/bookings/not-a-ref", headers=exporter)).status_code == 422
    assert (await client.get("/v1/bookings/CVNAAAAAAAA", headers=exporter)).status_code == 404
    body = booking_body(2**40)
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "departure_id"
    unknown = await client.get("/v1/nowhere", headers=exporter)
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/v1/departures", params={"limit": 101}, headers=exporter)).status_code == 422


async def test_bad_receipt_writes_nothing(client, operator, exporter, network):
    reference = (await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=exporter)).json()["reference"]
    for bad, field in [({"pieces": 0, "weight_kg": 1, "volume_cbm": 1}, "pieces"),
                       ({"pieces": 1, "weight_kg": -1, "volume_cbm": 1}, "weight_kg"),
                       ({"pieces": 1, "weight_kg": 1, "volume_cbm": 1, "received_at": "2099-01-01T00:00:00Z"}, "received_at"),
                       ({"pieces": 1, "weight_kg": 1, "volume_cbm": 1, "received_at": 1800000000}, "received_at"),
                       ({"pieces": 1, "weight_kg": 1, "volume_cbm": 1, "received_at": "2020-01-01T00:00:00Z"}, "received_at")]:
        response = await client.post(f"/v1/bookings/{reference}/receipt", json=bad, headers=operator)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    after = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert after["status"] == "CONFIRMED" and after["measured"] is None


async def test_a_receipt_of_more_than_a_booking_takes_or_with_a_long_note_writes_nothing(client, operator, exporter, network):
    reference = (await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=exporter)).json()["reference"]
    huge = {"packages": 10_000, "length_cm": 230, "width_cm": 230, "height_cm": 200, "weight_kg": 30_000}
    for bad, field in [({"lines": [huge] * 2}, "lines"),
                       ({"pieces": 1, "weight_kg": 1, "volume_cbm": 1, "note": "n" * 301}, "note")]:
        response = await client.post(f"/v1/bookings/{reference}/receipt", json=bad, headers=operator)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    after = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert after["status"] == "CONFIRMED" and after["measured"] is None


async def test_an_amendment_to_a_package_no_container_takes_is_refused(client, exporter, network):
    created = await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=exporter)
    tall = cargo_line(length_cm=100, width_cm=100, height_cm=1000)
    response = await client.patch(f"/v1/bookings/{created.json()['reference']}", json={"cargo": [tall]},
                                  headers=exporter | {"If-Match": created.headers["etag"]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cargo.0.height_cm"
    assert "fits none of service" in response.json()["detail"]
    after = await client.get(f"/v1/bookings/{created.json()['reference']}", headers=exporter)
    assert after.headers["etag"] == created.headers["etag"]


@pytest.mark.parametrize("change,field", [({"departure_id": True}, "departure_id"), ({"departure_id": "1"}, "departure_id"),
                                          ({"allow_rollover": "yes"}, "allow_rollover"),
                                          ({"allow_rollover": 1}, "allow_rollover")])
async def test_a_booking_field_of_the_wrong_json_kind_is_refused_not_converted(app, client, exporter, network, change, field):
    body = booking_body(network["departure_id"]) | change
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field and "not " in response.json()["errors"][0]["message"]
    assert await count_rows(app) == (0, 0)


async def test_an_operator_body_of_the_wrong_json_kind_is_refused(client, operator, network):
    departure = {"service": "WUH-DUI", "departs_at": "2027-03-01T00:00:00Z", "cutoff_at": "2027-02-25T00:00:00Z",
                 "arrives_at": "2027-03-20T00:00:00Z", "capacity_teu": True}
    response = await client.post("/v1/departures", json=departure, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "capacity_teu"
    assert "a number, not true or false" in response.json()["errors"][0]["message"]


async def test_list_items_of_the_wrong_json_kind_are_refused(client, operator, exporter, network):
    departure_id = network["departure_id"]
    await client.post("/v1/bookings", json=booking_body(departure_id), headers=exporter)
    assert (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).status_code in (200, 201)
    response = await client.post(f"/v1/departures/{departure_id}/plan/lock", json={"containers": [True, "7"]},
                                 headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "containers"
    assert "item 0 must be a number, not true or false" in response.json()["errors"][0]["message"]
