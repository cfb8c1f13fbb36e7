"""A new booking on a departure: CONFIRMED if it packs, else rolled over (if allowed) or WAITLISTED.

A booking of a quote option goes to ``quoted``; both are decided before the booking
is written, so it is written once with its outcome (``rules.insert_new``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import Caller
from app.booking_desk.quoted import book_quote_option
from app.booking_desk.rules import (
    apply_cargo, before_cutoff, check_pieces, hub_of_route, insert_new, new_booking, price_booking,
    roll_over,
)
from app.bookings.cargo import check_cargo
from app.bookings.models import Booking
from app.bookings.schemas import BookingCreate
from app.bookings.status import S, transition
from app.consolidation import space
from app.errors import Unprocessable
from app.network.service import route_hubs
from app.routing import rates


async def create_booking(session: AsyncSession, caller: Caller, data: BookingCreate) -> Booking:
    """Book space: CONFIRMED if it fits, else rolled to a later departure (if allowed) or WAITLISTED."""
    if data.quote_option_id is not None:
        return await book_quote_option(session, caller, data)
    if data.cargo is None:
        raise Unprocessable("cargo", "give the cargo lines when booking a departure")
    departure, terms = await rates.departure_with_terms(session, data.departure_id)  # locked, with its rate card
    before_cutoff(departure, "booking")
    service = departure.service
    route = route_hubs(service)
    route_codes = [hub.code for hub in route]
    origin = await hub_of_route(session, data.origin, route, "origin") if data.origin else service.origin
    destination = (
        await hub_of_route(session, data.destination, route, "destination") if data.destination else service.destination
    )
    if origin.code not in route_codes[:-1]:
        raise Unprocessable("origin", f"service {service.code} does not load cargo at {origin.code}")
    if destination.code not in route_codes[route_codes.index(origin.code) + 1:]:
        raise Unprocessable("destination", f"service {service.code} does not reach {destination.code} after {origin.code}")
    totals, lines = check_cargo(data.cargo, service)
    await check_pieces(session, departure, data.cargo)

    booking = new_booking(caller, data, departure, origin, destination)
    apply_cargo(booking, totals, lines, service)
    # Decide before inserting, so the booking is written once with its outcome.
    target = departure
    if await space.reserve(session, departure, booking):
        transition(booking, S.CONFIRMED)
    elif data.allow_rollover and (later := await roll_over(session, booking, departure)):
        target = later
        transition(booking, S.CONFIRMED, f"rolled over from the full departure {departure.id}")
    else:
        transition(booking, S.WAITLISTED, f"departure {departure.id} has no room for {booking.chargeable_cbm} CBM")
    booking.departure = target
    await price_booking(session, booking, target, totals.occupied_cbm, totals.weight_kg,
                        terms if target is departure else None)
    await insert_new(session, booking)
    return booking
