"""Event types and codes: what DCSA Track & Trace 2.2 defines, and the SHIPMENT codes Caravan writes itself."""

from __future__ import annotations

from enum import StrEnum

from app.bookings.schemas import BookingStatus


class EventType(StrEnum):
    TRANSPORT = "TRANSPORT"
    EQUIPMENT = "EQUIPMENT"
    SHIPMENT = "SHIPMENT"


class EventClassifier(StrEnum):
    PLN = "PLN"
    EST = "EST"
    ACT = "ACT"


# The codes DCSA Track & Trace 2.2.0 defines for each event type (app/dcsa/spec).
# SHIPMENT adds CANC, which the API contract names for a cancelled booking.
TRANSPORT_CODES = ("ARRI", "DEPA")
EQUIPMENT_CODES = ("LOAD", "DISC", "GTIN", "GTOT", "STUF", "STRP", "PICK", "DROP", "INSP", "RSEA")
SHIPMENT_CODES = (
    "RECE", "DRFT", "PENA", "PENU", "REJE", "APPR", "ISSU", "SURR", "SUBM", "VOID", "CONF", "REQS", "CMPL",
    "HOLD", "RELS", "CANC",
)
CODES: dict[EventType, tuple[str, ...]] = {
    EventType.TRANSPORT: TRANSPORT_CODES,
    EventType.EQUIPMENT: EQUIPMENT_CODES,
    EventType.SHIPMENT: SHIPMENT_CODES,
}

# SHIPMENT codes Caravan writes itself (never accepted from callers): booking status
# changes that DCSA has no shipment code for, and connection risk raised / cleared.
STATUS_CODES: dict[BookingStatus, str] = {
    BookingStatus.RECEIVED: "RECE",
    BookingStatus.CONFIRMED: "CONF",
    BookingStatus.WAITLISTED: "PENA",
    BookingStatus.REJECTED: "REJE",
    BookingStatus.CANCELLED: "CANC",
    BookingStatus.CARGO_RECEIVED: "CRCV",
    BookingStatus.STUFFED: "STFD",
    BookingStatus.IN_TRANSIT: "TRNS",
    BookingStatus.ARRIVED: "ARRV",
    BookingStatus.DELIVERED: "CMPL",
}
AT_RISK_CODE = "RISK"
RECOVERED_CODE = "SAFE"
