import pytest

from app.bookings.schemas import CargoLineIn
from app.cargo import chargeable_cbm, line_figures
from tests import factories
from tests.factories import booking_body, cargo_line, line_of_cbm


async def book(client, headers, departure_id, **overrides):
    return await client.post("/v1/bookings", json=booking_body(departure_id, **overrides), headers=headers)


# --- chargeable volume -------------------------------------------------------------

def test_line_volume_and_weight_measure():
    light = CargoLineIn(**cargo_line(packages=10, length_cm=60, width_cm=40, height_cm=50, weight_kg=180))
    figures = line_figures(light, weight_per_cbm_kg=500)
    assert figures.volume_cbm == pytest.approx(1.2)
    assert figures.chargeable_cbm == pytest.approx(1.2)  # 180 kg / 500 = 0.36 < 1.2
    heavy = CargoLineIn(**cargo_line(packages=2, length_cm=100, width_cm=100, height_cm=50, weight_kg=2000))
    assert line_figures(heavy, 500).chargeable_cbm == pytest.approx(4.0)  # 2000/500 > 1.0 CBM


def test_non_stackable_line_counts_its_footprint_times_2_39_m():
    flat = CargoLineIn(**cargo_line(packages=2, length_cm=120, width_cm=100, height_cm=100, weight_kg=100, stackable=False))
    figures = line_figures(flat, 500)
    assert figures.volume_cbm == pytest.approx(2.4)
    assert figures.chargeable_cbm == pytest.approx(2 * 1.2 * 2.39)


def test_a_booking_is_charged_at_least_one_cbm():
    assert chargeable_cbm(0.2, 50, 500) == 1.0
    assert chargeable_cbm(3.0, 2000, 500) == 4.0


async def test_create_confirms_and_prices(client, exporter, network):
    response = await book(client, exporter, network["departure_id"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reference"].startswith("CVN") and body["status"] == "CONFIRMED"
    assert body["chargeable_cbm"] == pytest.approx(1.2) and body["volume_cbm"] == pytest.approx(1.2)
    assert body["price"] == {"amount": "150.00", "currency": "EUR"}  # 1.2 × 100 < minimum 150
    assert response.headers["etag"] == f'"{body["reference"]}-v1"'
    assert response.headers["location"] == f"/v1/bookings/{body['reference']}"
    bigger = await book(client, exporter, network["departure_id"], cargo=[line_of_cbm(12.5)])
    assert bigger.json()["price"]["amount"] == "1250.00"
    departure = (await client.get(f"/v1/departures/{network['departure_id']}", headers=exporter)).json()
    assert departure["booked_cbm"] == pytest.approx(13.7)


# --- visibility ---------------------------------------------------------------------

async def test_exporters_see_only_their_own_bookings(client, operator, exporter, other_exporter, network):
    mine = (await book(client, exporter, network["departure_id"])).json()["reference"]
    theirs = (await book(client, other_exporter, network["departure_id"])).json()["reference"]
    assert (await client.get(f"/v1/bookings/{theirs}", headers=exporter)).status_code == 404
    listed = (await client.get("/v1/bookings", headers=exporter)).json()["items"]
    assert [b["reference"] for b in listed] == [mine]
    assert (await client.post(f"/v1/bookings/{theirs}/cancel", headers=exporter)).status_code == 404
    patch = await client.patch(f"/v1/bookings/{theirs}", json={"allow_rollover": True}, headers=exporter | {"If-Match": "*"})
    assert patch.status_code == 404
    all_bookings = (await client.get("/v1/bookings", headers=operator)).json()["items"]
    assert {b["reference"] for b in all_bookings} == {mine, theirs}


# --- space control ---------------------------------------------------------------------

async def test_full_departure_waitlists_then_promotes_on_cancel(client, exporter, network):
    departure_id = network["departure_id"]  # 2 TEU = 66 CBM
    first = (await book(client, exporter, departure_id, cargo=[line_of_cbm(40)])).json()
    second = (await book(client, exporter, departure_id, cargo=[line_of_cbm(30)])).json()
    assert first["status"] == "CONFIRMED" and second["status"] == "WAITLISTED"
    assert "no room" in second["status_reason"]
    cancelled = await client.post(f"/v1/bookings/{first['reference']}/cancel", headers=exporter)
    assert cancelled.json()["status"] == "CANCELLED"
    promoted = (await client.get(f"/v1/bookings/{second['reference']}", headers=exporter)).json()
    assert promoted["status"] == "CONFIRMED" and promoted["status_reason"] == "confirmed from the waitlist"


async def test_rollover_moves_to_the_next_departure_with_room(client, exporter, network):
    first_id, second_id = network["departures"][0]["id"], network["departures"][1]["id"]
    await book(client, exporter, first_id, cargo=[line_of_cbm(50)])
    rolled = (await book(client, exporter, first_id, cargo=[line_of_cbm(30)], allow_rollover=True)).json()
    assert rolled["status"] == "CONFIRMED"
    assert rolled["departure_id"] == second_id and rolled["requested_departure_id"] == first_id
    not_rolled = (await book(client, exporter, first_id, cargo=[line_of_cbm(30)])).json()
    assert not_rolled["status"] == "WAITLISTED" and not_rolled["departure_id"] == first_id


# --- amendments ---------------------------------------------------------------------------

async def test_amend_needs_if_match_and_rejects_stale_etags(client, exporter, network):
    created = await book(client, exporter, network["departure_id"])
    reference, etag = created.json()["reference"], created.headers["etag"]
    change = {"cargo": [line_of_cbm(5)]}
    assert (await client.patch(f"/v1/bookings/{reference}", json=change, headers=exporter)).status_code == 428
    amended = await client.patch(f"/v1/bookings/{reference}", json=change, headers=exporter | {"If-Match": etag})
    assert amended.status_code == 200
    assert amended.json()["chargeable_cbm"] == pytest.approx(5.0) and amended.json()["version"] == 2
    assert amended.headers["etag"] != etag
    stale = await client.patch(f"/v1/bookings/{reference}", json={"allow_rollover": True}, headers=exporter | {"If-Match": etag})
    assert stale.status_code == 412
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["allow_rollover"] is False


async def test_amendment_that_does_not_fit_changes_nothing(client, exporter, network):
    departure_id = network["departure_id"]
    await book(client, exporter, departure_id, cargo=[line_of_cbm(50)])
    created = await book(client, exporter, departure_id, cargo=[line_of_cbm(10)])
    reference, etag = created.json()["reference"], created.headers["etag"]
    too_big = await client.patch(
        f"/v1/bookings/{reference}", json={"cargo": [line_of_cbm(20)]}, headers=exporter | {"If-Match": etag}
    )
    assert too_big.status_code == 409 and "CBM" in too_big.json()["detail"]
    after = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert after["chargeable_cbm"] == pytest.approx(10.0) and after["version"] == 1


async def test_cutoff_passed_blocks_booking_amending_and_cancelling(app, client, operator, exporter, network):
    departure_id = network["departure_id"]
    created = await book(client, exporter, departure_id)
    reference, etag = created.json()["reference"], created.headers["etag"]
    past = factories.iso(factories.future(-1))
    assert (await client.patch(f"/v1/departures/{departure_id}", json={"cutoff_at": past}, headers=operator)).status_code == 200
    late = await book(client, exporter, departure_id)
    assert late.status_code == 409 and "cut-off" in late.json()["detail"]
    amend = await client.patch(f"/v1/bookings/{reference}", json={"allow_rollover": True}, headers=exporter | {"If-Match": etag})
    assert amend.status_code == 409
    assert (await client.post(f"/v1/bookings/{reference}/cancel", headers=exporter)).status_code == 409


# --- status machine and receipt --------------------------------------------------------------

async def test_illegal_transitions_are_409_with_the_reason(client, operator, exporter, network):
    reference = (await book(client, exporter, network["departure_id"])).json()["reference"]
    assert (await client.post(f"/v1/bookings/{reference}/cancel", headers=exporter)).status_code == 200
    again = await client.post(f"/v1/bookings/{reference}/cancel", headers=exporter)
    assert again.status_code == 409 and "CANCELLED" in again.json()["detail"]
    receipt = await client.post(
        f"/v1/bookings/{reference}/receipt", json={"pieces": 10, "weight_kg": 180, "volume_cbm": 1.2}, headers=operator
    )
    assert receipt.status_code == 409


async def test_receipt_uses_measured_figures_and_flags_discrepancies(client, operator, exporter, network):
    booked = (await book(client, exporter, network["departure_id"], cargo=[line_of_cbm(10)])).json()
    reference, pieces = booked["reference"], booked["pieces"]
    forbidden = await client.post(
        f"/v1/bookings/{reference}/receipt", json={"pieces": pieces, "weight_kg": 10, "volume_cbm": 10}, headers=exporter
    )
    assert forbidden.status_code == 403
    close = await client.post(
        f"/v1/bookings/{reference}/receipt", json={"pieces": pieces, "weight_kg": 10.5, "volume_cbm": 10.4},
        headers=operator,
    )
    body = close.json()
    assert body["status"] == "CARGO_RECEIVED" and body["measured"]["discrepancy"] is False
    assert body["chargeable_cbm"] == pytest.approx(10.4) and body["declared_chargeable_cbm"] == pytest.approx(10.0)
    assert body["measured"]["price"]["amount"] == "1040.00" and body["price"]["amount"] == "1000.00"
    far = await client.post(
        f"/v1/bookings/{reference}/receipt", json={"pieces": pieces, "weight_kg": 10, "volume_cbm": 13}, headers=operator
    )
    assert far.json()["measured"]["discrepancy"] is True
    assert far.json()["measured"]["volume_difference_pct"] == pytest.approx(30.0)
    departure = (await client.get(f"/v1/departures/{network['departure_id']}", headers=exporter)).json()
    assert departure["booked_cbm"] == pytest.approx(13.0)
    cancel = await client.post(f"/v1/bookings/{reference}/cancel", headers=exporter)
    assert cancel.status_code == 409


async def test_receipt_from_measured_lines(client, operator, exporter, network):
    reference = (await book(client, exporter, network["departure_id"], cargo=[line_of_cbm(2)])).json()["reference"]
    lines = [{"packages": 4, "length_cm": 100, "width_cm": 50, "height_cm": 50, "weight_kg": 120.5},
             {"packages": 1, "length_cm": 120, "width_cm": 100, "height_cm": 80, "weight_kg": 60}]
    received = await client.post(f"/v1/bookings/{reference}/receipt", json={"lines": lines}, headers=operator)
    assert received.status_code == 200, received.text
    measured = received.json()["measured"]
    assert measured["pieces"] == 5 and measured["weight_kg"] == pytest.approx(180.5)
    assert measured["volume_cbm"] == pytest.approx(4 * 0.25 + 0.96)
    # Lines or totals, not both, and never neither; nothing is written by a refused receipt.
    both = await client.post(
        f"/v1/bookings/{reference}/receipt", json={"lines": lines, "pieces": 5}, headers=operator
    )
    neither = await client.post(f"/v1/bookings/{reference}/receipt", json={"note": "wet cartons"}, headers=operator)
    bad_line = await client.post(
        f"/v1/bookings/{reference}/receipt", json={"lines": [{**lines[0], "height_cm": 0}]}, headers=operator
    )
    assert both.status_code == neither.status_code == bad_line.status_code == 422
    assert bad_line.json()["errors"][0]["field"] == "lines.0.height_cm"
    after = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert after["measured"]["pieces"] == 5 and after["status_reason"] is None


async def test_operator_rejects_and_space_frees(client, operator, exporter, network):
    departure_id = network["departure_id"]
    big = (await book(client, exporter, departure_id, cargo=[line_of_cbm(50)])).json()["reference"]
    waiting = (await book(client, exporter, departure_id, cargo=[line_of_cbm(20)])).json()["reference"]
    rejected = await client.post(f"/v1/bookings/{big}/reject", json={"reason": "sanctioned consignee"}, headers=operator)
    assert rejected.json()["status"] == "REJECTED" and rejected.json()["status_reason"] == "sanctioned consignee"
    assert (await client.get(f"/v1/bookings/{waiting}", headers=exporter)).json()["status"] == "CONFIRMED"
    assert (await client.post(f"/v1/bookings/{waiting}/reject", json={"reason": "x"}, headers=exporter)).status_code == 403


# --- cargo rules against the service ---------------------------------------------------------

async def test_forbidden_dg_class_names_the_field(client, exporter, network):
    explosive = cargo_line(dangerous_goods={"un_number": "0336", "class": "1.4", "packing_group": None})
    response = await book(client, exporter, network["departure_id"], cargo=[cargo_line(), explosive])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cargo.1.dangerous_goods.class"
    flammable = cargo_line(dangerous_goods={"un_number": "1263", "class": "3", "packing_group": "II"})
    accepted = await book(client, exporter, network["departure_id"], cargo=[flammable])
    assert accepted.status_code == 201
    assert accepted.json()["cargo"][0]["dangerous_goods"] == {"un_number": "1263", "class": "3", "packing_group": "II"}


async def test_temperature_needs_a_reefer_service_and_a_common_set_point(client, operator, exporter, network):
    cold = cargo_line(temperature_c={"min": 2, "max": 8})
    assert (await book(client, exporter, network["departure_id"], cargo=[cold])).status_code == 201
    mixed = await book(client, exporter, network["departure_id"], cargo=[cold, cargo_line()])
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "cargo.1.temperature_c"
    apart = await book(client, exporter, network["departure_id"], cargo=[cold, cargo_line(temperature_c={"min": -20, "max": -10})])
    assert apart.status_code == 422
    dry = factories.service_body("WUH-DUI-DRY", reefer_allowed=False, container_types=["40HC"])
    assert (await client.post("/v1/services", json=dry, headers=operator)).status_code == 201
    departure = await client.post("/v1/departures", json=factories.departure_body("WUH-DUI-DRY"), headers=operator)
    response = await book(client, exporter, departure.json()["id"], cargo=[cold])
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cargo.0.temperature_c"


async def test_origin_and_destination_must_lie_on_the_route_in_order(client, exporter, network):
    partial = await book(client, exporter, network["departure_id"], origin="CNAKL", destination="DEDUI")
    assert partial.status_code == 201 and partial.json()["origin"] == "CNAKL"
    backwards = await book(client, exporter, network["departure_id"], origin="PLMAA", destination="CNAKL")
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "destination"
    unknown = await book(client, exporter, network["departure_id"], destination="DEHAM")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "destination"


async def test_unknown_departure_is_404(client, exporter, network):
    response = await book(client, exporter, 999_999)
    assert response.status_code == 404 and response.json()["errors"][0]["field"] == "departure_id"


async def test_delivery_closes_an_arrived_booking(app, client, operator, exporter, network):
    from sqlalchemy import update

    from app.bookings.models import Booking

    reference = (await book(client, exporter, network["departure_id"])).json()["reference"]
    early = await client.post(f"/v1/bookings/{reference}/deliver", json={"received_by": "M. Keller"}, headers=operator)
    assert early.status_code == 409 and "CONFIRMED" in early.json()["detail"]
    async with app.state.sessionmaker() as session:  # the train's ARRI is the tracking suite's business
        await session.execute(update(Booking).where(Booking.reference == reference).values(status="ARRIVED"))
        await session.commit()
    not_theirs = await client.post(f"/v1/bookings/{reference}/deliver", json={"received_by": "X"}, headers=exporter)
    assert not_theirs.status_code == 403
    future = await client.post(f"/v1/bookings/{reference}/deliver",
                               json={"received_by": "M. Keller", "delivered_at": "2099-01-01T00:00:00Z"}, headers=operator)
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "delivered_at"
    before_booked = await client.post(f"/v1/bookings/{reference}/deliver",
                                      json={"received_by": "M. Keller", "delivered_at": "2020-01-01T00:00:00Z"},
                                      headers=operator)
    assert before_booked.status_code == 422 and before_booked.json()["errors"][0]["field"] == "delivered_at"
    delivered = await client.post(f"/v1/bookings/{reference}/deliver", json={"received_by": "M. Keller"}, headers=operator)
    assert delivered.status_code == 200 and delivered.json()["status"] == "DELIVERED"
    events = (await client.get("/v1/events", params={"booking": reference}, headers=exporter)).json()["items"]
    assert any(e["booking_status"] == "DELIVERED" for e in events)


async def test_the_openapi_document_declares_the_concurrency_rules(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    amend = paths["/v1/bookings/{reference}"]["patch"]["responses"]
    assert {"412", "428"} <= set(amend) and "application/problem+json" in amend["412"]["content"]
    assert "ETag" in amend["200"]["headers"]
    assert {"ETag", "Location"} <= set(paths["/v1/bookings"]["post"]["responses"]["201"]["headers"])
    assert "ETag" in paths["/v1/bookings/{reference}"]["get"]["responses"]["200"]["headers"]


async def test_every_answer_with_a_booking_declares_its_etag_in_the_openapi_document(client):
    document = (await client.get("/openapi.json")).json()
    answers = [
        (path, method, status, answer)
        for path, operations in document["paths"].items() if path.startswith("/v1/bookings/{reference}")
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "").endswith("/BookingRead")
    ]
    assert len(answers) >= 6  # get, amend, cancel, reject, deliver, receipt
    assert [(path, method) for path, method, _, answer in answers if "ETag" not in answer.get("headers", {})] == []
