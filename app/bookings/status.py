"""The booking status machine: which status may become which, one booking at a time or set-based.

Every change is recorded on the booking as a :class:`StatusChanged` event; whoever
publishes booking changes (tracking, which sits above bookings) reads them from the
unit of work, so this floor tells nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking
from app.bookings.schemas import BookingStatus
from app.db import utcnow
from app.errors import Conflict

S = BookingStatus
TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    S.RECEIVED: frozenset({S.CONFIRMED, S.WAITLISTED, S.REJECTED, S.CANCELLED}),
    S.WAITLISTED: frozenset({S.CONFIRMED, S.REJECTED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.CARGO_RECEIVED, S.REJECTED, S.CANCELLED}),
    # A train that leaves with received cargo nobody recorded as stuffed carried it (app/tracking).
    S.CARGO_RECEIVED: frozenset({S.STUFFED, S.IN_TRANSIT}),
    S.STUFFED: frozenset({S.IN_TRANSIT}),
    S.IN_TRANSIT: frozenset({S.ARRIVED}),
    S.ARRIVED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}
AMENDABLE = (S.RECEIVED, S.CONFIRMED, S.WAITLISTED)


@dataclass(frozen=True)
class StatusChanged:
    """Domain event: a booking moved from one status to another."""

    booking: Booking
    previous: BookingStatus
    current: BookingStatus
    reason: str | None
    at: datetime


def transition(booking: Booking, target: BookingStatus, reason: str | None = None) -> None:
    """Move the booking along the status machine, or 409 with the reason it cannot.

    Every change is recorded on the booking as a ``StatusChanged`` event.
    """
    current = BookingStatus(booking.status)
    if target not in TRANSITIONS[current]:
        raise Conflict(f"a {current.value} booking cannot become {target.value}")
    booking.status = target.value
    booking.status_reason = reason
    booking.updated_at = utcnow()
    booking.record(StatusChanged(booking, current, target, reason, booking.updated_at))


@dataclass(frozen=True)
class BulkStatusChange:
    """One booking moved by ``transition_many`` (no ORM object: publish it yourself)."""

    booking_id: int
    reference: str
    organization_id: int
    previous: BookingStatus
    current: BookingStatus


async def transition_many(
    session: AsyncSession, booking_ids: Select | list[int], target: BookingStatus, reason: str | None = None
) -> list[BulkStatusChange]:
    """Set-based ``transition``: every booking among ``booking_ids`` whose status may become ``target`` does.

    One UPDATE per status the machine allows to become ``target``; bookings in any
    other status are left alone (no error: a fan-out meets bookings of every kind).
    Loaded Booking objects are not refreshed; the version moves, so ETags change.
    """
    now = utcnow()
    changed: list[BulkStatusChange] = []
    for source in (s for s, targets in TRANSITIONS.items() if target in targets):
        rows = await session.execute(
            update(Booking)
            .where(Booking.id.in_(booking_ids), Booking.status == source.value)
            .values(status=target.value, status_reason=reason, updated_at=now, version=Booking.version + 1)
            .returning(Booking.id, Booking.reference, Booking.organization_id)
            .execution_options(synchronize_session=False)
        )
        changed += [BulkStatusChange(r.id, r.reference, r.organization_id, source, target) for r in rows]
    return changed

