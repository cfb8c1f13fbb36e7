"""Changing a booking: amend before the cut-off, cancel, reject; the waitlist that freed space goes to;
and the bookings of a departure the hub cancelled.

Each takes the row locks of every departure the booking rides (``rules.locked_booking``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import Caller
from app.booking_desk.rules import (
    Feeders,
    apply_cargo,
    before_every_cutoff,
    check_if_match,
    check_pieces,
    locked_booking,
    price_booking,
    roll_over,
)
from app.bookings.cargo import check_cargo
from app.bookings.models import Booking, BookingLeg
from app.bookings.schemas import SPACE_HOLDING, BookingMergePatch, BookingStatus, BookingUpdate
from app.bookings.status import AMENDABLE, TRANSITIONS, S, StatusChanged, transition
from app.consolidation import space
from app.db import utcnow
from app.errors import Conflict, FieldError, Unprocessable
from app.network.models import Departure
from app.network.service import is_open_for_booking
from app.tracking.models import Leg
from app.tracking.publish import feeder_departure_cancelled


async def promote_waitlist(session: AsyncSession, departure: Departure) -> list[Booking]:
    """Confirm waitlisted bookings, oldest first, while space allows. The departure lock must be held."""
    if not is_open_for_booking(departure, utcnow()):
        return []
    # A quoted itinerary with feeder legs is never confirmed from here: its feeders' space cannot be
    # checked under this one departure's lock (such bookings are refused rather than waitlisted).
    with_feeders = exists().where(BookingLeg.booking_id == Booking.id, BookingLeg.departure_id != Booking.departure_id)
    waiting = await session.scalars(
        select(Booking)
        .where(Booking.departure_id == departure.id, Booking.status == S.WAITLISTED.value, ~with_feeders)
        .order_by(Booking.id)
    )
    promoted = await space.promote(session, departure, list(waiting))
    for booking in promoted:
        transition(booking, S.CONFIRMED, "confirmed from the waitlist")
        booking.version += 1
    await session.flush()
    return promoted



async def move_off_cancelled_departure(session: AsyncSession, departure: Departure) -> None:
    """The hub cancelled ``departure`` (its row lock held): settle every booking on it.

    Cargo already at the CFS, and confirmed bookings that allow roll-over, move to the
    next departure of the service with room (and are confirmed there again, which
    tracking reports with the reason); other confirmed and waitlisted bookings are
    cancelled with the reason. Received cargo for which no departure has room stays
    on the cancelled departure for the operator to place, marked in its reason.
    Quoted bookings that ride it on a feeder leg keep their own departure; tracking
    flags their connection at risk (a RISK event names the cancelled departure).
    """
    bookings = list(await session.scalars(
        select(Booking)
        .where(Booking.departure_id == departure.id, Booking.status.in_([S.CONFIRMED, S.WAITLISTED, S.CARGO_RECEIVED]))
        .order_by(Booking.id)
    ))
    now = utcnow()
    for booking in bookings:
        status = BookingStatus(booking.status)
        movable = status is S.CARGO_RECEIVED or (status is S.CONFIRMED and booking.allow_rollover)
        later = await roll_over(session, booking, departure) if movable else None
        if later is not None:
            reason = f"departure {departure.id} was cancelled; moved to departure {later.id}"
            booking.departure = later
            booking.status_reason, booking.updated_at = reason, now
            booking.record(StatusChanged(booking, status, status, reason, now))
            await session.execute(delete(Leg).where(Leg.booking_id == booking.id))  # rebuilt on the new departure
        elif status is S.CARGO_RECEIVED:
            booking.status_reason = f"departure {departure.id} was cancelled and no later departure has room yet"
        else:
            transition(booking, S.CANCELLED, f"departure {departure.id} was cancelled by the hub")
        booking.version += 1
    await session.flush()
    await feeder_departure_cancelled(session, departure.id, now)



def as_update(document: dict[str, Any]) -> BookingUpdate:
    """``document`` judged as a booking update: a 422 naming every field that breaks a bound."""
    try:
        return BookingUpdate.model_validate(document)
    except ValidationError as error:
        problems = [FieldError(".".join(str(part) for part in e["loc"]) or "body", e["msg"]) for e in error.errors()]
        failure = Unprocessable(problems[0].field, problems[0].message,
                                "; ".join(f"{p.field}: {p.message}" for p in problems[:5]))
        failure.errors = problems
        raise failure from None


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: an object merges member by member (null removes one); anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = _merge_patch(merged.get(name), value)
    return merged


# What a member removed by a merge patch becomes: what a new booking gets when it is left out.
REMOVED_BECOMES: dict[str, Any] = {"references": [], "allow_rollover": False, "incoterm": None}


def merged_update(booking: Booking, patch: BookingMergePatch) -> BookingUpdate:
    """The update a merge patch makes of the booking's current amendable fields, judged as an
    update: only the members the patch names change (an untouched cargo is not re-priced)."""
    document: dict[str, Any] = {}
    for name, value in patch.model_dump(mode="json", by_alias=True, exclude_unset=True).items():
        if value is None and name not in REMOVED_BECOMES:
            raise Unprocessable(name, f"a booking keeps its {name}: it cannot be removed, only changed")
        if name == "consignee":
            value = _merge_patch({k: v for k, v in booking.consignee.items() if v is not None}, value)
        document[name] = REMOVED_BECOMES[name] if value is None else value
    return as_update(document)


async def amend_booking(
    session: AsyncSession, caller: Caller, reference: str, data: BookingUpdate | BookingMergePatch,
    if_match: str | None,
) -> Booking:
    """Amend with an update (each member given replaces the booking's) or a merge patch, applied
    onto the version If-Match names and judged as an update."""
    booking, departure, feeders = await locked_booking(session, caller, reference)
    check_if_match(booking, if_match)
    if isinstance(data, BookingMergePatch):
        data = merged_update(booking, data)
    if booking.status not in AMENDABLE:
        raise Conflict(f"a {booking.status} booking can no longer be amended")
    before_every_cutoff(departure, feeders, "amending", amending=True)
    service = departure.service
    held_before = booking.chargeable_cbm
    if data.cargo is not None:
        totals, lines = check_cargo(data.cargo, service)
        await check_pieces(session, departure, data.cargo)
        apply_cargo(booking, totals, lines, service)
        if booking.status == S.CONFIRMED:
            for ridden, alight_at in [(departure, None), *feeders]:
                if not await space.reserve(session, ridden, booking, alight_at):
                    raise Conflict(
                        f"the amended cargo ({totals.chargeable_cbm} CBM) does not fit departure {ridden.id} "
                        f"as planned within its {ridden.capacity_teu} TEU"
                    )
        await price_booking(session, booking, departure, totals.occupied_cbm, totals.weight_kg)
    if data.consignee is not None:
        booking.consignee = data.consignee.model_dump(mode="json")
    if data.references is not None:
        booking.references = [r.model_dump(mode="json") for r in data.references]
    if data.allow_rollover is not None:
        booking.allow_rollover = data.allow_rollover
    if "incoterm" in data.model_fields_set:
        booking.incoterm = data.incoterm
    booking.version += 1
    booking.updated_at = utcnow()
    await session.flush()
    if booking.status == S.WAITLISTED or booking.chargeable_cbm < held_before:
        await promote_waitlist(session, departure)
    return booking


async def cancel_booking(session: AsyncSession, caller: Caller, reference: str) -> Booking:
    booking, departure, feeders = await locked_booking(session, caller, reference)
    held_space = booking.status in SPACE_HOLDING
    if BookingStatus.CANCELLED not in TRANSITIONS[BookingStatus(booking.status)]:
        raise Conflict(f"a {booking.status} booking cannot be cancelled")
    before_every_cutoff(departure, feeders, "cancelling", amending=False)
    transition(booking, S.CANCELLED, "cancelled by the exporter" if not caller.is_operator else "cancelled by the operator")
    booking.version += 1
    await session.flush()
    if held_space:
        await release(session, departure, feeders)
    return booking


async def release(session: AsyncSession, departure: Departure, feeders: Feeders) -> None:
    """A booking no longer holds space: offer it to the waitlists of every departure it rode (locks held)."""
    for ridden in [departure, *(feeder for feeder, _ in feeders)]:
        await promote_waitlist(session, ridden)


async def reject_booking(session: AsyncSession, caller: Caller, reference: str, reason: str) -> Booking:
    booking, departure, feeders = await locked_booking(session, caller, reference)
    held_space = booking.status in SPACE_HOLDING
    transition(booking, S.REJECTED, reason)
    booking.version += 1
    await session.flush()
    if held_space:
        await release(session, departure, feeders)
    return booking
