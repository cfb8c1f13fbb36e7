"""Caravan's tracking events as DCSA Track & Trace 2.2.0 events.

What maps to what (the official spec, app/dcsa/spec/dcsa-tnt-v2.2.0.yaml, is the contract):

- eventID: a UUID (the spec says format uuid) that carries our integer id, so it can be
  taken back on ``/v2/events/{eventID}`` without storing anything: RFC 9562 version 8
  (vendor-defined) with a fixed Caravan prefix. A name-based uuid5 cannot be reversed.
- eventCreatedDateTime: when Caravan recorded the event (UTC). eventDateTime: when it
  happened or is planned/expected to, in the hub's local offset when the event has a hub.
  For SHIPMENT events the spec says eventDateTime must equal eventCreatedDateTime: it does.
- TRANSPORT: transportCall for the departure's call at the hub: transportCallID
  ``<departure id>-<hub code>``, exportVoyageNumber (and the deprecated carrierVoyageNumber)
  the departure id, UNLocationCode the hub's, facilityTypeCode from the hub's kind,
  otherFacility the hub code, modeOfTransport RAIL (RAIL), BARGE (WATER: Yangtze barges),
  TRUCK (ROAD). DCSA 2.2 has no air mode: TRANSPORT events of AIR legs are not served here
  (they stay in /v1/events). No vessel: rail legs have no IMO number.
- EQUIPMENT: equipmentReference the container number, eventLocation the hub,
  transportCall when the event names a departure. emptyIndicatorCode is derived: a
  container is LADEN from its (actual) STUF event until its next STRP, EMPTY otherwise.
- SHIPMENT: documentTypeCode BKG, documentID our booking reference, shipmentEventTypeCode
  the code when DCSA has it. Caravan's own status codes (CANC, CRCV, STFD, TRNS, ARRV,
  RISK, SAFE) have no DCSA 2.2 equivalent and are not served here.
- documentReferences is left out: the spec's enum for documentReferenceType reads
  "BKG (Booking)", so the plain code would break the schema and the literal text would
  help nobody. Bookings are found with ``carrierBookingReference=``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import Caller
from app.bookings.models import Booking
from app.dcsa.schemas import (
    EQUIPMENT_EVENT_TYPE_CODES,
    FACILITY_TYPE,
    MODE_OF_TRANSPORT,
    REFERENCE_TYPE,
    SHIPMENT_EVENT_TYPE_CODES,
    TRANSPORT_EVENT_TYPE_CODES,
    BadQuery,
    EventQuery,
)
from app.errors import AppError, NotFound
from app.events.models import TrackingEvent
from app.fields import MAX_ID
from app.network.models import Hub
from app.pagination import decode_cursor, encode_cursor
from app.tracking.feed import about_booking, visible_to

TE = TrackingEvent
EVENTS_CURSOR = "dcsa-events"  # the DCSA event list's cursors are its own

# --- event ids ---------------------------------------------------------------------------

_PREFIX = uuid.uuid5(uuid.NAMESPACE_URL, "https://caravan/dcsa/tnt/v2/events").bytes[:6]


def uuid_of(prefix: bytes, number: int) -> str:
    """The stable UUID (version 8, RFC 9562) that stands for our id ``number`` among the ids of ``prefix``."""
    return str(uuid.UUID(bytes=prefix + b"\x80\x00\x80" + number.to_bytes(7, "big")))


def number_in(prefix: bytes, text: str) -> int | None:
    """Our id inside a UUID from ``uuid_of(prefix, ...)``; None for any other UUID."""
    raw = uuid.UUID(text).bytes
    if raw[:6] != prefix or raw[6:9] != b"\x80\x00\x80":
        return None
    number = int.from_bytes(raw[9:], "big")
    return number if 1 <= number <= MAX_ID else None


def event_uuid(event_id: int) -> str:
    """The stable UUID that stands for our event ``event_id``."""
    return uuid_of(_PREFIX, event_id)


def event_id_of(text: str) -> int | None:
    """Our event id inside a UUID from ``event_uuid``; None for any other UUID."""
    return number_in(_PREFIX, text)


# --- which events, for whom ------------------------------------------------------------------

def _has_transport_call():
    return and_(TE.departure_id.is_not(None), TE.hub_id.is_not(None), TE.mode.in_(tuple(MODE_OF_TRANSPORT)))


def _representable():
    """Events DCSA 2.2 can express (see the module docstring for what is left out)."""
    return or_(
        and_(TE.event_type == "SHIPMENT", TE.code.in_(SHIPMENT_EVENT_TYPE_CODES), TE.booking_id.is_not(None)),
        and_(TE.event_type == "TRANSPORT", TE.code.in_(TRANSPORT_EVENT_TYPE_CODES), _has_transport_call()),
        and_(TE.event_type == "EQUIPMENT", TE.code.in_(EQUIPMENT_EVENT_TYPE_CODES)),
    )


def _visible(caller: Caller) -> list:
    condition = visible_to(caller)
    return [_representable()] if condition is None else [_representable(), condition]


async def _filters(session: AsyncSession, caller: Caller, query: EventQuery) -> list:
    if query.matches_nothing:
        return [false()]
    where: list = []
    if query.event_types is not None:
        where.append(TE.event_type.in_(sorted(query.event_types)))
    for event_type, codes in (
        ("SHIPMENT", query.shipment_codes), ("TRANSPORT", query.transport_codes), ("EQUIPMENT", query.equipment_codes)
    ):
        if codes is not None:
            where.append(and_(TE.event_type == event_type, TE.code.in_(sorted(codes))))
    if query.document_types is not None:
        # Every shipment event Caravan serves is about a booking (BKG).
        where.append(TE.event_type == "SHIPMENT" if "BKG" in query.document_types else false())
    if query.booking_reference is not None:
        booking = (
            await session.execute(
                select(Booking.id, Booking.organization_id).where(Booking.reference == query.booking_reference)
            )
        ).first()
        if booking is None or (not caller.is_operator and booking.organization_id != caller.organization_id):
            return [false()]
        where.append(about_booking(booking.id))
    if query.equipment_reference is not None:
        where.append(TE.container_number == query.equipment_reference)
    if query.un_location_code is not None:
        where.append(TE.event_type != "SHIPMENT")
        where.append(TE.hub_id.in_(select(Hub.id).where(Hub.un_locode == query.un_location_code)))
    if query.transport_call is not None:
        departure_id, hub_code = query.transport_call
        where += [
            TE.event_type != "SHIPMENT", _has_transport_call(), TE.departure_id == departure_id,
            TE.hub_id.in_(select(Hub.id).where(Hub.code == hub_code)),
        ]
    if query.voyage_departure_id is not None:
        where += [TE.event_type != "SHIPMENT", _has_transport_call(), TE.departure_id == query.voyage_departure_id]
    operators = {
        "eq": TE.created_at.__eq__, "gte": TE.created_at.__ge__, "gt": TE.created_at.__gt__,
        "lte": TE.created_at.__le__, "lt": TE.created_at.__lt__,
    }
    for operator, at in query.created:
        where.append(operators[operator](at))
    return where


async def matching(
    session: AsyncSession, caller: Caller, query: EventQuery, event_ids: list[int]
) -> list[TrackingEvent]:
    """Which of ``event_ids`` DCSA can express and ``query``'s filters match, judged as ``GET /v2/events``
    judges them (a DCSA subscription's filters are that query). Who may see them is not judged here:
    the webhook outbox decided that when it wrote the deliveries."""
    if not event_ids:
        return []
    statement = select(TE).where(TE.id.in_(event_ids), _representable(), *await _filters(session, caller, query))
    return list(await session.scalars(statement.order_by(TE.id)))


async def list_events(session: AsyncSession, caller: Caller, query: EventQuery) -> tuple[list[dict], str | None]:
    """One page of the caller's events as DCSA events, in recording order, and the next cursor."""
    try:
        after_id = decode_cursor(query.cursor, EVENTS_CURSOR)
    except AppError:
        raise BadQuery("cursor", "not a cursor returned by this API") from None
    statement = (
        select(TE)
        .where(TE.id > after_id, *_visible(caller), *await _filters(session, caller, query))
        .order_by(TE.id)
        .limit(query.limit + 1)
    )
    rows = list(await session.scalars(statement))
    next_cursor = encode_cursor(rows[query.limit - 1].id, EVENTS_CURSOR) if len(rows) > query.limit else None
    return await render(session, rows[: query.limit]), next_cursor


async def get_event(session: AsyncSession, caller: Caller, event_id: str) -> dict:
    """One event by its DCSA id; another organisation's event is as unknown as one that does not exist."""
    our_id = event_id_of(event_id)
    row = None
    if our_id is not None:
        row = await session.scalar(select(TE).where(TE.id == our_id, *_visible(caller)))
    if row is None:
        raise NotFound(f"no event {event_id}")
    return (await render(session, [row]))[0]


# --- rendering ----------------------------------------------------------------------------------

def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | timezone:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _local(value: datetime, hub: Hub | None) -> str:
    return value.astimezone(_zone(hub.timezone)).isoformat() if hub else _utc(value)


def _location(hub: Hub) -> dict[str, Any]:
    return {"locationName": hub.name[:100], "UNLocationCode": hub.un_locode}


def _transport_call(row: TrackingEvent, hub: Hub) -> dict[str, Any]:
    call: dict[str, Any] = {
        "transportCallID": f"{row.departure_id}-{hub.code}",
        "carrierVoyageNumber": str(row.departure_id),
        "exportVoyageNumber": str(row.departure_id),
        "UNLocationCode": hub.un_locode,
        "otherFacility": hub.code,
        "modeOfTransport": MODE_OF_TRANSPORT[row.mode],
        "location": _location(hub),
    }
    if hub.kind in FACILITY_TYPE:
        call["facilityTypeCode"] = FACILITY_TYPE[hub.kind]
    return call


def _references(booking_references: list[Any] | None) -> list[dict[str, str]]:
    references = []
    for item in booking_references or []:
        if not isinstance(item, dict):
            continue
        kind, value = REFERENCE_TYPE.get(str(item.get("kind"))), item.get("value")
        if kind and isinstance(value, str) and 0 < len(value) <= 100:
            references.append({"referenceType": kind, "referenceValue": value})
    return references


def _emptiness(row: TrackingEvent, history: list[tuple[datetime, int, str]]) -> str:
    """LADEN from the container's STUF until its next STRP (by event time), EMPTY otherwise."""
    if row.code in ("STUF", "STRP"):
        return "LADEN" if row.code == "STUF" else "EMPTY"
    last = None
    for at, event_id, code in history:
        if (at, event_id) <= (row.event_datetime, row.id):
            last = code
    return "LADEN" if last == "STUF" else "EMPTY"


async def render(session: AsyncSession, rows: list[TrackingEvent]) -> list[dict[str, Any]]:
    """The DCSA form of ``rows``: three small look-ups for the whole page (hubs, bookings, containers)."""
    hub_ids = {r.hub_id for r in rows if r.hub_id is not None}
    hubs = {h.id: h for h in await session.scalars(select(Hub).where(Hub.id.in_(hub_ids)))} if hub_ids else {}
    booking_ids = {r.booking_id for r in rows if r.event_type == "SHIPMENT" and r.booking_id is not None}
    bookings = (
        {b.id: b for b in await session.execute(
            select(Booking.id, Booking.reference, Booking.references).where(Booking.id.in_(booking_ids))
        )}
        if booking_ids else {}
    )
    containers = {r.container_number for r in rows if r.event_type == "EQUIPMENT" and r.container_number}
    history: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
    if containers:
        for number, at, event_id, code in await session.execute(
            select(TE.container_number, TE.event_datetime, TE.id, TE.code)
            .where(
                TE.event_type == "EQUIPMENT", TE.event_classifier == "ACT", TE.code.in_(("STUF", "STRP")),
                TE.container_number.in_(containers),
            )
            .order_by(TE.event_datetime, TE.id)
        ):
            history[number].append((at, event_id, code))

    out = []
    for row in rows:
        hub = hubs.get(row.hub_id) if row.hub_id is not None else None
        payload = row.payload if isinstance(row.payload, dict) else {}
        reason = payload.get("reason") if isinstance(payload.get("reason"), str) else None
        event: dict[str, Any] = {
            "eventID": event_uuid(row.id),
            "eventCreatedDateTime": _utc(row.created_at),
            "eventType": row.event_type,
            "eventClassifierCode": row.event_classifier,
            "eventDateTime": _local(row.event_datetime, hub),
        }
        if row.event_type == "TRANSPORT":
            event["transportEventTypeCode"] = row.code
            event["transportCall"] = _transport_call(row, hub)
            if reason:
                event["changeRemark"] = reason[:250]
        elif row.event_type == "EQUIPMENT":
            event["equipmentEventTypeCode"] = row.code
            if row.container_number:
                event["equipmentReference"] = row.container_number
            event["emptyIndicatorCode"] = _emptiness(row, history.get(row.container_number or "", []))
            if hub is not None:
                event["eventLocation"] = _location(hub)
                if row.departure_id is not None and row.mode in MODE_OF_TRANSPORT:
                    event["transportCall"] = _transport_call(row, hub)
        else:
            booking = bookings[row.booking_id]
            event["eventDateTime"] = event["eventCreatedDateTime"]
            event["shipmentEventTypeCode"] = row.code
            event["documentTypeCode"] = "BKG"
            event["documentID"] = booking.reference
            if reason:
                event["reason"] = reason
            references = _references(booking.references)
            if references:
                event["references"] = references
        out.append(event)
    return out
