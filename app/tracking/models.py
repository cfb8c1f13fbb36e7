from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bookings.models import Booking
from app.db import Base
from app.network.models import Hub


class DepartureCall(Base):
    """A departure's live timetable at one hub: planned, last reported estimate, actual, and the derived estimate.

    Created from the schedule (departs_at + stop offset) the first time an event
    touches the departure. ``estimated_*`` is derived from the rest (see
    ``service.derive_estimates``) so that out-of-order events give the same answer.
    """

    __tablename__ = "departure_calls"
    __table_args__ = (UniqueConstraint("departure_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    sequence: Mapped[int]
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    planned_arrival_at: Mapped[datetime | None]
    planned_departure_at: Mapped[datetime | None]
    reported_arrival_at: Mapped[datetime | None]
    reported_departure_at: Mapped[datetime | None]
    actual_arrival_at: Mapped[datetime | None]
    actual_departure_at: Mapped[datetime | None]
    estimated_arrival_at: Mapped[datetime | None]
    estimated_departure_at: Mapped[datetime | None]


class Leg(Base):
    """One leg of a booking's itinerary: a ride on a departure from one hub to the next.

    ``at_risk`` flags the connection after this leg: the estimated arrival at the
    transfer hub is later than the cut-off of the next leg's departure.
    """

    __tablename__ = "legs"
    __table_args__ = (
        UniqueConstraint("booking_id", "sequence"),
        Index("ix_legs_departure_from_hub", "departure_id", "from_hub_id"),
        Index("ix_legs_departure_to_hub", "departure_id", "to_hub_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    sequence: Mapped[int]
    mode: Mapped[str] = mapped_column(String(8))
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    from_hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    to_hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    planned_departure_at: Mapped[datetime | None]
    estimated_departure_at: Mapped[datetime | None]
    actual_departure_at: Mapped[datetime | None]
    planned_arrival_at: Mapped[datetime | None]
    estimated_arrival_at: Mapped[datetime | None]
    actual_arrival_at: Mapped[datetime | None]
    at_risk: Mapped[bool] = mapped_column(default=False)

    booking: Mapped[Booking] = relationship(lazy="raise")
    from_hub: Mapped[Hub] = relationship(foreign_keys=[from_hub_id], lazy="joined")
    to_hub: Mapped[Hub] = relationship(foreign_keys=[to_hub_id], lazy="joined")
