"""What a booking's change publishes, in the transaction that makes it: its SHIPMENT event, its legs
on confirmation, connection risk, and the webhook outbox rows.

Bookings record ``StatusChanged`` events on the booking and tell nobody: a ``before_flush``
hook here reads them from the unit of work; a new booking written with Core statements
(``app.booking_desk``) is handed to ``publish_new_booking`` by the desk, which sits above tracking.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    event,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from app.bookings.models import Booking, BookingLeg
from app.bookings.schemas import BookingStatus
from app.bookings.status import StatusChanged
from app.db import DriverStatement, utcnow
from app.events.models import TrackingEvent
from app.events.schemas import (
    AT_RISK_CODE,
    RECOVERED_CODE,
    STATUS_CODES,
    EventClassifier,
    EventType,
)
from app.network.models import Departure
from app.network.schemas import DepartureStatus
from app.tracking.legs import (
    CALL_FIELDS,
    CALL_TIMES_OF,
    RIDING,
    S,
    call_times,
    current_calls_sync,
    legs_along,
    schedule,
)
from app.tracking.models import Leg
from app.webhooks.outbox import enqueue, enqueue_sync

# --- publishing booking status changes (same transaction) -----------------------------

def shipment_payload(
    reference: str, status: BookingStatus | None, code: str, at: datetime, created_at: datetime, reason: str | None
) -> dict[str, Any]:
    return {
        "event_type": EventType.SHIPMENT.value,
        "event_classifier": EventClassifier.ACT.value,
        "code": code,
        "event_datetime": at.isoformat(),
        "event_created_at": created_at.isoformat(),
        "location": None,
        "un_locode": None,
        "mode": None,
        "departure_id": None,
        "container_number": None,
        "booking_reference": reference,
        "booking_status": status.value if status else None,
        "reason": reason,
    }


def _shipment_event(booking: Booking, change: StatusChanged) -> dict[str, Any]:
    """The SHIPMENT event row (as column values) a booking's status change publishes."""
    now = utcnow()
    code = STATUS_CODES[change.current]
    return {
        "event_type": EventType.SHIPMENT.value,
        "event_classifier": EventClassifier.ACT.value,
        "code": code,
        "event_datetime": change.at,
        "created_at": now,
        "payload": shipment_payload(booking.reference, change.current, code, change.at, now, change.reason),
    }


def _publish_status_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """before_flush: turn the StatusChanged events bookings recorded into SHIPMENT events
    (and legs, on confirmation), so they are written in the same flush as the change."""
    bookings = [obj for obj in [*session.new, *session.dirty] if isinstance(obj, Booking)]
    published: list[tuple[TrackingEvent, int]] = []
    for booking in bookings:
        for change in booking.pop_events():
            if not isinstance(change, StatusChanged):
                continue
            if change.current is S.CONFIRMED:
                _add_legs_sync(session, booking)
            row = TrackingEvent(booking=booking, **_shipment_event(booking, change))
            session.add(row)
            published.append((row, booking.organization_id))
    if published:
        enqueue_sync(session, published)


_EVENT_COLUMNS = ["event_type", "event_classifier", "code", "event_datetime", "created_at", "payload", "booking_id"]
_INSERT_EVENT = DriverStatement(insert(TrackingEvent.__table__).returning(TrackingEvent.__table__.c.id), _EVENT_COLUMNS)
_INSERT_LEGS = DriverStatement(insert(Leg.__table__), [
    "booking_id", "sequence", "at_risk", "mode", "departure_id", "from_hub_id", "to_hub_id",
    *(f for f in CALL_FIELDS if f.startswith(("planned", "estimated", "actual"))),
])


async def publish_new_booking(session: AsyncSession, booking: Booking) -> None:
    """What ``_publish_status_changes`` does, for a new booking written with Core (``booking_desk.rules.insert_new``):
    its SHIPMENT event, its legs when it is confirmed, and the webhook outbox rows."""
    published: list[tuple[dict, int]] = []
    for change in booking.pop_events():
        if not isinstance(change, StatusChanged):
            continue
        if change.current is S.CONFIRMED:
            departure = booking.departure
            rows = await CALL_TIMES_OF.named_rows(session, {"departure_id": departure.id})
            calls = [call_times(row) for row in rows] if rows else schedule(departure)
            legs = legs_along(departure, calls, booking.origin_hub_id, booking.destination_hub_id)
            await _INSERT_LEGS.many(session, [
                {**leg, "booking_id": booking.id, "sequence": sequence, "at_risk": False}
                for sequence, leg in enumerate(legs, start=1)
            ])
        values = {**_shipment_event(booking, change), "booking_id": booking.id}
        (event_id,) = await _INSERT_EVENT.one(session, values)
        published.append(({"id": event_id, "payload": values["payload"]}, booking.organization_id))
    await enqueue(session, published)


def _add_legs_sync(session: Session, booking: Booking) -> None:
    if booking.id is not None and session.scalar(select(Leg.id).where(Leg.booking_id == booking.id).limit(1)):
        return
    rides = _rides_sync(session, booking)
    if rides:  # a booking made from a quote option, confirmed later (off the waitlist)
        sequence = 0
        for departure_id, from_hub_id, to_hub_id in rides:
            departure = session.get(Departure, departure_id)
            calls = current_calls_sync(session, departure)
            for leg in legs_along(departure, calls, from_hub_id, to_hub_id):
                sequence += 1
                session.add(Leg(booking=booking, sequence=sequence, at_risk=False, **leg))
        return
    departure = booking.departure
    calls = current_calls_sync(session, departure)
    for sequence, leg in enumerate(legs_along(departure, calls, booking.origin.id, booking.destination.id), start=1):
        session.add(Leg(booking=booking, sequence=sequence, at_risk=False, **leg))


event.listen(Session, "before_flush", _publish_status_changes)


def _rides_sync(session: Session, booking: Booking) -> list[Any]:
    """The rides (departure, board, alight) of a booking made from a quote option, in order; [] otherwise."""
    if booking.id is None:
        return []
    return list(session.execute(
        select(BookingLeg.departure_id, BookingLeg.from_hub_id, BookingLeg.to_hub_id)
        .where(BookingLeg.booking_id == booking.id).order_by(BookingLeg.sequence)
    ))



async def check_connections(session: AsyncSession, departure_id: int, now: datetime) -> list[tuple[dict, int]]:
    """Re-check the transfers of bookings riding the departure onto another departure.

    A connection is at risk when the estimated (or actual) arrival at the transfer
    hub is later than the next leg's departure cut-off. Flags the leg; a SHIPMENT
    event RISK (or SAFE, when a later estimate recovers) reports each change.
    """
    other = aliased(Leg)
    transferring = (
        select(Leg.booking_id)
        .join(other, and_(other.booking_id == Leg.booking_id, other.departure_id != Leg.departure_id))
        .where(Leg.departure_id == departure_id)
    )
    rows = list(
        await session.execute(
            select(Leg, Departure.cutoff_at, Booking.reference, Booking.organization_id, Booking.status,
                   Departure.status)
            .join(Departure, Departure.id == Leg.departure_id)
            .join(Booking, Booking.id == Leg.booking_id)
            .where(Leg.booking_id.in_(transferring), Booking.status.in_(RIDING))
            .order_by(Leg.booking_id, Leg.sequence)
            .execution_options(populate_existing=True)
        )
    )
    by_booking: dict[int, list] = defaultdict(list)
    for leg, cutoff, reference, org_id, status, departure_status in rows:
        by_booking[leg.booking_id].append((leg, cutoff, reference, org_id, status, departure_status))
    generated: list[tuple[dict, int]] = []
    for booking_id, legs in by_booking.items():
        was = any(leg.at_risk for leg, *_ in legs)
        reasons = [f"departure {leg.departure_id} of this itinerary was cancelled by the hub"
                   for leg, *_, departure_status in legs if departure_status == DepartureStatus.CANCELLED.value]
        for leg, *_, departure_status in legs:
            if departure_status == DepartureStatus.CANCELLED.value:
                leg.at_risk = True
        for (leg, *_, leg_departure_status), (nxt, next_cutoff, *_) in zip(legs, legs[1:]):
            if leg_departure_status == DepartureStatus.CANCELLED.value:
                continue
            risk = False
            if nxt.departure_id != leg.departure_id and nxt.actual_departure_at is None:
                arrival = leg.actual_arrival_at or leg.estimated_arrival_at
                risk = arrival is not None and arrival > next_cutoff
                if risk:
                    reasons.append(
                        f"estimated arrival at the transfer hub {arrival.isoformat()} is after the cut-off "
                        f"{next_cutoff.isoformat()} of departure {nxt.departure_id}"
                    )
            if leg.at_risk != risk:
                leg.at_risk = risk
        now_at_risk = bool(reasons)
        if now_at_risk != was:
            _, _, reference, org_id, status, _ = legs[0]
            code = AT_RISK_CODE if now_at_risk else RECOVERED_CODE
            reason = "; ".join(reasons) if now_at_risk else "the connection is expected to be made again"
            generated.append(
                (shipment_payload(reference, S(status), code, now, now, reason[:1000]) | {"_booking_id": booking_id},
                 org_id)
            )
    return generated


async def feeder_departure_cancelled(session: AsyncSession, departure_id: int, now: datetime) -> None:
    """The hub cancelled a departure that quoted bookings ride on a feeder leg (their own departure
    is another): their connection is at risk. Each such leg is flagged and the booking reports a
    SHIPMENT event RISK naming the cancelled departure; the booking keeps its space elsewhere."""
    rows = list(
        await session.execute(
            select(Leg, Booking.reference, Booking.organization_id, Booking.status, Booking.departure_id)
            .join(Booking, Booking.id == Leg.booking_id)
            .where(Leg.departure_id == departure_id, Booking.departure_id != departure_id, Booking.status.in_(RIDING))
            .order_by(Leg.booking_id, Leg.sequence)
        )
    )
    generated: list[tuple[dict, int]] = []
    for leg, reference, org_id, status, own_departure_id in rows:
        leg.at_risk = True
        if generated and generated[-1][0]["_booking_id"] == leg.booking_id:
            continue
        reason = (
            f"departure {departure_id}, a feeder leg of this itinerary, was cancelled by the hub; the booking "
            f"keeps its space on departure {own_departure_id}: the cargo needs another way to make the connection"
        )
        generated.append(
            (shipment_payload(reference, S(status), AT_RISK_CODE, now, now, reason) | {"_booking_id": leg.booking_id},
             org_id)
        )
    await notify(session, await insert_generated(session, generated))


async def insert_generated(session: AsyncSession, generated: list[tuple[dict, int]]) -> list[tuple[dict, int]]:
    """Insert generated SHIPMENT events in one statement; returns (row dict with id, audience org)."""
    if not generated:
        return []
    params = []
    for payload, _org in generated:
        payload = dict(payload)
        booking_id = payload.pop("_booking_id")
        params.append(
            {
                "event_type": EventType.SHIPMENT.value,
                "event_classifier": EventClassifier.ACT.value,
                "code": payload["code"],
                "event_datetime": datetime.fromisoformat(payload["event_datetime"]),
                "created_at": datetime.fromisoformat(payload["event_created_at"]),
                "booking_id": booking_id,
                "payload": payload,
            }
        )
    table = TrackingEvent.__table__
    ids = list(await session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), params))
    return [({"id": i, **p}, org) for i, p, (_, org) in zip(ids, params, generated)]


async def notify(session: AsyncSession, events: list[tuple[Any, int | frozenset[int] | None]]) -> None:
    """Hand new events to the webhook outbox (same transaction), each with its audience."""
    await enqueue(session, events)


async def riders_of(session: AsyncSession, departure_id: int) -> frozenset[int]:
    """The organisations with a booking riding the departure, and those reporting on it: the audience
    of its TRANSPORT events (the feed's ``visible_to`` lets the same organisations see them)."""
    return frozenset(
        await session.scalars(
            select(Booking.organization_id)
            .join(Leg, Leg.booking_id == Booking.id)
            .where(Leg.departure_id == departure_id, Booking.status.in_(RIDING))
            .distinct()
        )
    ) | await reporters_of(session, departure_id)


async def reporters_of(session: AsyncSession, departure_id: int) -> frozenset[int]:
    """The organisations that recorded a TRANSPORT or EQUIPMENT event of the departure (the one being
    recorded included, once flushed): partners reporting on it see its TRANSPORT and EQUIPMENT events."""
    return frozenset(
        await session.scalars(
            select(TrackingEvent.recorded_by_organization_id)
            .where(
                TrackingEvent.departure_id == departure_id,
                TrackingEvent.event_type.in_((EventType.TRANSPORT.value, EventType.EQUIPMENT.value)),
                TrackingEvent.recorded_by_organization_id.is_not(None),
            )
            .distinct()
        )
    )

