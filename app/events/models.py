"""The event log: every TRANSPORT, EQUIPMENT and SHIPMENT event Caravan has recorded or published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bookings.models import Booking
from app.db import Base, utcnow


class TrackingEvent(Base):
    """An immutable DCSA-style event: TRANSPORT on a departure, EQUIPMENT on a container, SHIPMENT on a booking.

    ``payload`` is the event's public form (everything but the id), fixed when the
    event is written, so the feed and the webhooks never need a join to render it.
    """

    __tablename__ = "tracking_events"
    __table_args__ = (
        Index("ix_tracking_events_booking_id", "booking_id"),
        # The departures a partner reports on (the feed's visibility, the webhook audience).
        Index("ix_tracking_events_recorded_by_departure", "recorded_by_organization_id", "departure_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(10))
    event_classifier: Mapped[str] = mapped_column(String(3))
    code: Mapped[str] = mapped_column(String(4))
    event_datetime: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("hubs.id"))
    mode: Mapped[str | None] = mapped_column(String(8))
    departure_id: Mapped[int | None] = mapped_column(ForeignKey("departures.id"), index=True)
    container_number: Mapped[str | None] = mapped_column(String(11), index=True)
    # The planned container an EQUIPMENT event was recorded on: a number may name another
    # container (other bookings) in a later plan version, so visibility follows the container.
    container_id: Mapped[int | None] = mapped_column(ForeignKey("plan_containers.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    recorded_by_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    payload: Mapped[dict[str, Any]]

    booking: Mapped[Booking | None] = relationship(lazy="raise")
