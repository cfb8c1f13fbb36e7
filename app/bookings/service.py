"""Booking rules: chargeable volume, the status machine, space control, amendments and receipt."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import Caller
from app.bookings.models import Booking, CargoLine
from app.bookings.schemas import (
    SPACE_HOLDING,
    BookingCreate,
    BookingStatus,
    BookingUpdate,
    CargoLineIn,
    DeliveryIn,
    ReceiptIn,
)
from app.consolidation import space
from app.db import DriverStatement, utcnow
from app.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired, Unprocessable
from app.fields import dg_class_forbidden
from app.network.models import Departure, Hub, Service
from app.network.schemas import DepartureStatus
from app.network.service import (
    departure_for_booking, get_departure, get_hub, hubs_named, is_open_for_booking, lock_departures, route_hubs,
)
from app.routing import rates
from app.routing.models import BookingLeg
from app.routing.pricing import CargoFigures, RateTerms
from app.routing.pricing import price as price_breakdown

# Height a non-stackable package blocks: nothing can stand on it (metres).
NON_STACKABLE_HEIGHT_M = 2.39
MINIMUM_CHARGEABLE_CBM = 1.0

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
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# --- pure computations --------------------------------------------------------

@dataclass(frozen=True)
class LineFigures:
    volume_cbm: float
    occupied_cbm: float
    chargeable_cbm: float
    footprint_m2: float


def line_figures(line: CargoLineIn, weight_per_cbm_kg: float) -> LineFigures:
    """Volume from the package dimensions; a non-stackable line occupies footprint × 2.39 m."""
    volume = line.packages * line.length_cm * line.width_cm * line.height_cm / 1_000_000
    footprint = line.packages * line.length_cm * line.width_cm / 10_000
    occupied = volume if line.stackable else max(volume, footprint * NON_STACKABLE_HEIGHT_M)
    return LineFigures(
        volume_cbm=round(volume, 3),
        occupied_cbm=occupied,
        chargeable_cbm=round(max(occupied, line.weight_kg / weight_per_cbm_kg), 3),
        footprint_m2=0.0 if line.stackable else footprint,
    )


def chargeable_cbm(occupied_cbm: float, weight_kg: float, weight_per_cbm_kg: float) -> float:
    """W/M: the larger of volume and weight ÷ ratio, and at least 1 CBM per booking."""
    return round(max(occupied_cbm, weight_kg / weight_per_cbm_kg, MINIMUM_CHARGEABLE_CBM), 3)


def price_for(service: Service, chargeable: float) -> Decimal:
    amount = max(service.rate_per_cbm * Decimal(str(chargeable)), service.minimum_charge)
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def booking_figures(booking: Booking, chargeable: float) -> CargoFigures:
    """What the rate card prices: the chargeable volume, DG, reefer, the non-stackable footprint."""
    return CargoFigures(
        chargeable_cbm=chargeable,
        dangerous_goods=bool(booking.dg_classes),
        reefer=booking.temperature_min_c is not None,
        non_stackable_footprint_m2=booking.footprint_m2 or 0.0,
    )


async def _booking_price(
    session: AsyncSession, booking: Booking, departure: Departure, occupied_cbm: float, weight_kg: float
) -> Decimal:
    """The price of the booking's cargo figures.

    A booking made from a quote keeps the rate terms held on its legs (each leg
    charged under its own service's W/M ratio, whose chargeable volume is kept
    current on the leg); any other booking is priced by
    the rate card covering its departure, or the service's own rate fields.
    """
    legs = await rates.held_legs(session, booking.id) if booking.id is not None else []
    if legs:
        total = Decimal("0.00")
        for leg in legs:
            # The leg's own chargeable volume follows the cargo too: a feeder departure counts it as booked.
            leg.chargeable_cbm = chargeable_cbm(occupied_cbm, weight_kg, leg.weight_per_cbm_kg)
            total += price_breakdown(RateTerms.from_json(leg.terms), booking_figures(booking, leg.chargeable_cbm)).total
        return total
    service = departure.service
    terms = await rates.terms_for_departure(session, service, departure.departs_at)
    booking.currency = terms.currency
    chargeable = chargeable_cbm(occupied_cbm, weight_kg, service.weight_per_cbm_kg)
    return price_breakdown(terms, booking_figures(booking, chargeable)).total


def difference_pct(measured: float, declared: float) -> float:
    return round((measured - declared) / declared * 100, 2) if declared else 0.0


def etag(booking: Booking) -> str:
    return f'"{booking.reference}-v{booking.version}"'


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


# --- space control --------------------------------------------------------------

async def booked_cbm_by_departure(session: AsyncSession, departure_ids: list[int]) -> dict[int, float]:
    """Chargeable CBM held by space-holding bookings, per departure: its own bookings, and
    quoted bookings riding it on a feeder leg (charged by that leg's service's W/M ratio)."""
    if not departure_ids:
        return {}
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
    booked: dict[int, float] = {}
    for departure_id, total in [*own, *feeders]:
        booked[departure_id] = booked.get(departure_id, 0.0) + float(total or 0.0)
    return booked


async def free_cbm(session: AsyncSession, departure: Departure, cbm_per_teu: float, exclude: int | None = None) -> float:
    """Space left on a departure (its row lock must be held to rely on it)."""
    query = select(func.coalesce(func.sum(Booking.chargeable_cbm), 0.0)).where(
        Booking.departure_id == departure.id, Booking.status.in_([s.value for s in SPACE_HOLDING])
    )
    if exclude is not None:
        query = query.where(Booking.id != exclude)
    booked = float(await session.scalar(query) or 0.0)
    return departure.capacity_teu * cbm_per_teu - booked


async def _fits(
    session: AsyncSession, departure: Departure, booking: Booking | float, cbm_per_teu: float, exclude: int | None = None
) -> bool:
    """Whether ``booking`` fits the departure as actually planned (the departure's row lock must be held).

    The departure's space-holding bookings plus this one must pack into
    containers within ``capacity_teu`` — destinations, reefers and DG classes
    split containers (app/consolidation/space.py); when they do, the booking's
    place in that packing is written. Given a bare volume instead of a booking,
    the older rule applies: the chargeable CBM must fit ``capacity_teu × cbm_per_teu``.
    """
    if isinstance(booking, Booking):
        return await space.reserve(session, departure, booking)
    return await free_cbm(session, departure, cbm_per_teu, exclude) + 1e-9 >= booking


async def _later_departures(session: AsyncSession, departure: Departure) -> list[int]:
    now = utcnow()
    rows = await session.scalars(
        select(Departure.id)
        .where(
            Departure.service_id == departure.service_id,
            Departure.departs_at > departure.departs_at,
            Departure.status == "OPEN",
            Departure.cutoff_at > now,
        )
        .order_by(Departure.departs_at, Departure.id)
        .limit(8)
    )
    return list(rows)


async def promote_waitlist(session: AsyncSession, departure: Departure, cbm_per_teu: float) -> list[Booking]:
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


# --- cargo ---------------------------------------------------------------------

@dataclass
class CargoTotals:
    pieces: int
    weight_kg: float
    volume_cbm: float
    occupied_cbm: float
    chargeable_cbm: float
    dg_classes: list[str]
    temperature_min_c: float | None
    temperature_max_c: float | None
    stackable: bool
    footprint_m2: float | None
    lines: list[CargoLine]


# One booking is at most this much cargo, declared or measured: a whole train holds some
# 4,000 CBM. It also keeps every price within its column (14 digits) at the highest rates.
MAX_BOOKING_CBM = 100_000


def check_size(volume_cbm: float, chargeable: float, field: str) -> None:
    for what, cbm in (("volume", volume_cbm), ("chargeable volume (W/M)", chargeable)):
        if cbm > MAX_BOOKING_CBM:
            raise Unprocessable(field, f"the cargo's {what} of {cbm:,.0f} CBM is more than one booking takes "
                                       f"({MAX_BOOKING_CBM:,} CBM)")


def check_cargo(cargo: list[CargoLineIn], service: Service, field: str = "cargo") -> CargoTotals:
    """Apply the service's rules to the cargo and compute the booking's figures."""
    lines: list[CargoLine] = []
    temp_min, temp_max = -1000.0, 1000.0
    with_temperature = 0
    occupied = footprint = 0.0
    for index, line in enumerate(cargo):
        if line.dangerous_goods and dg_class_forbidden(line.dangerous_goods.dg_class, service.forbidden_dg_classes):
            raise Unprocessable(
                f"{field}.{index}.dangerous_goods.class",
                f"service {service.code} does not carry dangerous goods of class {line.dangerous_goods.dg_class}",
            )
        if line.temperature_c:
            if not service.reefer_allowed:
                raise Unprocessable(
                    f"{field}.{index}.temperature_c", f"service {service.code} takes no temperature-controlled cargo"
                )
            with_temperature += 1
            temp_min, temp_max = max(temp_min, line.temperature_c.min_c), min(temp_max, line.temperature_c.max_c)
        figures = line_figures(line, service.weight_per_cbm_kg)
        occupied += figures.occupied_cbm
        footprint += figures.footprint_m2
        dg = line.dangerous_goods
        lines.append(
            CargoLine(
                sequence=index + 1,
                description=line.description,
                hs_code=line.hs_code,
                packages=line.packages,
                package_type=line.package_type.value,
                length_cm=line.length_cm,
                width_cm=line.width_cm,
                height_cm=line.height_cm,
                weight_kg=line.weight_kg,
                stackable=line.stackable,
                un_number=dg.un_number if dg else None,
                dg_class=dg.dg_class if dg else None,
                packing_group=dg.packing_group.value if dg and dg.packing_group else None,
                temperature_min_c=line.temperature_c.min_c if line.temperature_c else None,
                temperature_max_c=line.temperature_c.max_c if line.temperature_c else None,
                volume_cbm=figures.volume_cbm,
                chargeable_cbm=figures.chargeable_cbm,
            )
        )
    if with_temperature and with_temperature != len(cargo):
        missing = next(i for i, line in enumerate(cargo) if line.temperature_c is None)
        raise Unprocessable(
            f"{field}.{missing}.temperature_c",
            "one booking travels in one container climate: give every line a temperature range, or none",
        )
    if with_temperature and temp_min > temp_max:
        raise Unprocessable(f"{field}", "the lines' temperature ranges have no common set point")
    weight = sum(line.weight_kg for line in cargo)
    check_size(sum(line.volume_cbm for line in lines), chargeable_cbm(occupied, weight, service.weight_per_cbm_kg), field)
    return CargoTotals(
        pieces=sum(line.packages for line in cargo),
        weight_kg=round(weight, 3),
        volume_cbm=round(sum(line.volume_cbm for line in lines), 3),
        occupied_cbm=occupied,
        chargeable_cbm=chargeable_cbm(occupied, weight, service.weight_per_cbm_kg),
        dg_classes=sorted({line.dg_class for line in lines if line.dg_class}),
        temperature_min_c=temp_min if with_temperature else None,
        temperature_max_c=temp_max if with_temperature else None,
        stackable=footprint == 0.0,
        footprint_m2=round(footprint, 3) if footprint else None,
        lines=lines,
    )


async def _check_pieces(session: AsyncSession, departure: Departure, cargo: list[CargoLineIn]) -> None:
    """Every package fits some container type of the departure's service, by weight and by size:
    422 on the first that does not (quotes leave such a service out for the same reason)."""
    from app.routing.service import container_info, piece_misfit  # the quote side's rule, shared

    reefer = any(line.temperature_c for line in cargo)
    types = await space.planner_types(session, departure)
    usable = [container_info(t.code, t.payload_kg, t.inner_height_m, t.reefer) for t in types if t.reefer or not reefer]
    misfit = piece_misfit(cargo, usable, departure.service.code, [t.code for t in types]) if usable else None
    if misfit is not None:
        raise Unprocessable(misfit.field, misfit.detail)


def _apply_cargo(booking: Booking, totals: CargoTotals, service: Service) -> None:
    _apply_figures(booking, totals)
    booking.currency = service.currency
    booking.price_amount = price_for(service, totals.chargeable_cbm)


def cargo_booking(totals: CargoTotals) -> Booking:
    """A transient booking that carries only the cargo (what space control packs), for an estimate; never written."""
    booking = Booking(version=1, created_at=utcnow())
    _apply_figures(booking, totals)
    return booking


def _apply_figures(booking: Booking, totals: CargoTotals) -> None:
    booking.lines = totals.lines
    booking.pieces = totals.pieces
    booking.weight_kg = totals.weight_kg
    booking.volume_cbm = totals.volume_cbm
    booking.declared_chargeable_cbm = totals.chargeable_cbm
    booking.chargeable_cbm = totals.chargeable_cbm
    booking.dg_classes = totals.dg_classes
    booking.temperature_min_c = totals.temperature_min_c
    booking.temperature_max_c = totals.temperature_max_c
    booking.stackable = totals.stackable
    booking.footprint_m2 = totals.footprint_m2


def _new_reference() -> str:
    return "CVN" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


# --- use cases -------------------------------------------------------------------

async def _hub_of_route(session: AsyncSession, place: str, route: list[Hub], field: str) -> Hub:
    """The hub of the service's route named by its hub code or UN/LOCODE; else whichever hub the
    place names (which the caller then finds off the route), or a 422 on ``field``."""
    on_route = hubs_named(place, route)
    if len(on_route) == 1:
        return on_route[0]
    return await get_hub(session, place, field)


async def create_booking(session: AsyncSession, caller: Caller, data: BookingCreate, cbm_per_teu: float) -> Booking:
    """Book space: CONFIRMED if it fits, else rolled to a later departure (if allowed) or WAITLISTED."""
    if data.quote_option_id is not None:
        from app.routing import service as quotes  # the quote side builds on these rules

        return await quotes.book_quote_option(session, caller, data, cbm_per_teu)
    if data.cargo is None:
        raise Unprocessable("cargo", "give the cargo lines when booking a departure")
    departure = await departure_for_booking(session, data.departure_id)
    _before_cutoff(departure, "booking")
    service = departure.service
    route = route_hubs(service)
    route_codes = [hub.code for hub in route]
    origin = await _hub_of_route(session, data.origin, route, "origin") if data.origin else service.origin
    destination = (
        await _hub_of_route(session, data.destination, route, "destination") if data.destination else service.destination
    )
    if origin.code not in route_codes[:-1]:
        raise Unprocessable("origin", f"service {service.code} does not load cargo at {origin.code}")
    if destination.code not in route_codes[route_codes.index(origin.code) + 1:]:
        raise Unprocessable("destination", f"service {service.code} does not reach {destination.code} after {origin.code}")
    totals = check_cargo(data.cargo, service)
    await _check_pieces(session, departure, data.cargo)

    booking = Booking(
        reference=_new_reference(),
        organization_id=caller.organization_id,
        requested_departure_id=departure.id,
        status=S.RECEIVED.value,
        origin=origin,
        destination=destination,
        consignee=data.consignee.model_dump(mode="json"),
        references=[r.model_dump(mode="json") for r in data.references],
        allow_rollover=data.allow_rollover,
        measurement_discrepancy=False,
        version=1,
    )
    _apply_cargo(booking, totals, service)
    # Decide before inserting, so the booking is written once with its outcome.
    target = departure
    if await _fits(session, departure, booking, cbm_per_teu):
        transition(booking, S.CONFIRMED)
    elif data.allow_rollover and (later := await _roll_over(session, booking, departure, cbm_per_teu)):
        target = later
        transition(booking, S.CONFIRMED, f"rolled over from the full departure {departure.id}")
    else:
        transition(booking, S.WAITLISTED, f"departure {departure.id} has no room for {booking.chargeable_cbm} CBM")
    booking.departure = target
    booking.price_amount = await _booking_price(session, booking, target, totals.occupied_cbm, totals.weight_kg)
    await insert_new(session, booking)
    return booking


_BOOKING_COLUMNS = [c.key for c in Booking.__table__.columns if c.key != "id"]
_LINE_COLUMNS = [c.key for c in CargoLine.__table__.columns if c.key not in ("id", "booking_id")]
_INSERT_BOOKING = DriverStatement(insert(Booking.__table__).returning(Booking.__table__.c.id), _BOOKING_COLUMNS)
_INSERT_LINES = DriverStatement(insert(CargoLine.__table__), ["booking_id", *_LINE_COLUMNS])


async def insert_new(session: AsyncSession, booking: Booking) -> None:
    """Write a new booking (decided, not yet added to the session) with Core statements, and give it its id.

    One INSERT for the booking, one for its lines, then its place in the departure's
    packing (``space.write_reservation``) and what its status change publishes
    (tracking: the SHIPMENT event, legs on confirmation, webhook outbox rows). The
    ORM's unit of work for the same rows cost more CPU than the whole booking
    decision; the booking stays out of the session, so nothing writes it twice.
    """
    from app.tracking.service import publish_new_booking  # tracking builds on bookings

    booking.departure_id = booking.departure.id
    booking.origin_hub_id, booking.destination_hub_id = booking.origin.id, booking.destination.id
    booking.created_at = booking.updated_at
    values = {column: getattr(booking, column) for column in _BOOKING_COLUMNS}
    (booking.id,) = await _INSERT_BOOKING.one(session, values)
    await _INSERT_LINES.many(
        session, [{"booking_id": booking.id, **{c: getattr(line, c) for c in _LINE_COLUMNS}} for line in booking.lines]
    )
    await space.write_reservation(session, booking)
    await publish_new_booking(session, booking)


async def _roll_over(session: AsyncSession, booking: Booking, departure: Departure, cbm_per_teu: float) -> Departure | None:
    """The next departure of the same service with room, locked; None when none has.

    Locks are taken in departure-time order, so two roll-overs cannot deadlock.
    """
    for departure_id in await _later_departures(session, departure):
        later = await get_departure(session, departure_id, lock=True)
        if is_open_for_booking(later, utcnow()) and await _fits(session, later, booking, cbm_per_teu):
            return later
    return None


async def move_off_cancelled_departure(session: AsyncSession, departure: Departure, cbm_per_teu: float) -> None:
    """The hub cancelled ``departure`` (its row lock held): settle every booking on it.

    Cargo already at the CFS, and confirmed bookings that allow roll-over, move to the
    next departure of the service with room (and are confirmed there again, which
    tracking reports with the reason); other confirmed and waitlisted bookings are
    cancelled with the reason. Received cargo for which no departure has room stays
    on the cancelled departure for the operator to place, marked in its reason.
    Quoted bookings that ride it on a feeder leg keep their own departure; tracking
    flags their connection at risk (a RISK event names the cancelled departure).
    """
    from app.tracking.models import Leg

    bookings = list(await session.scalars(
        select(Booking)
        .where(Booking.departure_id == departure.id, Booking.status.in_([S.CONFIRMED, S.WAITLISTED, S.CARGO_RECEIVED]))
        .order_by(Booking.id)
    ))
    now = utcnow()
    for booking in bookings:
        status = BookingStatus(booking.status)
        movable = status is S.CARGO_RECEIVED or (status is S.CONFIRMED and booking.allow_rollover)
        later = await _roll_over(session, booking, departure, cbm_per_teu) if movable else None
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
    from app.tracking.service import feeder_departure_cancelled  # tracking builds on bookings

    await feeder_departure_cancelled(session, departure.id, now)


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


Feeders = list[tuple[Departure, str]]  # a quoted booking's feeder departures, each with where the cargo leaves it


async def _get_locked(session: AsyncSession, caller: Caller, reference: str) -> tuple[Booking, Departure, Feeders]:
    """The booking with the row lock of every departure it rides held, both read again under the locks.

    Its own departure, and for a booking made from a quote the departures of its
    feeder legs, locked in the one order every path takes (``lock_departures``: when each
    leaves its origin, as roll-overs lock too), so none can deadlock another. The feeders come back with the
    UN/LOCODE where the cargo leaves each; empty for a booking of one departure.
    """
    for _ in range(3):
        booking = await get_booking(session, caller, reference)
        departure_id = booking.departure_id
        legs = await rates.held_legs(session, booking.id)
        feeder_legs = [leg for leg in legs if leg.departure_id != departure_id]
        locked = await lock_departures(session, {leg.departure_id for leg in legs}) if feeder_legs else {}
        departure = locked.get(departure_id) or await get_departure(session, departure_id, lock=True)
        await session.refresh(booking)
        if booking.departure_id == departure_id:  # not moved to another departure before the lock
            feeders = [(locked[leg.departure_id], (await session.get(Hub, leg.to_hub_id)).un_locode)
                       for leg in feeder_legs]
            return booking, departure, feeders
    raise Conflict(f"booking {reference} is being moved between departures; try again")


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


def _check_if_match(booking: Booking, if_match: str | None) -> None:
    if not if_match:
        raise PreconditionRequired("amendments need If-Match with the booking's ETag")
    candidates = [tag.strip() for tag in if_match.split(",")]
    if "*" not in candidates and etag(booking) not in candidates:
        raise PreconditionFailed(f"the booking changed; its ETag is now {etag(booking)}")


def _before_cutoff(departure: Departure, action: str) -> None:
    if not is_open_for_booking(departure, utcnow()):
        raise Conflict(f"{action} is possible only before the cut-off ({departure.cutoff_at.isoformat()}) of an open departure")


# A feeder in one of these has taken the cargo (or is past taking changes to it).
_FEEDER_GONE = (DepartureStatus.DEPARTED.value, DepartureStatus.ARRIVED.value)


def _before_every_cutoff(departure: Departure, feeders: Feeders, action: str, *, amending: bool) -> None:
    """Before the cut-off of every departure the booking rides: a quoted itinerary's first truck
    or barge closes before its train, and cargo cannot change once it has left.

    A feeder the hub cancelled or closed does not keep the exporter from cancelling (the
    booking is at risk; withdrawing it must stay possible); amending needs every feeder open.
    """
    now = utcnow()
    for ridden, _ in sorted(feeders, key=lambda feeder: feeder[0].cutoff_at):
        if now >= ridden.cutoff_at or ridden.status in _FEEDER_GONE:
            raise Conflict(f"{action} is possible only before the cut-off ({ridden.cutoff_at.isoformat()}) of every "
                           f"leg of the itinerary; departure {ridden.id} ({ridden.service.mode}) has closed")
        if amending and ridden.status != DepartureStatus.OPEN.value:
            raise Conflict(f"{action} needs every leg of the itinerary open; departure {ridden.id} "
                           f"({ridden.service.mode}) is {ridden.status}")
    _before_cutoff(departure, action)


async def amend_booking(
    session: AsyncSession, caller: Caller, reference: str, data: BookingUpdate, if_match: str | None, cbm_per_teu: float
) -> Booking:
    booking, departure, feeders = await _get_locked(session, caller, reference)
    _check_if_match(booking, if_match)
    if booking.status not in AMENDABLE:
        raise Conflict(f"a {booking.status} booking can no longer be amended")
    _before_every_cutoff(departure, feeders, "amending", amending=True)
    service = departure.service
    held_before = booking.chargeable_cbm
    if data.cargo is not None:
        totals = check_cargo(data.cargo, service)
        await _check_pieces(session, departure, data.cargo)
        _apply_cargo(booking, totals, service)
        if booking.status == S.CONFIRMED:
            for ridden, alight_at in [(departure, None), *feeders]:
                if not await space.reserve(session, ridden, booking, alight_at):
                    raise Conflict(
                        f"the amended cargo ({totals.chargeable_cbm} CBM) does not fit departure {ridden.id} "
                        f"as planned within its {ridden.capacity_teu} TEU"
                    )
        booking.price_amount = await _booking_price(session, booking, departure, totals.occupied_cbm, totals.weight_kg)
    if data.consignee is not None:
        booking.consignee = data.consignee.model_dump(mode="json")
    if data.references is not None:
        booking.references = [r.model_dump(mode="json") for r in data.references]
    if data.allow_rollover is not None:
        booking.allow_rollover = data.allow_rollover
    booking.version += 1
    booking.updated_at = utcnow()
    await session.flush()
    if booking.status == S.WAITLISTED or booking.chargeable_cbm < held_before:
        await promote_waitlist(session, departure, cbm_per_teu)
    return booking


async def cancel_booking(session: AsyncSession, caller: Caller, reference: str, cbm_per_teu: float) -> Booking:
    booking, departure, feeders = await _get_locked(session, caller, reference)
    held_space = booking.status in SPACE_HOLDING
    if BookingStatus.CANCELLED not in TRANSITIONS[BookingStatus(booking.status)]:
        raise Conflict(f"a {booking.status} booking cannot be cancelled")
    _before_every_cutoff(departure, feeders, "cancelling", amending=False)
    transition(booking, S.CANCELLED, "cancelled by the exporter" if not caller.is_operator else "cancelled by the operator")
    booking.version += 1
    await session.flush()
    if held_space:
        await _release(session, departure, feeders, cbm_per_teu)
    return booking


async def _release(session: AsyncSession, departure: Departure, feeders: Feeders, cbm_per_teu: float) -> None:
    """A booking no longer holds space: offer it to the waitlists of every departure it rode (locks held)."""
    for ridden in [departure, *(feeder for feeder, _ in feeders)]:
        await promote_waitlist(session, ridden, cbm_per_teu)


async def reject_booking(session: AsyncSession, caller: Caller, reference: str, reason: str, cbm_per_teu: float) -> Booking:
    booking, departure, feeders = await _get_locked(session, caller, reference)
    held_space = booking.status in SPACE_HOLDING
    transition(booking, S.REJECTED, reason)
    booking.version += 1
    await session.flush()
    if held_space:
        await _release(session, departure, feeders, cbm_per_teu)
    return booking


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
    booking, departure, _ = await _get_locked(session, caller, reference)
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
    blocked_above = _occupied_uplift(booking)
    booking.measured_pieces = data.pieces
    booking.measured_weight_kg = data.weight_kg
    booking.measured_volume_cbm = data.volume_cbm
    booking.received_at = received_at
    booking.chargeable_cbm = chargeable_cbm(data.volume_cbm + blocked_above, data.weight_kg, service.weight_per_cbm_kg)
    check_size(data.volume_cbm, booking.chargeable_cbm, "lines" if data.lines else "volume_cbm")
    booking.measured_price_amount = await _booking_price(
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


def _occupied_uplift(booking: Booking) -> float:
    """Extra volume non-stackable lines block beyond their own volume."""
    uplift = 0.0
    for line in booking.lines:
        if not line.stackable:
            footprint = line.packages * line.length_cm * line.width_cm / 10_000
            uplift += max(footprint * NON_STACKABLE_HEIGHT_M - line.volume_cbm, 0.0)
    return uplift


def booking_read(booking: Booking) -> dict:
    departure = booking.departure
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
        "origin": booking.origin.code,
        "destination": booking.destination.code,
        "cutoff_at": departure.cutoff_at,
        "departs_at": departure.departs_at,
        "consignee": booking.consignee,
        "cargo": [
            {
                "description": line.description,
                "hs_code": line.hs_code,
                "packages": line.packages,
                "package_type": line.package_type,
                "length_cm": line.length_cm,
                "width_cm": line.width_cm,
                "height_cm": line.height_cm,
                "weight_kg": line.weight_kg,
                "stackable": line.stackable,
                "dangerous_goods": {"un_number": line.un_number, "dg_class": line.dg_class, "packing_group": line.packing_group}
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
        "chargeable_cbm": booking.chargeable_cbm,
        "price": {"amount": booking.price_amount, "currency": booking.currency},
        "measured": measured,
        "version": booking.version,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
    }
