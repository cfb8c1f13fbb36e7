from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class DcsaBooking(Base):
    """What the DCSA Booking view keeps beside a booking made through it.

    ``request_reference`` is the ``carrierBookingRequestReference`` the POST answered; the
    booking's own reference is its ``carrierBookingReference``. ``equipments`` holds the
    requested equipment as sent (ISO code, units, shipper-owned: Caravan plans LCL space
    itself, so these are only answered back), ``feedbacks`` those of the last POST or PUT.
    A booking made through /v1 has no row: the view answers it with Caravan's defaults.
    """

    __tablename__ = "dcsa_bookings"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), primary_key=True)
    request_reference: Mapped[str] = mapped_column(String(100), unique=True)
    equipments: Mapped[list[Any]]
    equipment_substitution_allowed: Mapped[bool] = mapped_column(default=False)
    update_received: Mapped[bool] = mapped_column(default=False)
    amended_booking_status: Mapped[str | None] = mapped_column(String(30))
    cancellation_status: Mapped[str | None] = mapped_column(String(30))
    feedbacks: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
