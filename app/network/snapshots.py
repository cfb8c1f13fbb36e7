"""Read-only snapshots of departures and their services, for the booking and quote paths.

Services, their stops and hubs never change once created (only departures do), so
each process keeps them, keyed by the service's id and creation time, as transient
objects that belong to no session: handed to any request, never written. A
departure to book is read under its row lock in one statement, joined to its
service's identity, and comes back as a transient Departure holding that service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.db import DriverStatement
from app.errors import NotFound
from app.network.models import Departure, Hub, Service, ServiceStop

_DEPARTURE_FOR_BOOKING = DriverStatement(
    select(*Departure.__table__.columns, Service.created_at.label("service_created_at"))
    .join(Service, Service.id == Departure.service_id)
    .where(Departure.id == bindparam("departure_id"))
    .with_for_update(of=Departure)
)
_DEPARTURE_COLUMNS = [c.key for c in Departure.__table__.columns]
SERVICE_CACHE_SIZE = 1024
_services: dict[tuple[int, datetime], Service] = {}


async def _service_snapshot(session: AsyncSession, service_id: int, created_at: datetime) -> Service:
    key = (service_id, created_at)
    service = _services.get(key)
    if service is not None:
        return service
    row = (await session.execute(select(Service.__table__).where(Service.id == service_id))).one()
    stops = list(await session.execute(
        select(ServiceStop.__table__).where(ServiceStop.service_id == service_id).order_by(ServiceStop.sequence)
    ))
    hub_ids = {row.origin_hub_id, row.destination_hub_id, *(stop.hub_id for stop in stops)}
    hubs = {h.id: Hub(**h._mapping) for h in await session.execute(select(Hub.__table__).where(Hub.id.in_(hub_ids)))}
    service = Service(**row._mapping)
    for name, value in (
        ("origin", hubs[row.origin_hub_id]),
        ("destination", hubs[row.destination_hub_id]),
        ("stops", [_stop(stop, hubs[stop.hub_id]) for stop in stops]),
    ):
        set_committed_value(service, name, value)
    if len(_services) >= SERVICE_CACHE_SIZE:
        _services.clear()
    _services[key] = service
    return service


def _stop(row, hub: Hub) -> ServiceStop:
    stop = ServiceStop(**row._mapping)
    set_committed_value(stop, "hub", hub)
    return stop


async def departures_by_id(session: AsyncSession, departure_ids: list[int]) -> dict[int, Departure]:
    """Several departures with their services in one query (no locks); ids not found are absent."""
    rows = await session.scalars(
        select(Departure)
        .where(Departure.id.in_(departure_ids))
        .options(joinedload(Departure.service).joinedload(Service.stops))
    )
    return {departure.id: departure for departure in rows.unique()}


async def departure_for_booking(session: AsyncSession, departure_id: int) -> Departure:
    """The departure under its row lock (FOR UPDATE), as a read-only snapshot with its service; or 404.

    The Departure is transient: nothing done to it is written. Use ``get_departure``
    to change a departure.
    """
    rows = await _DEPARTURE_FOR_BOOKING.rows(session, {"departure_id": departure_id})
    if not rows:
        raise NotFound(f"departure {departure_id} not found", "departure_id")
    *columns, service_created_at = rows[0]
    departure = Departure(**dict(zip(_DEPARTURE_COLUMNS, columns)))
    set_committed_value(departure, "service", await _service_snapshot(session, departure.service_id, service_created_at))
    return departure


class DepartureForBooking:
    """``departure_for_booking`` widened with columns of another table (a higher floor's: a rate card),
    outer-joined on ``onclause``: the departure under its row lock and those values, in one round trip."""

    def __init__(self, table: Any, onclause: Any, columns: list[Any]) -> None:
        self.width = len(columns)
        self.statement = DriverStatement(
            select(*Departure.__table__.columns, Service.created_at.label("service_created_at"), *columns)
            .join(Service, Service.id == Departure.service_id)
            .outerjoin(table, onclause)
            .where(Departure.id == bindparam("departure_id"))
            .with_for_update(of=Departure)
        )

    async def __call__(self, session: AsyncSession, departure_id: int) -> tuple[Departure, tuple]:
        """The departure (a snapshot, as ``departure_for_booking``'s; or 404) and the joined values (None when none joined)."""
        rows = await self.statement.rows(session, {"departure_id": departure_id})
        if not rows:
            raise NotFound(f"departure {departure_id} not found", "departure_id")
        row = rows[0]
        *columns, service_created_at = row[:len(row) - self.width]
        departure = Departure(**dict(zip(_DEPARTURE_COLUMNS, columns)))
        set_committed_value(
            departure, "service", await _service_snapshot(session, departure.service_id, service_created_at)
        )
        return departure, tuple(row[len(row) - self.width:])


async def departure_snapshots(session: AsyncSession, departure_ids: list[int]) -> dict[int, Departure]:
    """Several departures as read-only snapshots with their services (no locks), as ``departure_for_booking``
    gives one; ids not found are absent. Transient: nothing done to them is written, and a rollback
    of the session leaves them as they were, so a cache may keep them."""
    if not departure_ids:
        return {}
    rows = await session.execute(
        select(*Departure.__table__.columns, Service.created_at.label("service_created_at"))
        .join(Service, Service.id == Departure.service_id)
        .where(Departure.id.in_(departure_ids))
    )
    found: dict[int, Departure] = {}
    for *columns, service_created_at in rows:
        departure = Departure(**dict(zip(_DEPARTURE_COLUMNS, columns)))
        set_committed_value(
            departure, "service", await _service_snapshot(session, departure.service_id, service_created_at)
        )
        found[departure.id] = departure
    return found
