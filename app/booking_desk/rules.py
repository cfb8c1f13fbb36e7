"""What every booking change shares: the locks it takes, the cut-offs and ETags it respects, its price,
the packages a container type must take, and writing a new booking with what it publishes."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import cargo as core
from app.accounts.service import Caller
from app.bookings.cargo import apply_figures, booking_figures
from app.bookings.models import Booking, CargoLine
from app.bookings.records import etag, get_booking, new_reference
from app.bookings.schemas import BookingCreate, BookingStatus, CargoLineIn
from app.consolidation import space
from app.db import DriverStatement, utcnow
from app.errors import Conflict, PreconditionFailed, PreconditionRequired, Unprocessable
from app.network.models import Departure, Hub, Service
from app.network.schemas import DepartureStatus
from app.network.service import (
    get_departure,
    get_hub,
    hubs_named,
    is_open_for_booking,
    lock_departures,
)
from app.routing import rates
from app.tracking.publish import publish_new_booking


async def booking_price(
    session: AsyncSession, booking: Booking, departure: Departure, occupied_cbm: float, weight_kg: float
) -> Decimal:
    """The price of the booking's cargo figures (:func:`booking_breakdown`'s total)."""
    return (await booking_breakdown(session, booking, departure, occupied_cbm, weight_kg)).total


async def price_booking(
    session: AsyncSession, booking: Booking, departure: Departure, occupied_cbm: float, weight_kg: float,
    terms: core.RateTerms | None = None,
) -> None:
    """Price the booking as booked: its amount and its lines (``terms``: the departure's, when already read)."""
    breakdown = await booking_breakdown(session, booking, departure, occupied_cbm, weight_kg, terms)
    booking.price_amount = breakdown.total
    booking.price_breakdown = breakdown.as_json()


async def booking_breakdown(
    session: AsyncSession, booking: Booking, departure: Departure, occupied_cbm: float, weight_kg: float,
    terms: core.RateTerms | None = None,
) -> core.PriceBreakdown:
    """The price of the booking's cargo figures, line by line.

    A booking made from a quote keeps the rate terms held on its legs (each leg
    charged under its own service's W/M ratio, whose chargeable volume is kept
    current on the leg; the first leg carries the origin's handling and the pickup,
    the last the destination's handling and the delivery); any other booking is
    priced by the rate card covering its departure, or the service's own rate
    fields, with the handling at both ends.
    """
    legs = await rates.held_legs(session, booking.id) if booking.id is not None else []
    pickup, delivery = bool(booking.pickup), bool(booking.delivery)
    if legs:
        total = core.PriceBreakdown.zero(booking.currency)
        for index, leg in enumerate(legs):
            # The leg's own chargeable volume follows the cargo too: a feeder departure counts it as booked.
            leg.chargeable_cbm = core.chargeable_cbm(occupied_cbm, weight_kg, leg.weight_per_cbm_kg)
            ends = core.Ends.of_leg(index, len(legs), pickup=pickup, delivery=delivery)
            total = total + core.price(
                core.RateTerms.from_json(leg.terms), booking_figures(booking, leg.chargeable_cbm), ends
            )
        return total
    service = departure.service
    if terms is None:
        terms = await rates.terms_for_departure(session, service, departure.departs_at)
    booking.currency = terms.currency
    chargeable = core.chargeable_cbm(occupied_cbm, weight_kg, service.weight_per_cbm_kg)
    ends = core.Ends.of_leg(0, 1, pickup=pickup, delivery=delivery)
    return core.price(terms, booking_figures(booking, chargeable), ends)


async def check_pieces(session: AsyncSession, departure: Departure, cargo: list[CargoLineIn]) -> None:
    """Every package fits some container type of the departure's service, by weight and by size:
    422 on the first that does not (quotes leave such a service out for the same reason)."""
    reefer = any(line.temperature_c for line in cargo)
    types = await space.planner_types(session, departure)
    usable = [core.container_fit(t.code, t.payload_kg, t.inner_height_m, t.reefer) for t in types if t.reefer or not reefer]
    misfit = core.piece_misfit(cargo, usable, departure.service.code, [t.code for t in types]) if usable else None
    if misfit is None and usable and departure.service.rail_rules is not None:
        # The types' payloads are capped by the rail rules (space.planner_types): no container carries more.
        misfit = core.weight_problem(cargo, max(c.payload_kg for c in usable), departure.service.code)
    if misfit is not None:
        raise Unprocessable(misfit.field(), misfit.detail)


def apply_cargo(booking: Booking, totals: core.CargoTotals, lines: list[CargoLine], service: Service) -> None:
    """The cargo's lines and figures onto the booking, priced by the service's own rate (until a card prices it)."""
    apply_figures(booking, totals, lines)
    booking.currency = service.currency
    booking.price_amount = core.price_on_rate(service.rate_per_cbm, service.minimum_charge, totals.chargeable_cbm)


async def hub_of_route(session: AsyncSession, place: str, route: list[Hub], field: str) -> Hub:
    """The hub of the service's route named by its hub code or UN/LOCODE; else whichever hub the
    place names (which the caller then finds off the route), or a 422 on ``field``."""
    on_route = hubs_named(place, route)
    if len(on_route) == 1:
        return on_route[0]
    return await get_hub(session, place, field)


Feeders = list[tuple[Departure, str]]  # a quoted booking's feeder departures, each with where the cargo leaves it


async def locked_booking(session: AsyncSession, caller: Caller, reference: str) -> tuple[Booking, Departure, Feeders]:
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


def _entity_tag(tag: str) -> str:
    """The opaque part of an entity-tag as a client may send it: ``"CVN…-v1"``, weak
    ``W/"CVN…-v1"`` or unquoted ``CVN…-v1`` (a booking's ETag is its version whatever the form)."""
    tag = tag.strip()
    if tag[:2] in ("W/", "w/"):
        tag = tag[2:].strip()
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    return tag


def check_if_match(booking: Booking, if_match: str | None) -> None:
    """If-Match must name the booking's current version (or be ``*``); weak and unquoted forms
    of the ETag count. A 412 says the booking changed only when the tag names an older version
    of this booking; any other tag is said not to be one of its versions."""
    if not if_match or not if_match.strip():
        raise PreconditionRequired("amendments need If-Match with the booking's ETag")
    current = etag(booking)
    candidates = [_entity_tag(tag) for tag in if_match.split(",")]
    if "*" in candidates or current.strip('"') in candidates:
        return
    older = [int(match.group(1)) for tag in candidates
             if (match := re.fullmatch(rf"{re.escape(booking.reference)}-v([0-9]{{1,9}})", tag)) and int(match.group(1)) < booking.version]
    if older:
        raise PreconditionFailed(f"the booking changed since version {max(older)}; its ETag is now {current}")
    raise PreconditionFailed(f"If-Match does not name a version of this booking: send its ETag, now {current} "
                             f"(quoted as given in the ETag header; W/\"…\" and unquoted forms are accepted too)")


def before_cutoff(departure: Departure, action: str) -> None:
    if departure.status in FEEDER_GONE:
        gone = "has left (DEPARTED)" if departure.status == DepartureStatus.DEPARTED.value else "has arrived (ARRIVED)"
        raise Conflict(f"{action} is not possible: departure {departure.id} {gone}")
    if not is_open_for_booking(departure, utcnow()):
        raise Conflict(f"{action} is possible only before the cut-off ({departure.cutoff_at.isoformat()}) of an open departure")


# A feeder in one of these has taken the cargo (or is past taking changes to it).
FEEDER_GONE = (DepartureStatus.DEPARTED.value, DepartureStatus.ARRIVED.value)


def before_every_cutoff(departure: Departure, feeders: Feeders, action: str, *, amending: bool) -> None:
    """Before the cut-off of every departure the booking rides: a quoted itinerary's first truck
    or barge closes before its train, and cargo cannot change once it has left.

    A feeder the hub cancelled or closed does not keep the exporter from cancelling (the
    booking is at risk; withdrawing it must stay possible); amending needs every feeder open.
    """
    now = utcnow()
    for ridden, _ in sorted(feeders, key=lambda feeder: feeder[0].cutoff_at):
        if now >= ridden.cutoff_at or ridden.status in FEEDER_GONE:
            raise Conflict(f"{action} is possible only before the cut-off ({ridden.cutoff_at.isoformat()}) of every "
                           f"leg of the itinerary; departure {ridden.id} ({ridden.service.mode}) has closed")
        if amending and ridden.status != DepartureStatus.OPEN.value:
            raise Conflict(f"{action} needs every leg of the itinerary open; departure {ridden.id} "
                           f"({ridden.service.mode}) is {ridden.status}")
    before_cutoff(departure, action)


def new_booking(caller: Caller, data: BookingCreate, departure: Departure, origin: Hub, destination: Hub) -> Booking:
    """A booking RECEIVED from the request, not yet decided, priced or written."""
    return Booking(
        reference=new_reference(),
        organization_id=caller.organization_id,
        requested_departure_id=departure.id,
        status=BookingStatus.RECEIVED.value,
        origin=origin,
        destination=destination,
        consignee=data.consignee.model_dump(mode="json"),
        references=[r.model_dump(mode="json") for r in data.references],
        allow_rollover=data.allow_rollover,
        incoterm=data.incoterm,
        pickup=False,
        delivery=False,
        price_breakdown=None,
        measurement_discrepancy=False,
        version=1,
    )


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


async def later_departures(session: AsyncSession, departure: Departure) -> list[int]:
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


async def roll_over(session: AsyncSession, booking: Booking, departure: Departure) -> Departure | None:
    """The next departure of the same service with room, locked; None when none has.

    Locks are taken in departure-time order, so two roll-overs cannot deadlock.
    """
    for departure_id in await later_departures(session, departure):
        later = await get_departure(session, departure_id, lock=True)
        if is_open_for_booking(later, utcnow()) and await space.reserve(session, later, booking):
            return later
    return None

