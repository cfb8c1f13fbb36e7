"""Space projections loaded before the first booking: at start, for the departures where loading costs.

A process keeps each departure's projection once built (``space``'s cache), but the first
decision on a departure after a restart loads every space-holding booking and its slot:
about 160 ms for a departure holding 5,000 bookings, paid by whoever books first. At
start (``caravan serve``'s lifespan, before the process takes requests) the open
departures holding at least ``min_bookings`` bookings are loaded instead, most bookings
first, within a time budget.

Each projection is cached under the bookings' fingerprint read BEFORE the bookings
themselves, so a booking committed in between makes the fingerprint stale, never the
projection: the next decision then finds a fingerprint that does not match and loads
afresh, as without warming. An entry a decision of this process cached meanwhile is
kept (it is at least as new).
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bookings.models import Booking
from app.consolidation import space
from app.db import utcnow
from app.network.models import Departure
from app.network.snapshots import departure_snapshots

logger = logging.getLogger("caravan.space")


async def departures_to_warm(session: AsyncSession, min_bookings: int) -> list[int]:
    """Open departures still taking bookings that hold at least ``min_bookings`` space-holding bookings, most first."""
    held = func.count(Booking.id)
    rows = await session.execute(
        select(Booking.departure_id)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(Booking.status.in_(space.SPACE_HOLDING), Departure.status == "OPEN", Departure.cutoff_at > utcnow())
        .group_by(Booking.departure_id)
        .having(held >= min_bookings)
        .order_by(held.desc(), Booking.departure_id)
    )
    return [departure_id for (departure_id,) in rows]


async def warm_one(session: AsyncSession, departure_id: int) -> bool:
    """Load and cache one departure's projection; whether it was cached (False: already there, or it does not fit)."""
    departure = (await departure_snapshots(session, [departure_id])).get(departure_id)
    if departure is None or not departure.service.container_types:
        return False
    key = space._cache_key(departure)
    if key in space._cache:
        return False
    riders = await space.booking_fingerprint_of(session, departure_id)  # first: see the module docstring
    state = await space.load_state(session, departure)
    if state is None or not state.types or key in space._cache:
        return False
    space._cache[key] = (riders, state)
    while len(space._cache) > space.CACHE_SIZE:
        space._cache.popitem(last=False)
    return True


async def warm(sessionmaker: async_sessionmaker, min_bookings: int, budget_s: float) -> int:
    """Warm the departures ``departures_to_warm`` names, each in a short read-only transaction of its own,
    until ``budget_s`` has passed; how many were cached."""
    started = time.monotonic()
    async with sessionmaker() as session:
        departure_ids = await departures_to_warm(session, min_bookings)
    warmed = 0
    for departure_id in departure_ids:
        if time.monotonic() - started > budget_s:
            logger.info("space projections: time budget spent after %d of %d departures", warmed, len(departure_ids))
            break
        async with sessionmaker() as session:
            warmed += await warm_one(session, departure_id)
        await asyncio.sleep(0)
    return warmed
