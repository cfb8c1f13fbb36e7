from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.bookings.schemas import BookingStatus
from app.events.schemas import EventClassifier, EventType
from app.fields import (
    ContainerNumber,
    HubCode,
    IdField,
    LongText,
    RequestBody,
    Timestamp,
)
from app.network.schemas import DepartureStatus, Mode
from app.pagination import Page

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z]{4}$")]
Location = HubCode  # in either case, answered in capitals
ContainerNumberIn = ContainerNumber  # ISO 6346, check digit verified
BookingReference = Annotated[str, StringConstraints(pattern=r"^CVN[A-Z0-9]{8}$")]


class EventCreate(RequestBody):
    """A DCSA-style event. TRANSPORT names a departure, EQUIPMENT a container, SHIPMENT a booking."""

    event_type: EventType
    event_classifier: EventClassifier
    code: Code = Field(description="TRANSPORT: ARRI DEPA; EQUIPMENT: GTIN GTOT STUF STRP LOAD DISC …; SHIPMENT: RECE CONF CANC …")
    event_datetime: Timestamp = Field(description="When it happened (ACT) or is planned/expected to (PLN/EST)")
    location: Location | None = Field(default=None, description="Hub code or the UN/LOCODE of a hub")
    mode: Mode | None = None
    departure_id: IdField | None = None
    container_number: ContainerNumberIn | None = None
    booking_reference: BookingReference | None = None
    reason: LongText | None = None


class EventRead(BaseModel):
    id: int
    event_type: EventType
    event_classifier: EventClassifier
    code: str
    event_datetime: datetime
    event_created_at: datetime
    location: str | None
    un_locode: str | None
    mode: Mode | None
    departure_id: int | None
    container_number: str | None
    booking_reference: str | None
    booking_status: BookingStatus | None = None
    reason: str | None = None
    departure_status: DepartureStatus | None = Field(
        None, description="TRANSPORT: the departure's status once the event was recorded (an actual departure "
                          "makes it DEPARTED, an actual arrival at its last stop ARRIVED)"
    )


class EventPage(Page[EventRead]):
    """A page of the event feed: ``next_cursor`` is never null (poll it again for later events)."""

    next_cursor: str = Field(description="Pass back as ?cursor= for the next page, or later to poll for new events")
    has_more: bool = Field(description="More events were waiting after this page when it was read")


class SkippedBooking(BaseModel):
    booking_reference: str
    status: BookingStatus
    reason: str


class EventRecorded(EventRead):
    """The recorded event, and what its fan-out did."""

    bookings_updated: int = Field(0, description="Bookings whose status the event changed")
    skipped: list[SkippedBooking] | None = Field(
        None, description="EQUIPMENT STUF ACT: bookings of the container left as they were (cargo never received)"
    )


class LegRead(BaseModel):
    sequence: int
    mode: Mode
    departure_id: int
    from_hub: str
    to_hub: str
    cutoff_at: datetime | None = Field(
        None, description="The cut-off of the departure the leg rides, where the cargo boards it: at the "
                          "departure's origin its cutoff_at, at a stop on the way the stop's time minus the same lead"
    )
    planned_departure_at: datetime | None
    estimated_departure_at: datetime | None
    actual_departure_at: datetime | None
    planned_arrival_at: datetime | None
    estimated_arrival_at: datetime | None
    actual_arrival_at: datetime | None
    connection_at_risk: bool


class TrackingRead(BaseModel):
    reference: str
    status: BookingStatus
    origin: str
    destination: str
    eta: datetime | None = Field(description="Actual arrival at the destination once known, else the current estimate")
    at_risk: bool
    legs: list[LegRead]
    events: list[EventRead] = Field(description="The booking's timeline, by event time")
