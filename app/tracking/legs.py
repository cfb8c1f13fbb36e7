"""A departure's live timetable (its calls) and the legs of the bookings riding it.

TRANSPORT events set a call's reported estimate (EST), actual time (ACT) or plan (PLN); the
estimates of every later call are then derived again from those facts (``derive_estimates``),
so a delay at any stop shifts the rest of the run and late or out-of-order events give the
same answer as in-order ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.bookings.models import Booking, BookingLeg
from app.bookings.schemas import SPACE_HOLDING, BookingStatus
from app.db import DriverStatement
from app.errors import Unprocessable
from app.network.models import Departure
from app.network.service import get_departure
from app.tracking.models import DepartureCall, Leg

S = BookingStatus
RIDING = tuple(s.value for s in SPACE_HOLDING)


# --- the timetable ----------------------------------------------------------------

@dataclass
class CallTimes:
    """One call's times, as plain data (the derivation is pure)."""

    hub_id: int
    planned_arrival_at: datetime | None
    planned_departure_at: datetime | None
    reported_arrival_at: datetime | None = None
    reported_departure_at: datetime | None = None
    actual_arrival_at: datetime | None = None
    actual_departure_at: datetime | None = None
    estimated_arrival_at: datetime | None = None
    estimated_departure_at: datetime | None = None


def schedule(departure: Departure) -> list[CallTimes]:
    """The departure's calls as timetabled: origin, stops at departs_at + offset, destination."""
    service = departure.service
    calls = [CallTimes(service.origin.id, None, departure.departs_at)]
    for stop in service.stops:
        at = departure.departs_at + timedelta(hours=stop.offset_hours)
        calls.append(CallTimes(stop.hub.id, at, at))
    calls.append(CallTimes(service.destination.id, departure.arrives_at, None))
    return derive_estimates(calls)


def derive_estimates(calls: list[CallTimes]) -> list[CallTimes]:
    """Fill ``estimated_*`` along the run from the facts: actual, else reported, else the previous
    estimate plus the timetabled gap (so a delay, or a gain, carries on to every later point)."""
    previous_planned: datetime | None = None
    previous_estimate: datetime | None = None
    for call in calls:
        for kind in ("arrival", "departure"):
            planned = getattr(call, f"planned_{kind}_at")
            if planned is None and kind == "arrival" and call is calls[0]:
                continue
            if planned is None and kind == "departure" and call is calls[-1]:
                continue
            actual = getattr(call, f"actual_{kind}_at")
            reported = getattr(call, f"reported_{kind}_at")
            if actual is not None:
                estimate = actual
            elif reported is not None:
                estimate = reported
            elif previous_estimate is not None and previous_planned is not None and planned is not None:
                estimate = previous_estimate + (planned - previous_planned)
            else:
                estimate = planned
            setattr(call, f"estimated_{kind}_at", estimate)
            if planned is not None:
                previous_planned = planned
            previous_estimate = estimate
    return calls


CALL_FIELDS = (
    "planned_arrival_at", "planned_departure_at", "reported_arrival_at", "reported_departure_at",
    "actual_arrival_at", "actual_departure_at", "estimated_arrival_at", "estimated_departure_at",
)


def call_times(row: Any) -> CallTimes:
    """From a DepartureCall, or a row of its hub_id and CALL_FIELDS."""
    return CallTimes(row.hub_id, **{f: getattr(row, f) for f in CALL_FIELDS})


async def ensure_calls(session: AsyncSession, departure: Departure) -> list[DepartureCall]:
    """The departure's call rows, created from the schedule when missing (its row lock should be held)."""
    rows = list(
        await session.scalars(
            select(DepartureCall).where(DepartureCall.departure_id == departure.id).order_by(DepartureCall.sequence)
        )
    )
    if rows:
        return rows
    rows = [
        DepartureCall(departure_id=departure.id, sequence=i, **{"hub_id": c.hub_id, **{f: getattr(c, f) for f in CALL_FIELDS}})
        for i, c in enumerate(schedule(departure))
    ]
    session.add_all(rows)
    await session.flush()
    return rows


CALL_TIMES_OF = DriverStatement(
    select(DepartureCall.hub_id, *(getattr(DepartureCall, f) for f in CALL_FIELDS))
    .where(DepartureCall.departure_id == bindparam("departure_id")).order_by(DepartureCall.sequence)
)


def current_calls_sync(session: Session, departure: Departure) -> list[CallTimes]:
    rows = session.execute(CALL_TIMES_OF.statement, {"departure_id": departure.id}).all()
    return [call_times(r) for r in rows] if rows else schedule(departure)


# --- legs ---------------------------------------------------------------------------

def legs_along(departure: Departure, calls: list[CallTimes], origin_hub_id: int, destination_hub_id: int) -> list[dict]:
    """Leg rows (as dicts) for a ride on ``departure`` from one of its calls to a later one."""
    hubs = [c.hub_id for c in calls]
    start, end = hubs.index(origin_hub_id), hubs.index(destination_hub_id)
    legs = []
    for i in range(start, end):
        here, there = calls[i], calls[i + 1]
        legs.append(
            {
                "mode": departure.service.mode,
                "departure_id": departure.id,
                "from_hub_id": here.hub_id,
                "to_hub_id": there.hub_id,
                "planned_departure_at": here.planned_departure_at,
                "estimated_departure_at": here.estimated_departure_at,
                "actual_departure_at": here.actual_departure_at,
                "planned_arrival_at": there.planned_arrival_at,
                "estimated_arrival_at": there.estimated_arrival_at,
                "actual_arrival_at": there.actual_arrival_at,
            }
        )
    return legs


async def ensure_legs(session: AsyncSession, departure: Departure) -> None:
    """Give legs to riding bookings of ``departure`` made before tracking existed (one query when none lack them)."""
    missing = list(
        await session.execute(
            select(Booking.id, Booking.origin_hub_id, Booking.destination_hub_id).where(
                Booking.departure_id == departure.id,
                Booking.status.in_(RIDING),
                ~exists().where(Leg.booking_id == Booking.id),
            )
        )
    )
    if not missing:
        return
    calls = [call_times(c) for c in await ensure_calls(session, departure)]
    rows = []
    for booking_id, origin_id, destination_id in missing:
        for sequence, leg in enumerate(legs_along(departure, calls, origin_id, destination_id), start=1):
            rows.append({**leg, "booking_id": booking_id, "sequence": sequence, "at_risk": False})
    await session.execute(insert(Leg), rows)


async def booking_legs(session: AsyncSession, booking: Booking) -> list[Leg]:
    """The booking's legs; a riding booking without any gets them now (persisted with the request)."""
    query = select(Leg).where(Leg.booking_id == booking.id).order_by(Leg.sequence)
    legs = list(await session.scalars(query))
    if not legs and booking.status in RIDING:
        # Writing them takes the departure's lock, as every writer of its legs and calls does:
        # two readers at once would both insert them (a unique key error).
        await ensure_legs(session, await get_departure(session, booking.departure_id, lock=True))
        legs = list(await session.scalars(query))
    return legs



async def itinerary_legs(session: AsyncSession, booking: Booking) -> None:
    """Give a booking made from a quote option its tracking legs from its stored itinerary (``booking_legs``).

    Called once its ``booking_legs`` are written: the legs the confirmation wrote from
    the main departure alone are replaced by a ride per quoted leg (road pre-carriage,
    then rail…), stop by stop, with each departure's current times. A delay on one ride
    then flags the connection to the next ride's cut-off (``check_connections``).
    Departures other than the booking's own are read, not locked: their call rows are
    used when they exist, else their schedule (the TRANSPORT path creates them).
    """
    rides = list(await session.execute(
        select(BookingLeg.departure_id, BookingLeg.from_hub_id, BookingLeg.to_hub_id)
        .where(BookingLeg.booking_id == booking.id).order_by(BookingLeg.sequence)
    ))
    if not rides:
        return
    await session.execute(delete(Leg).where(Leg.booking_id == booking.id).execution_options(synchronize_session=False))
    if booking.status not in RIDING:
        return  # legs come with the confirmation (``_add_legs_sync`` reads the rides then)
    rows, sequence = [], 0
    for departure_id, from_hub_id, to_hub_id in rides:
        departure = await get_departure(session, departure_id)
        existing = list(await session.scalars(
            select(DepartureCall).where(DepartureCall.departure_id == departure.id).order_by(DepartureCall.sequence)
        ))
        calls = [call_times(c) for c in existing] if existing else schedule(departure)
        hubs = [c.hub_id for c in calls]
        if from_hub_id not in hubs or to_hub_id not in hubs[hubs.index(from_hub_id) + 1:]:
            raise Unprocessable("quote_option_id", f"departure {departure_id} no longer runs the quoted leg")
        for leg in legs_along(departure, calls, from_hub_id, to_hub_id):
            sequence += 1
            rows.append({**leg, "booking_id": booking.id, "sequence": sequence, "at_risk": False})
    await session.execute(insert(Leg), rows)



async def update_legs(session: AsyncSession, departure_id: int, before: list[CallTimes], after: list[CallTimes]) -> None:
    """Copy the calls' changed times onto every leg of the departure: one executemany UPDATE, one row version per leg.

    A leg is a hop between consecutive calls, so (departure, from hub, to hub) names
    all the legs of one hop, whoever's booking they belong to.
    """
    hops = []
    for (old_here, old_there), (here, there) in zip(zip(before, before[1:]), zip(after, after[1:])):
        new = (here.planned_departure_at, here.estimated_departure_at, here.actual_departure_at,
               there.planned_arrival_at, there.estimated_arrival_at, there.actual_arrival_at)
        old = (old_here.planned_departure_at, old_here.estimated_departure_at, old_here.actual_departure_at,
               old_there.planned_arrival_at, old_there.estimated_arrival_at, old_there.actual_arrival_at)
        if new != old:
            hops.append({"d": departure_id, "f": here.hub_id, "t": there.hub_id, "pd": new[0], "ed": new[1], "ad": new[2],
                         "pa": new[3], "ea": new[4], "aa": new[5]})
    if not hops:
        return
    legs = Leg.__table__
    await session.execute(
        legs.update()
        .where(legs.c.departure_id == bindparam("d"), legs.c.from_hub_id == bindparam("f"),
               legs.c.to_hub_id == bindparam("t"))
        .values(planned_departure_at=bindparam("pd"), estimated_departure_at=bindparam("ed"),
                actual_departure_at=bindparam("ad"), planned_arrival_at=bindparam("pa"),
                estimated_arrival_at=bindparam("ea"), actual_arrival_at=bindparam("aa")),
        hops,
    )



async def add_ride(session: AsyncSession, booking: Booking, departure_id: int, from_hub_id: int, to_hub_id: int) -> None:
    """Append a ride on another departure to a booking's itinerary (a transfer), as legs.

    The hook for itineraries over several departures (quote options): the booking's
    own departure gives its first legs on confirmation; each further ride is added here.
    """
    departure = await get_departure(session, departure_id, lock=True)
    calls = [call_times(c) for c in await ensure_calls(session, departure)]
    hubs = [c.hub_id for c in calls]
    if from_hub_id not in hubs or to_hub_id not in hubs[hubs.index(from_hub_id) + 1:]:
        raise Unprocessable("departure_id", f"departure {departure_id} does not run from the transfer hub to the next")
    last = await session.scalar(select(func.max(Leg.sequence)).where(Leg.booking_id == booking.id)) or 0
    for offset, leg in enumerate(legs_along(departure, calls, from_hub_id, to_hub_id), start=1):
        session.add(Leg(booking_id=booking.id, sequence=last + offset, at_risk=False, **leg))
    await session.flush()
