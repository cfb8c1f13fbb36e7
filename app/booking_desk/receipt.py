"""The cargo at the hub and at the destination: the CFS receipt (measured figures count from then on) and
proof of delivery."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app import cargo as core
from app.accounts.service import Caller
from app.booking_desk.rules import booking_price, locked_booking
from app.bookings.cargo import check_size
from app.bookings.models import Booking
from app.bookings.records import get_booking
from app.bookings.schemas import DeliveryIn, ReceiptIn
from app.bookings.status import S, transition
from app.db import utcnow
from app.errors import Unprocessable


async def deliver_booking(session: AsyncSession, caller: Caller, reference: str, data: DeliveryIn) -> Booking:
    """Proof of delivery at destination: ARRIVED becomes DELIVERED (a SHIPMENT event reports it)."""
    booking = await get_booking(session, caller, reference, lock=True)  # delivered once, however many ask
    delivered_at = data.delivered_at or utcnow()
    if delivered_at > utcnow():
        raise Unprocessable("delivered_at", "must not be in the future")
    if delivered_at < (booking.received_at or booking.created_at):
        raise Unprocessable("delivered_at", "must not be before the cargo was received (or the booking made)")
    transition(booking, S.DELIVERED, f"delivered; signed for by {data.received_by}")
    booking.version += 1
    await session.flush()
    return booking


async def receive_cargo(
    session: AsyncSession, caller: Caller, reference: str, data: ReceiptIn, tolerance: float
) -> Booking:
    """Record the CFS measurement; from now on the measured figures count."""
    booking, departure, _ = await locked_booking(session, caller, reference)
    now = utcnow()
    received_at = data.received_at or now
    if received_at > now:
        raise Unprocessable("received_at", "must not be in the future")
    if received_at < booking.created_at:
        raise Unprocessable("received_at", f"must not be before the booking was made ({booking.created_at.isoformat()})")
    if booking.status != S.CARGO_RECEIVED:
        transition(booking, S.CARGO_RECEIVED)
    service = departure.service
    # A non-stackable booking keeps the space its footprint blocks above the goods.
    blocked_above = core.occupied_uplift_cbm(booking.lines)
    booking.measured_pieces = data.pieces
    booking.measured_weight_kg = data.weight_kg
    booking.measured_volume_cbm = data.volume_cbm
    booking.received_at = received_at
    booking.chargeable_cbm = core.chargeable_cbm(data.volume_cbm + blocked_above, data.weight_kg, service.weight_per_cbm_kg)
    check_size(data.volume_cbm, booking.chargeable_cbm, "lines" if data.lines else "volume_cbm")
    booking.measured_price_amount = await booking_price(
        session, booking, departure, data.volume_cbm + blocked_above, data.weight_kg
    )
    booking.measurement_discrepancy = (
        data.pieces != booking.pieces
        or abs(data.weight_kg - booking.weight_kg) > tolerance * booking.weight_kg
        or abs(data.volume_cbm - booking.volume_cbm) > tolerance * booking.volume_cbm
    )
    booking.status_reason = data.note
    booking.version += 1
    booking.updated_at = now
    await session.flush()
    return booking
