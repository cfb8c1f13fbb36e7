"""Booking a quote option: the quoted itinerary at the held price, with space on every departure it rides."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.service import Caller
from app.booking_desk.rules import apply_cargo, before_cutoff, insert_new, new_booking
from app.bookings.cargo import check_cargo
from app.bookings.models import Booking, BookingLeg
from app.bookings.schemas import BookingCreate, BookingStatus, CargoLineIn
from app.bookings.status import transition
from app.consolidation import space
from app.db import utcnow
from app.errors import Conflict, Unprocessable
from app.network.models import Hub
from app.network.service import is_open_for_booking, lock_departures
from app.routing.quotes import booking_reference_of, get_option
from app.tracking.legs import itinerary_legs


def hold_door_services(booking: Booking, held: dict, price: dict) -> None:
    """The option's price lines, its pickup and delivery, and its Incoterm unless the booking names its own
    (an option quoted before these were kept has none: no pickup, no delivery, no Incoterm)."""
    booking.price_breakdown = price
    booking.pickup = bool(held.get("pickup", False))
    booking.delivery = bool(held.get("delivery", False))
    booking.incoterm = booking.incoterm or held.get("incoterm")


async def book_quote_option(session: AsyncSession, caller: Caller, data: BookingCreate) -> Booking:
    """Book the option's itinerary at the held price.

    The booking holds space on every departure it rides: the main leg's (the
    longest ride), which is the booking's own, and each feeder leg's (road,
    barge, air), packed to where it leaves that departure. The departures are
    locked in departure-time order, as roll-overs lock them, so two bookings
    cannot deadlock. Every leg is stored in ``booking_legs`` with the rate terms
    it was priced with. The cargo is the quoted cargo (if sent, it must equal
    it). An option is booked once, by its own organisation, before
    ``valid_until``. When the main departure has filled up since the quote, a
    one-leg itinerary is WAITLISTED there (no roll-over: a later train would
    break the connections); an itinerary with feeder legs, or one whose feeder
    has filled up, is refused (409): a waitlist cannot hold its connections.
    """
    if data.allow_rollover:
        raise Unprocessable("allow_rollover", "a booking made from a quote option keeps its itinerary and never rolls "
                                              "over (a later train would miss its connections); leave it out")
    option = await get_option(session, caller, data.quote_option_id or "", lock=True)
    now = utcnow()
    if option.booking_id is not None:
        reference = await booking_reference_of(session, option)
        raise Conflict(f"quote option {option.public_id} is already booked as {reference}")
    if now >= option.valid_until:
        raise Conflict(
            f"quote option {option.public_id} expired at {option.valid_until.isoformat()}; ask for a new quote"
        )
    quoted = [CargoLineIn.model_validate(line) for line in option.cargo]
    if data.cargo is not None and [line.model_dump() for line in data.cargo] != [line.model_dump() for line in quoted]:
        raise Unprocessable("cargo", "must equal the quoted cargo; leave it out to book the quoted cargo, or ask a new quote")
    legs = option.legs
    main = legs[option.main_leg]
    for field_name, given, allowed in (
        ("origin", data.origin, {option.origin, legs[0]["from_hub"], main["from_hub"]}),
        ("destination", data.destination, {option.destination, legs[-1]["to_hub"], main["to_hub"]}),
    ):
        if given is not None and given not in allowed:
            raise Unprocessable(field_name, f"the quote option runs {option.origin} to {option.destination}")
    departures = await lock_departures(session, {leg["departure_id"] for leg in legs})
    departure = departures[main["departure_id"]]
    before_cutoff(departure, "booking")
    for other in departures.values():
        if other.id != departure.id and not is_open_for_booking(other, now):
            raise Conflict(f"departure {other.id} ({other.service.code}) of this option is no longer open for booking")
    service = departure.service
    totals, lines = check_cargo(quoted, service)
    hubs = {
        hub.code: hub
        for hub in await session.scalars(
            select(Hub).where(Hub.code.in_({leg["from_hub"] for leg in legs} | {leg["to_hub"] for leg in legs}))
        )
    }
    booking = new_booking(caller, data, departure, hubs[main["from_hub"]], hubs[main["to_hub"]])
    apply_cargo(booking, totals, lines, service)
    booking.currency = option.currency
    booking.price_amount = option.price_amount
    hold_door_services(booking, option.figures, option.price)
    feeders = [(departures[leg["departure_id"]], hubs[leg["to_hub"]].un_locode)
               for leg in legs if leg["departure_id"] != departure.id]
    full = f"has filled up since the quote and has no room for {booking.chargeable_cbm} CBM"
    if await space.reserve(session, departure, booking):  # packs it as space control plans it
        for feeder, alight_at in feeders:
            if not await space.reserve(session, feeder, booking, alight_at):
                raise Conflict(f"departure {feeder.id} ({feeder.service.code}) of this option {full}; ask for a new quote")
        transition(booking, BookingStatus.CONFIRMED, f"booked from quote option {option.public_id}")
    elif feeders:
        raise Conflict(f"departure {departure.id} ({service.code}) of this option {full}; ask for a new quote")
    else:
        transition(booking, BookingStatus.WAITLISTED, f"departure {departure.id} {full}")
    booking.departure = departure
    await insert_new(session, booking)
    booking_legs = []
    for sequence, leg in enumerate(legs, start=1):
        leg_departure = departures[leg["departure_id"]]
        booking_legs.append(
            BookingLeg(
                booking_id=booking.id,
                sequence=sequence,
                main=sequence - 1 == option.main_leg,
                service_id=leg_departure.service_id,
                departure=leg_departure,
                mode=leg["mode"],
                from_hub=hubs[leg["from_hub"]],
                to_hub=hubs[leg["to_hub"]],
                cutoff_at=datetime.fromisoformat(leg["cutoff_at"]),
                departs_at=datetime.fromisoformat(leg["departs_at"]),
                arrives_at=datetime.fromisoformat(leg["arrives_at"]),
                weight_per_cbm_kg=leg["weight_per_cbm_kg"],
                chargeable_cbm=leg["chargeable_cbm"],
                currency=leg["price"]["currency"],
                price_amount=Decimal(leg["price"]["total"]),
                terms=leg["terms"],
            )
        )
    session.add_all(booking_legs)
    set_committed_value(booking, "legs", booking_legs)  # the answer shows them (the booking is not in the session)
    option.booking_id = booking.id
    await session.flush()
    await itinerary_legs(session, booking)  # tracking legs per quoted leg, not the main departure's alone
    return booking

