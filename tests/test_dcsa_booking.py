"""DCSA Booking 2.0 (issue 17): /dcsa/bkg/v2/bookings over the same bookings as /v1/bookings.

Each mapping rule and each status transition of the spec's state diagrams that Caravan
serves, with answers checked against the official schema (app/dcsa/spec/BKG_v2.0.0.yaml)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft4Validator
from sqlalchemy import update

from app.db import utcnow
from app.dcsa_booking.mapping import spec
from app.network.models import Departure
from tests import factories
from tests.factories import line_of_cbm
from tests.test_quotes import by_modes, multimodal_network, quote

BASE = "/dcsa/bkg/v2/bookings"


def _validator(name: str) -> Draft4Validator:
    return Draft4Validator({"$ref": f"#/components/schemas/{name}", "components": spec()["components"]})


BOOKING = _validator("Booking")
ERROR = _validator("ErrorResponse")


def commodity(**overrides: Any) -> dict[str, Any]:
    item = {
        "commodityType": "Festive decorations",
        "HSCodes": ["950510"],
        "cargoGrossWeight": {"value": 180, "unit": "KGM"},
        "outerPackaging": {"packageCode": "CT", "numberOfPackages": 10},
        "packageDimensions": {"length": 60, "width": 40, "height": 50, "unit": "CMT"},
    }
    item.update(overrides)
    return item


def request_body(departure_id: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "receiptTypeAtOrigin": "CFS",
        "deliveryTypeAtDestination": "CFS",
        "cargoMovementTypeAtOrigin": "LCL",
        "cargoMovementTypeAtDestination": "LCL",
        "carrierExportVoyageNumber": str(departure_id),
        "isEquipmentSubstitutionAllowed": False,
        "shipmentLocations": [
            {"location": {"locationName": "CNWUH-WJS"}, "locationTypeCode": "POL"},
            {"location": {"UNLocationCode": "DEDUI"}, "locationTypeCode": "POD"},
        ],
        "requestedEquipments": [{"ISOEquipmentCode": "22G1", "units": 1, "isShipperOwned": False,
                                 "commodities": [commodity()]}],
        "documentParties": {
            "bookingAgent": {"partyName": "Forwarder Ltd"},
            "consignee": {"partyName": "Rhein Deko GmbH",
                          "address": {"street": "Hafenstraße", "streetNumber": "1", "city": "Duisburg",
                                      "countryCode": "DE"},
                          "partyContactDetails": [{"name": "Anna", "email": "anna@rhein-deko.de"}]},
        },
        "references": [{"type": "PO", "value": "PO-4711"}],
    }
    body.update(overrides)
    return body


async def book(client, headers, departure_id: int, **overrides: Any) -> str:
    response = await client.post(BASE, json=request_body(departure_id, **overrides), headers=headers)
    assert response.status_code == 202, response.text
    assert set(response.json()) == {"carrierBookingRequestReference"}
    assert response.headers["api-version"] == "2.0.0"
    return response.json()["carrierBookingRequestReference"]


async def get(client, headers, reference: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{BASE}/{reference}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert list(BOOKING.iter_errors(answer)) == [], [e.message for e in BOOKING.iter_errors(answer)]
    return answer


def assert_error(response, status: int, json_path: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(ERROR.iter_errors(body)) == []
    if json_path is not None:
        assert body["errors"][0]["jsonPath"] == json_path, body
    return body


# --- booking and reading: one booking, two views ------------------------------------------------

async def test_a_dcsa_request_is_a_caravan_booking_in_both_views(client, exporter, network):
    request_reference = await book(client, exporter, network["departure_id"])
    answer = await get(client, exporter, request_reference)
    assert answer["bookingStatus"] == "CONFIRMED" and answer["carrierBookingRequestReference"] == request_reference
    reference = answer["carrierBookingReference"]
    caravan = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert caravan["status"] == "CONFIRMED" and caravan["departure_id"] == network["departure_id"]
    assert (caravan["origin"], caravan["destination"]) == ("CNWUH-WJS", "DEDUI")
    line = caravan["cargo"][0]
    assert (line["package_type"], line["packages"], line["weight_kg"], line["hs_code"]) == ("CARTON", 10, 180, "950510")
    assert (line["length_cm"], line["width_cm"], line["height_cm"]) == (60, 40, 50)
    assert caravan["consignee"] == {"name": "Rhein Deko GmbH", "address": "Hafenstraße 1", "city": "Duisburg",
                                    "country": "DE", "email": "anna@rhein-deko.de", "phone": None}
    assert caravan["references"] == [{"kind": "PURCHASE_ORDER", "value": "PO-4711"}]
    # The same booking by its carrier booking reference; its tracking as /v1 has it.
    assert (await get(client, exporter, reference))["carrierBookingRequestReference"] == request_reference
    tracking = await client.get(f"/v1/bookings/{reference}/tracking", headers=exporter)
    assert tracking.status_code == 200 and tracking.json()["legs"]
    # Space control and pricing are the booking desk's: the DCSA answer carries its price and cut-off.
    assert sum(c["currencyAmount"] for c in answer["charges"]) == float(caravan["price"]["amount"])
    assert answer["shipmentCutOffTimes"] == [{"cutOffDateTimeCode": "LCO",
                                             "cutOffDateTime": caravan["cutoff_at"]}]
    assert answer["requestedEquipments"][0]["ISOEquipmentCode"] == "22G1"
    assert answer["requestedEquipments"][0]["commodities"][0]["outerPackaging"] == {"packageCode": "CT",
                                                                                   "numberOfPackages": 10}


async def test_a_v1_booking_is_answered_by_the_dcsa_view(client, exporter, network):
    created = await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=exporter)
    reference = created.json()["reference"]
    answer = await get(client, exporter, reference)
    assert answer["carrierBookingReference"] == reference and "carrierBookingRequestReference" not in answer
    assert answer["bookingStatus"] == "CONFIRMED"
    assert answer["cargoMovementTypeAtOrigin"] == "LCL" and answer["receiptTypeAtOrigin"] == "CFS"
    assert answer["shipmentLocations"][0] == {"location": {"locationName": "CNWUH-WJS", "UNLocationCode": "CNWUH"},
                                              "locationTypeCode": "POL"}
    assert answer["requestedEquipments"][0]["commodities"][0]["HSCodes"] == ["950510"]
    assert answer["transportPlan"][0]["transportPlanStage"] == "MNC"


async def test_another_organisation_s_references_are_404(client, exporter, other_exporter, network):
    request_reference = await book(client, exporter, network["departure_id"])
    reference = (await get(client, exporter, request_reference))["carrierBookingReference"]
    for path in (request_reference, reference):
        assert_error(await client.get(f"{BASE}/{path}", headers=other_exporter), 404)
        assert_error(await client.put(f"{BASE}/{path}", json=request_body(network["departure_id"]),
                                      headers=other_exporter), 404)
        assert_error(await client.patch(f"{BASE}/{path}", json={"bookingStatus": "CANCELLED"},
                                        headers=other_exporter), 404)
    assert (await get(client, exporter, reference))["bookingStatus"] == "CONFIRMED"
    assert_error(await client.get(f"{BASE}/no-such-request", headers=exporter), 404)


async def test_keys_and_scopes_answer_in_the_error_shape(client, operator, network):
    assert_error(await client.get(f"{BASE}/x"), 401)
    reader = await factories.org_headers(client, operator, "Reader Co", "exporter", ["bookings:read"])
    assert_error(await client.post(BASE, json=request_body(network["departure_id"]), headers=reader), 403)
    assert_error(await client.get("/dcsa/bkg/v2/nothing", headers=reader), 404)


# --- mapping rules ------------------------------------------------------------------------------

async def test_properties_caravan_does_not_use_get_a_will_be_ignored_feedback(client, exporter, network):
    body = request_body(network["departure_id"], serviceContractReference="HHL51800000",
                        transportDocumentTypeCode="BOL")
    body["requestedEquipments"][0]["commodities"][0]["cargoNetWeight"] = {"value": 170, "unit": "KGM"}
    response = await client.post(BASE, json=body, headers=exporter)
    answer = await get(client, exporter, response.json()["carrierBookingRequestReference"])
    ignored = {f["jsonPath"] for f in answer["feedbacks"] if f["code"] == "PROPERTY_WILL_BE_IGNORED"}
    assert {"$.serviceContractReference", "$.transportDocumentTypeCode", "$.documentParties.bookingAgent",
            "$.requestedEquipments[0].commodities[0].cargoNetWeight"} <= ignored
    assert all(f["severity"] == "WARN" for f in answer["feedbacks"] if f["code"] == "PROPERTY_WILL_BE_IGNORED")


async def test_a_quote_option_is_booked_by_its_contract_quotation_reference(client, operator, exporter):
    await multimodal_network(client, operator)
    rail = by_modes(await quote(client, exporter))[("RAIL",)]
    body = request_body(0, contractQuotationReference=rail["id"], incoTerms="FCA",
                        references=[{"type": "SI", "value": "S-9"}, {"type": "ZZZ", "value": "misc"}])
    del body["carrierExportVoyageNumber"]
    made = await client.post(BASE, json=body, headers=exporter)
    assert made.status_code == 202, made.text
    answer = await get(client, exporter, made.json()["carrierBookingRequestReference"])
    caravan = (await client.get(f"/v1/bookings/{answer['carrierBookingReference']}", headers=exporter)).json()
    option = (await client.get(f"/v1/quote-options/{rail['id']}", headers=exporter)).json()
    assert option["booking_reference"] == caravan["reference"] and caravan["incoterm"] == "FCA"
    assert caravan["references"] == [{"kind": "SHIPPER_REFERENCE", "value": "S-9"}, {"kind": "OTHER", "value": "misc"}]
    assert answer["references"] == [{"type": "SI", "value": "S-9"}, {"type": "CR", "value": "misc"}]
    assert answer["incoTerms"] == "FCA"
    assert any(f["jsonPath"] == "$.shipmentLocations" for f in answer["feedbacks"])
    # Both a departure and a quote option, or neither: a 400 naming the departure.
    both = dict(body, carrierExportVoyageNumber="1")
    assert_error(await client.post(BASE, json=both, headers=exporter), 400, "$.carrierExportVoyageNumber")
    bad_term = dict(body, incoTerms="XYZ")
    assert_error(await client.post(BASE, json=bad_term, headers=exporter), 400, "$.incoTerms")


async def test_an_ignored_property_s_name_is_repeated_printable_and_bounded(client, exporter, network):
    body = request_body(network["departure_id"], **{"x\u0000\u202e" + "y" * 500: 1})
    answer = await get(client, exporter, await book(client, exporter, network["departure_id"], **body))
    ignored = [f for f in answer["feedbacks"] if f["code"] == "PROPERTY_WILL_BE_IGNORED"]
    assert ignored[0]["jsonPath"] == "$.x??" + "y" * 97


async def test_pounds_inches_and_a_reefer_setpoint_in_fahrenheit_are_converted(client, operator, exporter, network):
    body = request_body(network["departure_id"])
    equipment = body["requestedEquipments"][0]
    equipment["activeReeferSettings"] = {"temperatureSetpoint": 41, "temperatureUnit": "FAH"}
    equipment["commodities"] = [commodity(cargoGrossWeight={"value": 220.462, "unit": "LBR"},
                                          packageDimensions={"length": 10, "width": 20, "height": 30, "unit": "INH"})]
    answer = await get(client, exporter, await book(client, exporter, network["departure_id"], **body))
    line = (await client.get(f"/v1/bookings/{answer['carrierBookingReference']}", headers=exporter)).json()["cargo"][0]
    assert round(line["weight_kg"]) == 100 and (line["length_cm"], line["width_cm"], line["height_cm"]) == (25.4, 50.8, 76.2)
    assert line["temperature_c"] == {"min": 5.0, "max": 5.0}
    assert answer["requestedEquipments"][0]["activeReeferSettings"] == {"temperatureSetpoint": 5.0,
                                                                        "temperatureUnit": "CEL"}


async def test_without_dimensions_a_package_is_a_cube_of_the_gross_volume_until_measured(client, exporter, network):
    item = commodity(cargoGrossVolume={"value": 1.0, "unit": "MTQ"}, outerPackaging={"packageCode": "PX",
                                                                                    "numberOfPackages": 1})
    del item["packageDimensions"]
    body = request_body(network["departure_id"])
    body["requestedEquipments"][0]["commodities"] = [item]
    answer = await get(client, exporter, await book(client, exporter, network["departure_id"], **body))
    line = (await client.get(f"/v1/bookings/{answer['carrierBookingReference']}", headers=exporter)).json()["cargo"][0]
    assert (line["length_cm"], line["package_type"]) == (100.0, "PALLET")
    assert any(f["code"] == "PROPERTY_VALUE_MAY_CHANGE" for f in answer["feedbacks"])
    del item["cargoGrossVolume"]
    response = await client.post(BASE, json=body, headers=exporter)
    assert_error(response, 400, "$.requestedEquipments[0].commodities[0].packageDimensions")


async def test_a_door_delivery_asked_for_is_changed_to_cfs_with_a_feedback(client, exporter, network):
    reference = await book(client, exporter, network["departure_id"], deliveryTypeAtDestination="SD")
    answer = await get(client, exporter, reference)
    assert answer["deliveryTypeAtDestination"] == "CFS"
    assert {"code": "PROPERTY_VALUE_HAS_BEEN_CHANGED", "jsonPath": "$.deliveryTypeAtDestination"}.items() <= \
        next(f for f in answer["feedbacks"] if f["jsonPath"] == "$.deliveryTypeAtDestination").items()


async def test_dangerous_goods_map_to_caravan_s_and_the_service_s_rules_apply(client, exporter, network):
    goods = {"UNNumber": "1263", "properShippingName": "PAINT", "imoClass": "3", "packingGroup": 2,
             "isMarinePollutant": False, "isLimitedQuantity": False, "isExceptedQuantity": False,
             "isSalvagePackings": False, "isEmptyUncleanedResidue": False, "isWaste": False, "isHot": False,
             "isCompetentAuthorityApprovalRequired": False, "isReportableQuantity": False,
             "emergencyContactDetails": {"contact": "Anna", "phone": "+49 203 1234"},
             "grossWeight": {"value": 180, "unit": "KGM"}}
    body = request_body(network["departure_id"])
    body["requestedEquipments"][0]["commodities"][0]["outerPackaging"]["dangerousGoods"] = [goods]
    answer = await get(client, exporter, await book(client, exporter, network["departure_id"], **body))
    line = (await client.get(f"/v1/bookings/{answer['carrierBookingReference']}", headers=exporter)).json()["cargo"][0]
    assert line["dangerous_goods"] == {"un_number": "1263", "class": "3", "packing_group": "II"}
    # The service forbids class 1: refused with the DCSA property named.
    forbidden = copy.deepcopy(body)
    forbidden["requestedEquipments"][0]["commodities"][0]["outerPackaging"]["dangerousGoods"][0]["imoClass"] = "1.4"
    response = await client.post(BASE, json=forbidden, headers=exporter)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["jsonPath"].startswith("$.requestedEquipments[0].commodities[0]")


@pytest.mark.parametrize("change,path", [
    (lambda b: b.pop("documentParties"), "$"),
    (lambda b: b.update(cargoMovementTypeAtOrigin="FCL"), "$.cargoMovementTypeAtOrigin"),
    (lambda b: b.update(carrierExportVoyageNumber="W12"), "$.carrierExportVoyageNumber"),
    (lambda b: b.update(carrierExportVoyageNumber="999999"), "$.carrierExportVoyageNumber"),
    (lambda b: b["requestedEquipments"][0]["commodities"][0].update(HSCodes=["95"]),
     "$.requestedEquipments[0].commodities[0].HSCodes[0]"),
    (lambda b: b["requestedEquipments"][0]["commodities"][0]["outerPackaging"].update(packageCode="ZZ"),
     "$.requestedEquipments[0].commodities[0].outerPackaging.packageCode"),
    (lambda b: b["requestedEquipments"][0]["commodities"][0].pop("cargoGrossWeight"),
     "$.requestedEquipments[0].commodities[0].cargoGrossWeight"),
    (lambda b: b["documentParties"].pop("consignee"), "$.documentParties.consignee"),
    (lambda b: b["shipmentLocations"][1]["location"].update(UNLocationCode="NLRTM"),
     "$.shipmentLocations[1].location"),
    (lambda b: b["requestedEquipments"][0].update(units="one"), "$.requestedEquipments[0].units"),
    (lambda b: b["requestedEquipments"][0].update(units=10_001), "$.requestedEquipments[0].units"),
    (lambda b: b["requestedEquipments"][0].update(ISOEquipmentCode="2\u00012"),
     "$.requestedEquipments[0].ISOEquipmentCode"),
    (lambda b: b.update(requestedEquipments=b["requestedEquipments"] * 51), "$.requestedEquipments"),
    (lambda b: b["requestedEquipments"][0]["commodities"][0].update(commodityType="Deko\u202eexe"),
     "$.requestedEquipments[0].commodities[0].commodityType"),
])
async def test_a_request_caravan_cannot_take_is_a_400_naming_the_property(client, exporter, network, change, path):
    body = request_body(network["departure_id"])
    change(body)
    body = body or request_body(network["departure_id"])
    response = await client.post(BASE, json=body, headers=exporter)
    assert_error(response, 400, path)
    assert (await client.get("/v1/bookings", headers=exporter)).json()["items"] == []


# --- the state diagrams -------------------------------------------------------------------------

async def test_a_request_without_room_is_received_then_cancelled_by_the_consumer(client, exporter, network):
    departure = network["departure_id"]
    # Two destinations take the departure's 2 TEU (a 20GP each): a third destination finds no room.
    for destination in ("PLMAA", "DEDUI"):
        await client.post("/v1/bookings", json=factories.booking_body(departure, cargo=[line_of_cbm(5)],
                                                                      destination=destination), headers=exporter)
    body = request_body(departure)
    body["shipmentLocations"][1]["location"] = {"UNLocationCode": "CNAKL"}
    reference = await book(client, exporter, departure, **body)
    answer = await get(client, exporter, reference)
    assert answer["bookingStatus"] == "RECEIVED" and "carrierBookingReference" not in answer
    assert any("waitlisted" in f["message"] for f in answer["feedbacks"])
    # RECEIVED --PUT--> UPDATE_RECEIVED (still no room)
    body["references"] = [{"type": "SI", "value": "S-1"}]
    assert (await client.put(f"{BASE}/{reference}", json=body, headers=exporter)).status_code == 202
    updated = await get(client, exporter, reference)
    assert updated["bookingStatus"] == "UPDATE_RECEIVED" and updated["references"] == [{"type": "SI", "value": "S-1"}]
    # Requesting cancellation of a booking not yet confirmed is a 409; cancelling the request works.
    assert_error(await client.patch(f"{BASE}/{reference}", json={"bookingCancellationStatus": "CANCELLATION_RECEIVED"},
                                    headers=exporter), 409)
    assert (await client.patch(f"{BASE}/{reference}", json={"bookingStatus": "CANCELLED"},
                               headers=exporter)).status_code == 202
    assert (await get(client, exporter, reference))["bookingStatus"] == "CANCELLED"
    # CANCELLED is final.
    assert_error(await client.put(f"{BASE}/{reference}", json=body, headers=exporter), 409)


async def test_a_confirmed_booking_is_amended_and_its_cancellation_requested(client, exporter, network):
    request_reference = await book(client, exporter, network["departure_id"])
    reference = (await get(client, exporter, request_reference))["carrierBookingReference"]
    assert_error(await client.get(f"{BASE}/{reference}", params={"amendedContent": "true"}, headers=exporter), 404)
    # CONFIRMED --PUT--> AMENDMENT_CONFIRMED: the booking itself changed (space, price) in both views.
    body = request_body(network["departure_id"])
    body["requestedEquipments"][0]["commodities"][0]["outerPackaging"]["numberOfPackages"] = 20
    assert (await client.put(f"{BASE}/{reference}", json=body, headers=exporter)).status_code == 202
    amended = await get(client, exporter, reference, amendedContent="true")
    assert (amended["bookingStatus"], amended["amendedBookingStatus"]) == ("CONFIRMED", "AMENDMENT_CONFIRMED")
    caravan = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert caravan["cargo"][0]["packages"] == 20 and caravan["version"] == 2
    # An amendment that no longer fits is refused; nothing changes.
    too_big = request_body(network["departure_id"])
    too_big["requestedEquipments"][0]["commodities"] = [
        commodity(outerPackaging={"packageCode": "PX", "numberOfPackages": 40},
                  packageDimensions={"length": 200, "width": 200, "height": 230})] * 3
    assert_error(await client.put(f"{BASE}/{reference}", json=too_big, headers=exporter), 409)
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["version"] == 2
    # No amendment awaits processing: withdrawing one is a 404. Cancelling a confirmed booking as a request: 409.
    assert_error(await client.patch(f"{BASE}/{reference}", json={"amendedBookingStatus": "AMENDMENT_CANCELLED"},
                                    headers=exporter), 404)
    assert_error(await client.patch(f"{BASE}/{reference}", json={"bookingStatus": "CANCELLED"}, headers=exporter), 409)
    assert_error(await client.patch(f"{BASE}/{request_reference}",
                                    json={"bookingCancellationStatus": "CANCELLATION_RECEIVED"}, headers=exporter), 409)
    # CONFIRMED --cancellation requested--> CANCELLED, CANCELLATION_CONFIRMED; the space is freed.
    response = await client.patch(f"{BASE}/{reference}", json={"bookingCancellationStatus": "CANCELLATION_RECEIVED",
                                                                "reason": "order withdrawn"}, headers=exporter)
    assert response.status_code == 202, response.text
    cancelled = await get(client, exporter, reference)
    assert (cancelled["bookingStatus"], cancelled["bookingCancellationStatus"]) == ("CANCELLED", "CANCELLATION_CONFIRMED")
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["status"] == "CANCELLED"


async def test_a_cancellation_after_the_cut_off_is_declined(app, client, exporter, network):
    reference = (await get(client, exporter, await book(client, exporter, network["departure_id"])))["carrierBookingReference"]
    async with app.state.sessionmaker() as session:
        await session.execute(update(Departure).where(Departure.id == network["departure_id"])
                              .values(cutoff_at=utcnow() - timedelta(hours=1)))
        await session.commit()
    response = await client.patch(f"{BASE}/{reference}", json={"bookingCancellationStatus": "CANCELLATION_RECEIVED"},
                                  headers=exporter)
    assert response.status_code == 202, response.text
    answer = await get(client, exporter, reference)
    assert (answer["bookingStatus"], answer["bookingCancellationStatus"]) == ("CONFIRMED", "CANCELLATION_DECLINED")
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["status"] == "CONFIRMED"


async def test_caravan_s_later_statuses_read_as_the_spec_s(client, operator, exporter, network):
    rejected = (await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]),
                                  headers=exporter)).json()["reference"]
    await client.post(f"/v1/bookings/{rejected}/reject", json={"reason": "no export licence"}, headers=operator)
    answer = await get(client, exporter, rejected)
    assert answer["bookingStatus"] == "REJECTED" and "carrierBookingReference" not in answer
    assert any("no export licence" in f["message"] for f in answer["feedbacks"])
    cancelled = (await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]),
                                   headers=exporter)).json()["reference"]
    await client.post(f"/v1/bookings/{cancelled}/cancel", headers=exporter)
    assert (await get(client, exporter, cancelled))["bookingStatus"] == "CANCELLED"


@pytest.mark.parametrize("body,path", [
    ({"bookingStatus": "CONFIRMED"}, "$.bookingStatus"),
    ({"bookingStatus": "CANCELLED", "amendedBookingStatus": "AMENDMENT_CANCELLED"}, None),
    ({}, None),
])
async def test_a_bad_cancellation_is_a_400(client, exporter, network, body, path):
    reference = await book(client, exporter, network["departure_id"])
    assert_error(await client.patch(f"{BASE}/{reference}", json=body, headers=exporter), 400, path)
    assert (await get(client, exporter, reference))["bookingStatus"] == "CONFIRMED"


async def test_the_served_document_is_the_official_one_with_this_server(client):
    document = (await client.get("/dcsa/bkg/v2/openapi.json")).json()
    assert document["info"]["version"] == "2.0.0" and document["servers"] == [
        {"url": "/dcsa/bkg", "description": "this Caravan server"}]
    assert "/v2/bookings" in document["paths"]
