"""Reading events: what a caller may see, the feed, and a booking's tracking (legs, ETA, timeline)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Select,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.accounts.service import Caller
from app.bookings.models import Booking, BookingLeg
from app.bookings.records import get_booking
from app.consolidation.models import DeparturePlan, PlanAssignment, PlanContainer
from app.events.models import TrackingEvent
from app.events.schemas import (
    EventType,
)
from app.network.models import Departure
from app.network.snapshots import departures_by_id
from app.pagination import encode_cursor
from app.tracking.legs import RIDING, booking_legs
from app.tracking.models import Leg

TIMELINE_LIMIT = 500
# The event feed's cursors are its own: one of another list is refused there.
FEED_CURSOR = "events"


# --- reading ------------------------------------------------------------------------------

def event_read(row: TrackingEvent | dict) -> dict:
    if isinstance(row, dict):
        return {"id": row["id"], **row["payload"]}
    return {"id": row.id, **row.payload}


def riding_departures(booking_ids: Select) -> Select:
    """Departures the given bookings ride (legs of space-holding bookings)."""
    return (
        select(Leg.departure_id)
        .join(Booking, Booking.id == Leg.booking_id)
        .where(Leg.booking_id.in_(booking_ids), Booking.status.in_(RIDING))
    )


def reported_departures(organization_id: int) -> Select:
    """Departures the organisation reports on: those it recorded a TRANSPORT or EQUIPMENT event of."""
    reported = aliased(TrackingEvent)
    return select(reported.departure_id).where(
        reported.recorded_by_organization_id == organization_id,
        reported.event_type.in_((EventType.TRANSPORT.value, EventType.EQUIPMENT.value)),
        reported.departure_id.is_not(None),
    )


def visible_to(caller: Caller):
    """SQL condition: the events the caller may see. Operators see all; an exporter sees the
    events of its own bookings, the TRANSPORT events of departures its bookings ride and the
    EQUIPMENT events of containers holding its bookings (not the other bookings' events).
    A partner that reports events (events:write) also sees every TRANSPORT and EQUIPMENT
    event it recorded and those of the departures it reports on, whoever recorded them;
    never another organisation's SHIPMENT events (the bookings its reports moved)."""
    if caller.is_operator:
        return None
    own = select(Booking.id).where(Booking.organization_id == caller.organization_id)
    return or_(
        TrackingEvent.booking_id.in_(own),
        and_(TrackingEvent.event_type == EventType.TRANSPORT.value, TrackingEvent.departure_id.in_(riding_departures(own))),
        equipment_of_containers_holding(PlanAssignment.booking_id.in_(own)),
        and_(
            TrackingEvent.event_type.in_((EventType.TRANSPORT.value, EventType.EQUIPMENT.value)),
            or_(
                TrackingEvent.recorded_by_organization_id == caller.organization_id,
                TrackingEvent.departure_id.in_(reported_departures(caller.organization_id)),
            ),
        ),
    )


def equipment_of_containers_holding(assignment_condition):
    """SQL condition: EQUIPMENT events of containers holding a booking matching ``assignment_condition``
    (a condition on PlanAssignment.booking_id): the very container the event was recorded on. Events
    recorded before that was kept (no container_id) go by departure and number, any plan version."""
    return and_(
        TrackingEvent.event_type == EventType.EQUIPMENT.value,
        or_(
            exists().where(assignment_condition, PlanAssignment.container_id == TrackingEvent.container_id),
            and_(
                TrackingEvent.container_id.is_(None),
                exists().where(
                    assignment_condition,
                    PlanAssignment.container_id == PlanContainer.id,
                    PlanContainer.plan_id == DeparturePlan.id,
                    DeparturePlan.departure_id == TrackingEvent.departure_id,
                    PlanContainer.container_number == TrackingEvent.container_number,
                ),
            ),
        ),
    )


async def list_events(
    session: AsyncSession,
    caller: Caller,
    after_id: int,
    limit: int,
    *,
    booking: str | None = None,
    container: str | None = None,
    departure_id: int | None = None,
    event_type: EventType | None = None,
    since: datetime | None = None,
) -> tuple[list[TrackingEvent], int]:
    """The feed in the order events were recorded (id), filters combining with AND, up to ``limit + 1``
    rows; and the highest event id when the page was read (where an empty page leaves a poller)."""
    ceiling = await session.scalar(select(func.max(TrackingEvent.id))) or 0
    query = select(TrackingEvent).where(TrackingEvent.id > after_id, TrackingEvent.id <= ceiling)
    condition = visible_to(caller)
    if condition is not None:
        query = query.where(condition)
    if booking is not None:
        found = await session.scalar(select(Booking).where(Booking.reference == booking))
        if found is None or (not caller.is_operator and found.organization_id != caller.organization_id):
            return [], ceiling
        query = query.where(about_booking(found.id))
    if container is not None:
        query = query.where(TrackingEvent.container_number == container)
    if departure_id is not None:
        query = query.where(TrackingEvent.departure_id == departure_id)
    if event_type is not None:
        query = query.where(TrackingEvent.event_type == event_type.value)
    if since is not None:
        query = query.where(TrackingEvent.created_at >= since)
    return list(await session.scalars(query.order_by(TrackingEvent.id).limit(limit + 1))), ceiling


def feed_page(rows: list[TrackingEvent], limit: int, after_id: int, ceiling: int) -> dict:
    """A page of the feed whose ``next_cursor`` is never null: after the last event of the page, or
    when the page is empty after the highest id read, so polling it again finds what came later.
    ``has_more`` says whether more events were already waiting."""
    items = rows[:limit]
    position = items[-1].id if items else max(after_id, ceiling)
    return {
        "items": [event_read(e) for e in items],
        "next_cursor": encode_cursor(position, FEED_CURSOR),
        "has_more": len(rows) > limit,
    }


def about_booking(booking_id: int):
    """Events on the booking, TRANSPORT events of its departures at the hubs its legs touch,
    and EQUIPMENT events of the containers it was planned into."""
    legs_at = select(Leg.departure_id, Leg.from_hub_id, Leg.to_hub_id).where(Leg.booking_id == booking_id).subquery()
    return or_(
        TrackingEvent.booking_id == booking_id,
        and_(
            TrackingEvent.event_type == EventType.TRANSPORT.value,
            exists().where(
                legs_at.c.departure_id == TrackingEvent.departure_id,
                or_(legs_at.c.from_hub_id == TrackingEvent.hub_id, legs_at.c.to_hub_id == TrackingEvent.hub_id),
            ),
        ),
        equipment_of_containers_holding(PlanAssignment.booking_id == booking_id),
    )


def stop_cutoff(departure: Departure, hub_id: int) -> datetime | None:
    """The departure's cut-off for cargo boarding at ``hub_id``: its ``cutoff_at`` at the origin; at a
    stop on the way, the stop's time minus the same lead (as the itinerary search has it)."""
    service = departure.service
    if hub_id == service.origin_hub_id:
        return departure.cutoff_at
    for stop in service.stops:
        if stop.hub_id == hub_id:
            return departure.cutoff_at + timedelta(hours=stop.offset_hours)
    return None


async def leg_cutoffs(session: AsyncSession, booking_id: int, legs: list[Leg]) -> list[datetime | None]:
    """Each leg's cut-off: that of the departure it rides, where the cargo boards that departure.
    A booking made from a quote keeps each quoted leg's cut-off."""
    if not legs:
        return []
    quoted = dict(list(await session.execute(
        select(BookingLeg.departure_id, BookingLeg.cutoff_at).where(BookingLeg.booking_id == booking_id)
    )))
    departures = await departures_by_id(session, sorted({leg.departure_id for leg in legs} - quoted.keys()))
    boarding: dict[int, int] = {}
    cutoffs = []
    for leg in legs:
        board = boarding.setdefault(leg.departure_id, leg.from_hub_id)
        if leg.departure_id in quoted:
            cutoffs.append(quoted[leg.departure_id])
        elif leg.departure_id in departures:
            cutoffs.append(stop_cutoff(departures[leg.departure_id], board))
        else:
            cutoffs.append(None)
    return cutoffs


async def tracking_for(session: AsyncSession, caller: Caller, reference: str) -> dict:
    booking = await get_booking(session, caller, reference)
    legs = await booking_legs(session, booking)
    cutoffs = await leg_cutoffs(session, booking.id, legs)
    events = list(
        await session.scalars(
            select(TrackingEvent)
            .where(about_booking(booking.id))
            .order_by(TrackingEvent.event_datetime, TrackingEvent.id)
            .limit(TIMELINE_LIMIT)
        )
    )
    riding = booking.status in RIDING
    last = legs[-1] if legs and riding else None
    return {
        "reference": booking.reference,
        "status": booking.status,
        # End to end: a booking made from a quote rides feeder legs before and after its departure.
        "origin": legs[0].from_hub.code if legs else booking.origin.code,
        "destination": legs[-1].to_hub.code if legs else booking.destination.code,
        "eta": (last.actual_arrival_at or last.estimated_arrival_at or last.planned_arrival_at) if last else None,
        "at_risk": riding and any(leg.at_risk for leg in legs),
        "legs": [
            {
                "sequence": leg.sequence,
                "mode": leg.mode,
                "departure_id": leg.departure_id,
                "from_hub": leg.from_hub.code,
                "to_hub": leg.to_hub.code,
                "cutoff_at": cutoff,
                "planned_departure_at": leg.planned_departure_at,
                "estimated_departure_at": leg.estimated_departure_at,
                "actual_departure_at": leg.actual_departure_at,
                "planned_arrival_at": leg.planned_arrival_at,
                "estimated_arrival_at": leg.estimated_arrival_at,
                "actual_arrival_at": leg.actual_arrival_at,
                "connection_at_risk": leg.at_risk,
            }
            for leg, cutoff in zip(legs, cutoffs)
        ],
        "events": [event_read(e) for e in events],
    }

