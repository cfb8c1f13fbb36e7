"""DCSA Booking 2.0 over the booking desk: create, read, update or amend, cancel.

Caravan judges a request at once, in the request's own transaction (space control, pricing,
tracking, as /v1 does): the POST answers 202 with the request reference and the booking is
already CONFIRMED, or RECEIVED while waitlisted for space. So a GET never finds a request
still being processed. An update of an unconfirmed booking leaves it UPDATE_RECEIVED (or
CONFIRMED, if it now fits); an amendment of a confirmed one is AMENDMENT_CONFIRMED or, when
it no longer fits or its cut-off has passed, refused with a 409 (the booking unchanged). A
request to cancel a confirmed booking is CANCELLATION_CONFIRMED (the booking CANCELLED) or,
after the cut-off, CANCELLATION_DECLINED.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import Caller
from app.booking_desk import change, create
from app.bookings import records
from app.bookings.models import Booking
from app.bookings.schemas import BookingCreate
from app.db import utcnow
from app.dcsa_booking.mapping import (
    MAX_FEEDBACKS,
    BadRequest,
    Mapped,
    feedback,
    judge,
    map_request,
)
from app.dcsa_booking.models import DcsaBooking
from app.dcsa_booking.view import NOT_CONFIRMED, booking_status, dcsa_booking
from app.errors import AppError, Conflict, NotFound, PreconditionFailed, Unprocessable


def _refused(mapped: Mapped, error: Unprocessable | ValidationError) -> BadRequest:
    """Caravan's 422 on its own field, as the spec's 400 naming the DCSA property it came from."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        return BadRequest(mapped.dcsa_path(field), f"{first['msg']} (Caravan's {field or 'booking'})"[:500])
    field = error.errors[0].field if error.errors else ""
    message = error.errors[0].message if error.errors else error.detail
    return BadRequest(mapped.dcsa_path(field or ""), f"{message} (Caravan's {field or 'booking'})"[:500])


async def find(session: AsyncSession, caller: Caller, reference: str) -> tuple[Booking, DcsaBooking | None]:
    """The booking a path names, by its request reference or its (carrier) booking reference; another
    organisation's is as unknown as one that does not exist (404)."""
    row = await session.scalar(select(DcsaBooking).where(DcsaBooking.request_reference == reference))
    if row is not None:
        booking = await session.get(Booking, row.booking_id)
        if booking is None:
            raise NotFound(f"booking {reference} not found")
        return await records.get_booking(session, caller, booking.reference), row
    booking = await records.get_booking(session, caller, reference)
    return booking, await session.get(DcsaBooking, booking.id)


def _row_of(session: AsyncSession, booking: Booking, row: DcsaBooking | None) -> DcsaBooking:
    """The DCSA view's row of a booking; one made through /v1 gets one when first changed here."""
    if row is None:
        row = DcsaBooking(booking_id=booking.id, request_reference=str(uuid.uuid4()), equipments=[], feedbacks=[])
        session.add(row)
    return row


async def create_request(session: AsyncSession, caller: Caller, body: Any) -> DcsaBooking:
    judge(body, "CreateBooking")
    mapped = map_request(body)
    try:
        data = BookingCreate.model_validate(mapped.body)
    except ValidationError as error:
        raise _refused(mapped, error) from None
    try:
        booking = await create.create_booking(session, caller, data)
    except NotFound as error:  # the departure or quote option the request names
        path = mapped.paths.get("departure_id") or mapped.paths.get("quote_option_id") or "$"
        raise BadRequest(path, error.detail[:500]) from None
    except Unprocessable as error:
        raise _refused(mapped, error) from None
    row = DcsaBooking(booking_id=booking.id, request_reference=str(uuid.uuid4()), equipments=mapped.equipments,
                      equipment_substitution_allowed=body["isEquipmentSubstitutionAllowed"],
                      feedbacks=mapped.feedbacks[:MAX_FEEDBACKS])
    session.add(row)
    await session.flush()
    return row


async def read(session: AsyncSession, caller: Caller, reference: str, amended: bool) -> dict[str, Any]:
    booking, row = await find(session, caller, reference)
    if amended and (row is None or row.amended_booking_status is None):
        raise NotFound(f"booking {reference} has no amendment")
    return dcsa_booking(booking, row)


async def update(session: AsyncSession, caller: Caller, reference: str, body: Any) -> None:
    """PUT: an update of a booking not yet confirmed, or an amendment of a confirmed one."""
    judge(body, "UpdateBooking")
    mapped = map_request(body, updating=True)
    booking, row = await find(session, caller, reference)
    status = booking_status(booking.status, row)
    if status not in NOT_CONFIRMED | {"CONFIRMED"}:
        raise Conflict(f"a {status} booking can no longer be updated or amended")
    document = {name: mapped.body[name] for name in ("cargo", "consignee", "references")}
    document["incoterm"] = mapped.body.get("incoterm")  # PUT replaces: no incoTerms clears it
    try:
        data = change.as_update(document)
        await change.amend_booking(session, caller, booking.reference, data, records.etag(booking))
    except Unprocessable as error:
        raise _refused(mapped, error) from None
    except PreconditionFailed:
        raise Conflict("the booking changed while this update was judged; GET it and send the update again") from None
    row = _row_of(session, booking, row)
    if status == "CONFIRMED":
        row.amended_booking_status = "AMENDMENT_CONFIRMED"
    else:
        row.update_received = True
    row.equipments = mapped.equipments
    row.equipment_substitution_allowed = body["isEquipmentSubstitutionAllowed"]
    row.feedbacks = mapped.feedbacks[:MAX_FEEDBACKS]
    row.updated_at = utcnow()
    await session.flush()


async def cancel(session: AsyncSession, caller: Caller, reference: str, body: Any) -> None:
    """PATCH: cancel a booking request, withdraw an amendment, or ask to cancel a confirmed booking."""
    judge(body, "CancelBookingRequest")
    booking, row = await find(session, caller, reference)
    status = booking_status(booking.status, row)
    if "bookingStatus" in body:
        if body["bookingStatus"] != "CANCELLED":
            raise BadRequest("$.bookingStatus", "the only value to set is CANCELLED")
        if status not in NOT_CONFIRMED:
            raise Conflict(f"a {status} booking cannot be cancelled this way"
                           + ("; send bookingCancellationStatus CANCELLATION_RECEIVED" if status == "CONFIRMED" else ""))
        await change.cancel_booking(session, caller, booking.reference)
    elif "amendedBookingStatus" in body:
        if body["amendedBookingStatus"] != "AMENDMENT_CANCELLED":
            raise BadRequest("$.amendedBookingStatus", "the only value to set is AMENDMENT_CANCELLED")
        if row is None or row.amended_booking_status != "AMENDMENT_RECEIVED":
            raise NotFound(f"booking {reference} has no amendment awaiting processing (Caravan judges each "
                           "amendment as it arrives)")
    else:
        if body["bookingCancellationStatus"] != "CANCELLATION_RECEIVED":
            raise BadRequest("$.bookingCancellationStatus", "the only value to set is CANCELLATION_RECEIVED")
        if status != "CONFIRMED":
            raise Conflict(f"a {status} booking is not confirmed: send bookingStatus CANCELLED to cancel the request"
                           if status in NOT_CONFIRMED else f"a {status} booking cannot be cancelled")
        if row is not None and reference == row.request_reference:
            raise Conflict("a confirmed booking is cancelled by its carrierBookingReference")
        row = _row_of(session, booking, row)
        try:
            await change.cancel_booking(session, caller, booking.reference)
            row.cancellation_status = "CANCELLATION_CONFIRMED"
        except AppError as error:  # its cut-off has passed, or its status no longer allows it: nothing changed
            if error.status != 409:
                raise
            row.cancellation_status = "CANCELLATION_DECLINED"
            row.feedbacks = [*row.feedbacks, feedback("INFORMATIONAL_MESSAGE", "$.bookingCancellationStatus",
                                                      f"cancellation declined: {error.detail}")][-MAX_FEEDBACKS:]
        row.updated_at = utcnow()
    await session.flush()
