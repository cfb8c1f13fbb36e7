from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.accounts.dependencies import CurrentCaller, Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.errors import Forbidden
from app.events.schemas import EventType
from app.fields import MAX_ID, Timestamp
from app.pagination import Cursor, Limit, decode_cursor
from app.tracking import feed, record
from app.tracking.schemas import (
    BookingReference,
    ContainerNumberIn,
    EventCreate,
    EventPage,
    EventRecorded,
    TrackingRead,
)

router = APIRouter(prefix="/v1", tags=["tracking"])

Reference = Annotated[str, Path(pattern=r"^CVN[A-Z0-9]{8}$", description="Booking reference such as CVN7K3QX9PA")]


async def event_reporter(caller: CurrentCaller) -> Caller:
    if not (caller.is_operator or Scope.EVENTS_WRITE.value in caller.scopes):
        raise Forbidden(f"this key lacks the scope {Scope.EVENTS_WRITE.value}")
    return caller


@router.post("/events", status_code=201, response_model=EventRecorded, summary="Record an event")
async def create_event(body: EventCreate, caller: Annotated[Caller, Depends(event_reporter)], session: Session):
    """Record a transport, equipment or shipment event and apply it to the bookings it concerns.

    The hub operator's keys, or any key holding events:write (the operator grants it to
    the partners that move the cargo); shipment events only about bookings the key may see.
    """
    recorded = await record.record_event(session, caller, body)
    return {**feed.event_read(recorded.event), **recorded.seen_by(caller)}


@router.get("/events", response_model=EventPage, summary="List events (the feed)")
async def list_events(
    caller: Annotated[Caller, requires(Scope.EVENTS_READ)],
    session: Session,
    limit: Limit = 20,
    cursor: Cursor = None,
    booking: Annotated[BookingReference | None, Query(description="Booking reference")] = None,
    container: Annotated[ContainerNumberIn | None, Query(description="ISO 6346 container number")] = None,
    departure: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    event_type: EventType | None = None,
    since: Annotated[Timestamp | None, Query(description="Events recorded at or after this time")] = None,
):
    """The event feed in the order Caravan recorded the events; exporters see their own.

    `next_cursor` is never null here: on the last page it stands after the last event seen (after
    the newest event when the page is empty), so polling with it returns what was recorded since.
    `has_more` tells whether more events were already waiting. Keep the same filters with a cursor."""
    after_id = decode_cursor(cursor, feed.FEED_CURSOR)
    rows, ceiling = await feed.list_events(
        session, caller, after_id, limit,
        booking=booking, container=container, departure_id=departure, event_type=event_type, since=since,
    )
    return feed.feed_page(rows, limit, after_id, ceiling)


@router.get("/bookings/{reference}/tracking", response_model=TrackingRead, summary="Track a booking")
async def booking_tracking(
    reference: Reference, caller: Annotated[Caller, requires(Scope.BOOKINGS_READ)], session: Session
):
    """Legs, the event timeline, the current ETA and whether a connection is at risk."""
    return await feed.tracking_for(session, caller, reference)
