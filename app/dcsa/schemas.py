"""The DCSA Track & Trace 2.2.0 vocabulary Caravan maps onto, and the query of ``GET /v2/events``.

The response bodies are built as plain dicts in ``service.py`` and are checked in
the tests against the official specification (app/dcsa/spec/dcsa-tnt-v2.2.0.yaml),
which is the contract here, not a Pydantic model of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from starlette.datastructures import QueryParams

from app.fields import HUB_CODE_PATTERN, MAX_ID

API_VERSION = "2.2.0"
API_MAJOR = "2"

EVENT_TYPES = ("SHIPMENT", "TRANSPORT", "EQUIPMENT")
# The spec's enums (components.schemas.*EventTypeCode, documentTypeCode).
SHIPMENT_EVENT_TYPE_CODES = (
    "RECE", "DRFT", "PENA", "PENU", "REJE", "APPR", "ISSU", "SURR", "SUBM", "VOID", "CONF", "REQS", "CMPL", "HOLD",
    "RELS",
)
TRANSPORT_EVENT_TYPE_CODES = ("ARRI", "DEPA")
EQUIPMENT_EVENT_TYPE_CODES = ("LOAD", "DISC", "GTIN", "GTOT", "STUF", "STRP", "PICK", "DROP", "INSP", "RSEA", "RMVD")
DOCUMENT_TYPE_CODES = ("CBR", "BKG", "SHI", "SRM", "TRD", "ARN", "VGM", "CAS", "CUS", "DGD", "OOG")

# Caravan mode -> DCSA modeOfTransport (VESSEL RAIL TRUCK BARGE). Caravan's water legs are
# Yangtze river barges; DCSA 2.2 has no air mode, so AIR maps to nothing (see service.py).
MODE_OF_TRANSPORT = {"RAIL": "RAIL", "WATER": "BARGE", "ROAD": "TRUCK"}

# Hub kind -> facilityTypeCodeTRN. An airport has no DCSA facility type: left out.
FACILITY_TYPE = {
    "RAIL_TERMINAL": "RAMP",
    "RIVER_PORT": "POTE",
    "SEAPORT": "POTE",
    "CFS": "COFS",
    "BORDER_CROSSING": "BOCR",
    "ROAD_DEPOT": "DEPO",
}

# Booking reference kinds -> DCSA referenceType; the others have no DCSA type and are left out.
REFERENCE_TYPE = {"PURCHASE_ORDER": "PO", "SHIPPER_REFERENCE": "SI", "CONSIGNEE_REFERENCE": "AAO"}

DEFAULT_LIMIT = 100
MAX_LIMIT = 100
MAX_VALUE_LENGTH = 200
MAX_LIST_VALUES = 20

DATETIME_OPERATORS = {"": "eq", "eq": "eq", "gte": "gte", "gt": "gt", "lte": "lte", "lt": "lt"}
TRANSPORT_CALL_ID = re.compile(r"^([0-9]{1,10})-(" + HUB_CODE_PATTERN.strip("^$") + ")$")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class BadQuery(ValueError):
    """A query parameter (or a subscription's field) the spec or Caravan does not allow; answered with
    400 in the DCSA error shape, ``reason`` as given or ``invalidQuery``."""

    def __init__(self, name: str, message: str, reason: str | None = None):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.reason = reason


@dataclass
class EventQuery:
    """The filters of ``GET /v2/events`` that Caravan can answer (AND between filters, OR inside a list)."""

    event_types: set[str] | None = None
    shipment_codes: set[str] | None = None
    transport_codes: set[str] | None = None
    equipment_codes: set[str] | None = None
    document_types: set[str] | None = None
    booking_reference: str | None = None
    equipment_reference: str | None = None
    un_location_code: str | None = None
    transport_call: tuple[int, str] | None = None
    voyage_departure_id: int | None = None
    created: list[tuple[str, datetime]] = field(default_factory=list)
    # A filter on something Caravan never has (vessels, transport documents, ...): no event matches.
    matches_nothing: bool = False
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def _values(params: QueryParams, name: str) -> list[str]:
    raw = params.getlist(name)
    values = [v.strip() for item in raw for v in item.split(",") if v.strip()]
    if len(values) > MAX_LIST_VALUES:
        raise BadQuery(name, f"at most {MAX_LIST_VALUES} values")
    return values


def _single(params: QueryParams, name: str, max_length: int) -> str | None:
    raw = params.getlist(name)
    if not raw:
        return None
    if len(raw) > 1:
        raise BadQuery(name, "give it once")
    value = raw[0]
    if not value or len(value) > max_length:
        raise BadQuery(name, f"must be 1 to {max_length} characters")
    return value


def _codes(params: QueryParams, name: str, allowed: tuple[str, ...]) -> set[str] | None:
    values = _values(params, name)
    if not values:  # not given, or given empty: the default, every code
        return None
    for value in values:
        if value not in allowed:
            raise BadQuery(name, f"{value[:40]!r} is not one of {','.join(allowed)}")
    return set(values)


def parse_datetime(name: str, value: str) -> datetime:
    """An ISO 8601 date-time with an offset; a '+' decoded to a space by the query string is repaired."""
    if len(value) > 64:
        raise BadQuery(name, "not an ISO 8601 date-time")
    value = re.sub(r" (\d\d:?\d\d)$", r"+\1", value)
    try:
        parsed = datetime.fromisoformat(value.replace("t", "T").replace("z", "Z"))
        if parsed.tzinfo is None:
            raise BadQuery(name, "give the offset, e.g. 2021-04-01T14:12:56+01:00")
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise BadQuery(name, "not an ISO 8601 date-time such as 2021-04-01T14:12:56+01:00") from None


def parse_query(params: QueryParams) -> EventQuery:
    query = EventQuery()
    query.event_types = _codes(params, "eventType", EVENT_TYPES)
    query.shipment_codes = _codes(params, "shipmentEventTypeCode", SHIPMENT_EVENT_TYPE_CODES)
    query.transport_codes = _codes(params, "transportEventTypeCode", TRANSPORT_EVENT_TYPE_CODES)
    query.equipment_codes = _codes(params, "equipmentEventTypeCode", EQUIPMENT_EVENT_TYPE_CODES)
    query.document_types = _codes(params, "documentTypeCode", DOCUMENT_TYPE_CODES)

    booking = _single(params, "carrierBookingReference", 35)
    deprecated_booking = _single(params, "bookingReference", 35)
    if booking and deprecated_booking and booking != deprecated_booking:
        query.matches_nothing = True
    query.booking_reference = booking or deprecated_booking
    query.equipment_reference = _single(params, "equipmentReference", 15)
    query.un_location_code = _single(params, "UNLocationCode", 5)

    call = _single(params, "transportCallID", 100)
    if call is not None:
        found = TRANSPORT_CALL_ID.match(call)
        if found and 1 <= int(found.group(1)) <= MAX_ID:
            query.transport_call = (int(found.group(1)), found.group(2))
        else:
            query.matches_nothing = True  # not an id Caravan issues: no event has it
    voyages = {v for v in (_single(params, n, 50) for n in ("exportVoyageNumber", "carrierVoyageNumber")) if v}
    if len(voyages) > 1:
        query.matches_nothing = True
    elif voyages:
        voyage = voyages.pop()
        if voyage.isascii() and voyage.isdigit() and 1 <= int(voyage) <= MAX_ID:
            query.voyage_departure_id = int(voyage)
        else:
            query.matches_nothing = True
    # Caravan has no vessels, no transport documents and issues no DCSA service codes.
    if _single(params, "vesselIMONumber", 7) or _single(params, "carrierServiceCode", 5):
        query.matches_nothing = True
    if _single(params, "transportDocumentReference", 20):
        query.matches_nothing = True
    document_id = _single(params, "transportDocumentID", 36)
    if document_id is not None:
        if not UUID_TEXT.match(document_id):
            raise BadQuery("transportDocumentID", "not a UUID")
        query.matches_nothing = True
    schedule_id = _single(params, "scheduleID", 36)  # deprecated, "added by mistake": ignored
    if schedule_id is not None and not UUID_TEXT.match(schedule_id):
        raise BadQuery("scheduleID", "not a UUID")
    _single(params, "sort", MAX_VALUE_LENGTH)  # accepted, not applied: the order is always the recording order

    for name in params.keys():
        head, colon, operator = name.partition(":")
        if head != "eventCreatedDateTime":
            continue
        if operator not in DATETIME_OPERATORS or (colon and not operator):
            raise BadQuery(name, "the operators are :gte :gt :lte :lt :eq")
        value = _single(params, name, 64)
        query.created.append((DATETIME_OPERATORS[operator], parse_datetime(name, value or "")))

    limit = _single(params, "limit", 12)
    if limit is not None:
        if not re.fullmatch(r"[0-9]+", limit) or int(limit) < 1:
            raise BadQuery("limit", "a whole number of at least 1")
        query.limit = min(int(limit), MAX_LIMIT)
    query.cursor = _single(params, "cursor", 64)
    return query
