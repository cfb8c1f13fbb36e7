"""Reading bookings: one by reference (if the caller may see it), a page of them, their API form and ETag;
the space they hold on departures; new references."""

from __future__ import annotations

import secrets

from sqlalchemy import Integer, bindparam, func, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app import cargo as core
from app.accounts.service import Caller
from app.bookings.models import Booking, BookingLeg
from app.bookings.schemas import SPACE_HOLDING
from app.cargo import vertical_sides
from app.cargo.packages import package_code
from app.db import DriverStatement
from app.errors import NotFound

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def token(prefix: str, length: int) -> str:
    """``prefix`` and ``length`` random characters of an alphabet that cannot be misread (no 0/O, 1/I)."""
    return prefix + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))


def new_reference() -> str:
    return token("CVN", 8)


async def get_booking(session: AsyncSession, caller: Caller, reference: str, *, lock: bool = False) -> Booking:
    """The booking, if the caller may see it (operators see all); otherwise 404. ``lock`` takes its
    row lock and reads it again under the lock (a change that needs no departure lock)."""
    query = select(Booking).where(Booking.reference == reference)
    if lock:
        query = query.with_for_update(of=Booking).execution_options(populate_existing=True)
    booking = await session.scalar(query)
    if booking is None or (not caller.is_operator and booking.organization_id != caller.organization_id):
        raise NotFound(f"booking {reference} not found")
    return booking



async def list_bookings(
    session: AsyncSession,
    caller: Caller,
    after_id: int,
    limit: int,
    status: str | None = None,
    departure_id: int | None = None,
) -> list[Booking]:
    query = select(Booking).where(Booking.id > after_id)
    if not caller.is_operator:
        query = query.where(Booking.organization_id == caller.organization_id)
    if status:
        query = query.where(Booking.status == status)
    if departure_id:
        query = query.where(Booking.departure_id == departure_id)
    return list(await session.scalars(query.order_by(Booking.id).limit(limit + 1)))



def _booked_cbm_of_many() -> DriverStatement:
    """``booked_cbm_by_departure`` in one round trip on PostgreSQL (``= ANY(:departure_ids)``).

    Each feeder leg's booking is looked up by primary key in a correlated subquery, as the
    space riders are (``app.consolidation.space``): never a join that a generic plan could
    turn into a scan of every booking."""
    holding = [s.value for s in SPACE_HOLDING]
    wanted = func.any(bindparam("departure_ids", type_=ARRAY(Integer)))
    own = (
        select(Booking.departure_id.label("departure_id"), func.sum(Booking.chargeable_cbm).label("cbm"))
        .where(Booking.departure_id == wanted, Booking.status.in_(holding))
        .group_by(Booking.departure_id)
    )
    holds = (
        select(Booking.id)
        .where(Booking.id == BookingLeg.booking_id, Booking.departure_id != BookingLeg.departure_id,
               Booking.status.in_(holding))
        .exists()
    )
    feeders = (
        select(BookingLeg.departure_id, func.sum(BookingLeg.chargeable_cbm))
        .where(BookingLeg.departure_id == wanted, holds)
        .group_by(BookingLeg.departure_id)
    )
    return DriverStatement(union_all(own, feeders))


_BOOKED_OF_MANY = _booked_cbm_of_many()


async def booked_cbm_by_departure(session: AsyncSession, departure_ids: list[int]) -> dict[int, float]:
    """Chargeable CBM held by space-holding bookings, per departure: its own bookings, and
    quoted bookings riding it on a feeder leg (charged by that leg's service's W/M ratio).
    Departures nobody holds space on are absent."""
    if not departure_ids:
        return {}
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        rows = await _BOOKED_OF_MANY.rows(session, {"departure_ids": list(departure_ids)})
    else:
        holding = [s.value for s in SPACE_HOLDING]
        own = await session.execute(
            select(Booking.departure_id, func.sum(Booking.chargeable_cbm))
            .where(Booking.departure_id.in_(departure_ids), Booking.status.in_(holding))
            .group_by(Booking.departure_id)
        )
        feeders = await session.execute(
            select(BookingLeg.departure_id, func.sum(BookingLeg.chargeable_cbm))
            .join(Booking, Booking.id == BookingLeg.booking_id)
            .where(BookingLeg.departure_id.in_(departure_ids), BookingLeg.departure_id != Booking.departure_id,
                   Booking.status.in_(holding))
            .group_by(BookingLeg.departure_id)
        )
        rows = [*own, *feeders]
    booked: dict[int, float] = {}
    for departure_id, total in rows:
        booked[departure_id] = booked.get(departure_id, 0.0) + float(total or 0.0)
    return booked


def difference_pct(measured: float, declared: float) -> float:
    return round((measured - declared) / declared * 100, 2) if declared else 0.0


def etag(booking: Booking) -> str:
    return f'"{booking.reference}-v{booking.version}"'



def itinerary_read(booking: Booking) -> list[dict]:
    """The legs the cargo rides, in order: a quoted booking's stored legs, else one leg on its departure.

    Each leg's ``cutoff_at`` is its departure's: the booking, its amendments and its
    cancellation close then (``booking_desk.rules.before_every_cutoff``)."""
    if booking.legs:
        return [
            {
                "sequence": leg.sequence,
                "main": leg.main,
                "mode": leg.mode,
                "service": leg.departure.service.code,
                "departure_id": leg.departure_id,
                "from_hub": leg.from_hub.code,
                "to_hub": leg.to_hub.code,
                "cutoff_at": leg.departure.cutoff_at,
                "departs_at": leg.departs_at,
                "arrives_at": leg.arrives_at,
            }
            for leg in booking.legs
        ]
    departure = booking.departure
    return [{
        "sequence": 1,
        "main": True,
        "mode": departure.service.mode,
        "service": departure.service.code,
        "departure_id": departure.id,
        "from_hub": booking.origin.code,
        "to_hub": booking.destination.code,
        "cutoff_at": departure.cutoff_at,
        "departs_at": departure.departs_at,
        "arrives_at": departure.arrives_at,
    }]


def price_lines_and_terms(booking: Booking) -> dict:
    """The booked price line by line, whether it carries pickup and delivery, and the Incoterm."""
    return {
        "price_breakdown": booking.price_breakdown,
        "pickup": booking.pickup,
        "delivery": booking.delivery,
        "incoterm": booking.incoterm,
    }


def booking_read(booking: Booking) -> dict:
    departure = booking.departure
    legs = itinerary_read(booking)
    cutoff_at = min(leg["cutoff_at"] for leg in legs)
    measured = None
    if booking.received_at is not None:
        measured = {
            "pieces": booking.measured_pieces,
            "weight_kg": booking.measured_weight_kg,
            "volume_cbm": booking.measured_volume_cbm,
            "chargeable_cbm": booking.chargeable_cbm,
            "received_at": booking.received_at,
            "discrepancy": booking.measurement_discrepancy,
            "weight_difference_pct": difference_pct(booking.measured_weight_kg or 0.0, booking.weight_kg),
            "volume_difference_pct": difference_pct(booking.measured_volume_cbm or 0.0, booking.volume_cbm),
            "price": {"amount": booking.measured_price_amount, "currency": booking.currency},
        }
    return {
        "reference": booking.reference,
        "status": booking.status,
        "status_reason": booking.status_reason,
        "departure_id": booking.departure_id,
        "requested_departure_id": booking.requested_departure_id,
        "service": departure.service.code,
        "origin": legs[0]["from_hub"],
        "destination": legs[-1]["to_hub"],
        "cutoff_at": cutoff_at,
        "departs_at": legs[0]["departs_at"],
        "arrives_at": legs[-1]["arrives_at"],
        "handover": {"hub": legs[0]["from_hub"], "cutoff_at": cutoff_at},
        "final_destination": legs[-1]["to_hub"],
        "legs": legs,
        "consignee": booking.consignee,
        "cargo": [
            {
                "description": line.description,
                "hs_code": line.hs_code,
                "packages": line.packages,
                "package_type": line.package_type,
                "package_code": package_code(line.package_type),
                "length_cm": line.length_cm,
                "width_cm": line.width_cm,
                "height_cm": line.height_cm,
                "weight_kg": line.weight_kg,
                "stackable": line.stackable,
                "vertical": vertical_sides(line.package_type, line.vertical),
                "dangerous_goods": {"un_number": line.un_number, "dg_class": line.dg_class, "packing_group": line.packing_group,
                                    **(line.dg_declaration or {})}
                if line.dg_class
                else None,
                "temperature_c": {"min_c": line.temperature_min_c, "max_c": line.temperature_max_c}
                if line.temperature_min_c is not None
                else None,
                "volume_cbm": line.volume_cbm,
                "chargeable_cbm": line.chargeable_cbm,
            }
            for line in booking.lines
        ],
        "references": booking.references,
        "allow_rollover": booking.allow_rollover,
        "pieces": booking.pieces,
        "weight_kg": booking.weight_kg,
        "volume_cbm": booking.volume_cbm,
        "declared_chargeable_cbm": booking.declared_chargeable_cbm,
        "chargeable_explained": core.explain_chargeable(booking.lines, departure.service.weight_per_cbm_kg).as_json(),
        "chargeable_cbm": booking.chargeable_cbm,
        "price": {"amount": booking.price_amount, "currency": booking.currency},
        **price_lines_and_terms(booking),
        "measured": measured,
        "version": booking.version,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
    }

