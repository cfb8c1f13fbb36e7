"""A Caravan booking as a DCSA Booking 2.0 ``Booking``, and how its status reads there.

Built from the booking as /v1 answers it (``records.booking_read``), so both views always
agree: an amendment or cancellation through either shows in both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.bookings.models import Booking
from app.bookings.records import booking_read
from app.bookings.schemas import BookingStatus as S
from app.dcsa_booking.mapping import TYPE_OF_KIND, feedback
from app.dcsa_booking.models import DcsaBooking

# Caravan's status -> the spec's bookingStatus. Caravan judges a request at once: a booking it could
# not yet confirm (waitlisted for space) is RECEIVED, awaiting confirmation.
CONFIRMED_STATUSES = {S.CONFIRMED, S.CARGO_RECEIVED, S.STUFFED, S.IN_TRANSIT, S.ARRIVED}
NOT_CONFIRMED = {"RECEIVED", "PENDING_UPDATE", "UPDATE_RECEIVED"}
MODES = {"RAIL": "RAIL", "ROAD": "TRUCK", "WATER": "BARGE"}
PRICE_LINES = ("base", "minimum_top_up", "dg_surcharge", "reefer_surcharge", "non_stackable_surcharge",
               "origin_handling", "destination_handling", "pickup", "delivery")


def booking_status(status: str, row: DcsaBooking | None) -> str:
    """The spec's ``bookingStatus`` of a booking in Caravan's ``status``."""
    caravan = S(status)
    if caravan in (S.RECEIVED, S.WAITLISTED):
        return "UPDATE_RECEIVED" if row is not None and row.update_received else "RECEIVED"
    if caravan in CONFIRMED_STATUSES:
        return "CONFIRMED"
    if caravan is S.DELIVERED:
        return "COMPLETED"
    if caravan is S.REJECTED:
        return "REJECTED"
    return "CANCELLED"


def _date(value: datetime) -> str:
    return value.date().isoformat()


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _location(hub: str) -> dict[str, Any]:
    return {"locationName": hub, "UNLocationCode": hub[:5]}


def _commodity(line: dict[str, Any]) -> dict[str, Any]:
    packaging: dict[str, Any] = {"packageCode": line["package_code"], "numberOfPackages": line["packages"]}
    return {
        "commodityType": line["description"][:550],
        "HSCodes": [line["hs_code"]],
        "cargoGrossWeight": {"value": line["weight_kg"], "unit": "KGM"},
        "cargoGrossVolume": {"value": line["volume_cbm"], "unit": "MTQ"},
        "outerPackaging": packaging,
    }


def _equipments(read: dict[str, Any], row: DcsaBooking | None) -> list[dict[str, Any]]:
    """The requested equipment as sent, each with its commodities (Caravan's cargo lines, in order)."""
    commodities = [_commodity(line) for line in read["cargo"]]
    reefer = next((line["temperature_c"] for line in read["cargo"] if line["temperature_c"]), None)
    sent = row.equipments if row is not None and row.equipments else [
        {"ISOEquipmentCode": "LCL", "units": 1, "isShipperOwned": False, "commodities": len(commodities)}
    ]
    if sum(item.get("commodities", 0) for item in sent) != len(commodities):  # lines changed through /v1
        sent = [{**sent[0], "commodities": len(commodities)}]
    answer, start = [], 0
    for item in sent:
        count = item.get("commodities", 0)
        equipment = {key: item[key] for key in ("ISOEquipmentCode", "units", "isShipperOwned")}
        if commodities[start:start + count]:
            equipment["commodities"] = commodities[start:start + count]
        if reefer is not None:
            equipment["activeReeferSettings"] = {"temperatureSetpoint": (reefer["min_c"] + reefer["max_c"]) / 2,
                                                 "temperatureUnit": "CEL"}
        answer.append(equipment)
        start += count
    return answer


def _transport_plan(read: dict[str, Any]) -> list[dict[str, Any]]:
    main = next(leg["sequence"] for leg in read["legs"] if leg["main"])
    plan = []
    for leg in read["legs"]:
        stage = "MNC" if leg["main"] else ("PRC" if leg["sequence"] < main else "ONC")
        transport = {
            "transportPlanStage": stage,
            "transportPlanStageSequenceNumber": leg["sequence"],
            "loadLocation": _location(leg["from_hub"]),
            "dischargeLocation": _location(leg["to_hub"]),
            "plannedDepartureDate": _date(leg["departs_at"]),
            "plannedArrivalDate": _date(leg["arrives_at"]),
            "carrierExportVoyageNumber": str(leg["departure_id"]),
        }
        if (mode := MODES.get(str(leg["mode"]))) is not None:
            transport["modeOfTransport"] = mode
        if len(leg["service"]) <= 11:
            transport["carrierServiceCode"] = leg["service"]
        plan.append(transport)
    return plan


def _charges(read: dict[str, Any]) -> list[dict[str, Any]]:
    breakdown = read["price_breakdown"]
    if not breakdown:
        amount = float(read["price"]["amount"])
        return [{"chargeName": "freight", "currencyAmount": amount, "currencyCode": read["price"]["currency"],
                 "paymentTermCode": "PRE", "calculationBasis": "LUMP SUM", "unitPrice": amount, "quantity": 1}]
    return [
        {"chargeName": name, "currencyAmount": float(breakdown[name]), "currencyCode": breakdown["currency"],
         "paymentTermCode": "PRE", "calculationBasis": "LUMP SUM", "unitPrice": float(breakdown[name]), "quantity": 1}
        for name in PRICE_LINES if breakdown.get(name) and float(breakdown[name])
    ]


def _notes(read: dict[str, Any]) -> list[dict[str, Any]]:
    """What Caravan tells about the booking beyond the spec's fields, as informational feedbacks."""
    notes = []
    if read["status"] == S.WAITLISTED.value:
        notes.append(feedback("INFORMATIONAL_MESSAGE", "$.bookingStatus",
                              f"waitlisted: {read['status_reason'] or 'no room yet'}; confirmed when space frees up"))
    elif read["status_reason"]:
        notes.append(feedback("INFORMATIONAL_MESSAGE", "$.bookingStatus", read["status_reason"]))
    for index, line in enumerate(read["cargo"]):
        if line["dangerous_goods"]:
            goods = line["dangerous_goods"]
            notes.append(feedback(
                "INFORMATIONAL_MESSAGE", f"$.requestedEquipments[0].commodities[{index}].outerPackaging",
                f"dangerous goods UN {goods['un_number']} class {goods['dg_class']}"
                + (f" packing group {goods['packing_group']}" if goods["packing_group"] else "")
                + ": Caravan keeps no more of them than this, so dangerousGoods is not answered"))
    return notes


def dcsa_booking(booking: Booking, row: DcsaBooking | None) -> dict[str, Any]:
    """The booking as the spec's ``Booking`` (GET /v2/bookings/{bookingReference})."""
    read = booking_read(booking)
    status = booking_status(read["status"], row)
    answer: dict[str, Any] = {}
    if row is not None:
        answer["carrierBookingRequestReference"] = row.request_reference
    if status not in NOT_CONFIRMED | {"REJECTED"} and not (status == "CANCELLED" and row is not None
                                                           and row.cancellation_status is None):
        answer["carrierBookingReference"] = read["reference"]
    answer["bookingStatus"] = status
    if row is not None and row.amended_booking_status:
        answer["amendedBookingStatus"] = row.amended_booking_status
    if row is not None and row.cancellation_status:
        answer["bookingCancellationStatus"] = row.cancellation_status
    consignee = read["consignee"]
    party: dict[str, Any] = {"partyName": consignee["name"][:70], "address": {
        "street": consignee["address"][:70], "city": consignee["city"][:35], "countryCode": consignee["country"]}}
    contact = {key: consignee[key] for key in ("email", "phone") if consignee.get(key)}
    if contact:
        party["partyContactDetails"] = [{"name": consignee["name"][:35], **contact}]
    answer.update({
        "receiptTypeAtOrigin": "CFS",
        "deliveryTypeAtDestination": "CFS",
        "cargoMovementTypeAtOrigin": "LCL",
        "cargoMovementTypeAtDestination": "LCL",
        "carrierExportVoyageNumber": str(read["departure_id"]),
        "isEquipmentSubstitutionAllowed": bool(row.equipment_substitution_allowed) if row is not None else False,
        "references": [{"type": TYPE_OF_KIND[ref["kind"]], "value": ref["value"][:35]} for ref in read["references"]],
        "documentParties": {"consignee": party},
        "shipmentLocations": [{"location": _location(read["origin"]), "locationTypeCode": "POL"},
                              {"location": _location(read["destination"]), "locationTypeCode": "POD"}],
        "requestedEquipments": _equipments(read, row),
        "transportPlan": _transport_plan(read),
        "shipmentCutOffTimes": [{"cutOffDateTimeCode": "LCO", "cutOffDateTime": _iso(read["cutoff_at"])}],
        "charges": _charges(read),
    })
    if read["incoterm"]:
        answer["incoTerms"] = read["incoterm"]
    if len(read["service"]) <= 11:
        answer["carrierServiceCode"] = read["service"]
    feedbacks = [*(row.feedbacks if row is not None else []), *_notes(read)]
    if feedbacks:
        answer["feedbacks"] = feedbacks
    return answer
