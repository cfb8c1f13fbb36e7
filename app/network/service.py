"""Rules of the network: hubs, container types, services and departures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Select, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from app.errors import Conflict, NotFound, Unprocessable
from app.network.models import ContainerType, Departure, Hub, Service, ServiceStop
from app.network.rail import check_train_size, service_rail_rules, train_limits
from app.network.schemas import (
    ContainerTypeCreate,
    DepartureCreate,
    DepartureStatus,
    DepartureUpdate,
    HubCreate,
    HubEmissions,
    ServiceCreate,
    ServiceEmissions,
)

# Which status a departure may move to from each status.
DEPARTURE_TRANSITIONS: dict[str, set[str]] = {
    "OPEN": {"CLOSED", "CANCELLED", "DEPARTED"},
    "CLOSED": {"OPEN", "DEPARTED", "CANCELLED"},
    "DEPARTED": {"ARRIVED"},
    "ARRIVED": set(),
    "CANCELLED": set(),
}


async def _insert(session: AsyncSession, row: object, what: str) -> None:
    """Flush a new row inside a savepoint; a unique clash becomes a 409, not a 500."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"{what} already exists") from None


# --- hubs -------------------------------------------------------------------

async def create_hub(session: AsyncSession, data: HubCreate) -> Hub:
    if await session.scalar(select(Hub.id).where(Hub.code == data.code)):
        raise Conflict(f"hub {data.code} already exists")
    hub = Hub(**data.model_dump(), country=data.un_locode[:2])
    await _insert(session, hub, f"hub {data.code}")
    return hub


def _missing(what: str, code: str, field: str | None) -> Exception:
    """A code named in a request body is a 422 on that field; the resource of the path is a 404."""
    return Unprocessable(field, f"unknown {what} {code}") if field else NotFound(f"{what} {code} not found")


def hubs_named(place: str, hubs: Iterable[Hub]) -> list[Hub]:
    """Which of ``hubs`` a place names (API.md: places by hub code or UN/LOCODE): the hub whose
    code it is, else every hub with that UN/LOCODE."""
    hubs = list(hubs)
    return [hub for hub in hubs if hub.code == place] or [hub for hub in hubs if hub.un_locode == place]


async def get_hub(session: AsyncSession, code: str, field: str | None = "hub") -> Hub:
    """The hub named by its hub code, or by a UN/LOCODE that only it has.

    A LOCODE several hubs share (Wuhan's rail terminal, river port and CFS) names none of them: 422.
    """
    hubs = hubs_named(code, await session.scalars(
        select(Hub).where(or_(Hub.code == code, Hub.un_locode == code)).order_by(Hub.id)
    ))
    if len(hubs) == 1:
        return hubs[0]
    if not hubs:
        raise _missing("hub", code, field)
    raise Unprocessable(field or "code", f"{code} is the UN/LOCODE of several hubs "
                                         f"({', '.join(hub.code for hub in hubs)}): name one by its hub code")


async def list_hubs(session: AsyncSession, after_id: int, limit: int, kind: str | None = None) -> list[Hub]:
    query = select(Hub).where(Hub.id > after_id)
    if kind:
        query = query.where(Hub.kind == kind)
    return list(await session.scalars(query.order_by(Hub.id).limit(limit + 1)))


# --- container types --------------------------------------------------------

async def create_container_type(session: AsyncSession, data: ContainerTypeCreate) -> ContainerType:
    if await session.scalar(select(ContainerType.id).where(ContainerType.code == data.code)):
        raise Conflict(f"container type {data.code} already exists")
    row = ContainerType(**data.model_dump())
    await _insert(session, row, f"container type {data.code}")
    return row


async def list_container_types(session: AsyncSession, after_id: int, limit: int) -> list[ContainerType]:
    query = select(ContainerType).where(ContainerType.id > after_id).order_by(ContainerType.id).limit(limit + 1)
    return list(await session.scalars(query))


async def container_types_by_code(session: AsyncSession, codes: list[str]) -> dict[str, ContainerType]:
    rows = await session.scalars(select(ContainerType).where(ContainerType.code.in_(codes)))
    return {row.code: row for row in rows}


# --- services ---------------------------------------------------------------

async def create_service(session: AsyncSession, data: ServiceCreate) -> Service:
    if await session.scalar(select(Service.id).where(Service.code == data.code)):
        raise Conflict(f"service {data.code} already exists")
    origin = await get_hub(session, data.origin, "origin")
    destination = await get_hub(session, data.destination, "destination")
    stop_hubs = [await get_hub(session, stop.hub, f"stops.{i}.hub") for i, stop in enumerate(data.stops)]
    calls = [origin, *stop_hubs, destination]
    if len({hub.id for hub in calls}) != len(calls):  # the same hub by its code and by its LOCODE
        raise Unprocessable("stops", "a service calls at each hub once")
    types = await container_types_by_code(session, data.container_types)
    for index, code in enumerate(data.container_types):
        if code not in types:
            raise Unprocessable(f"container_types.{index}", f"unknown container type {code}")
    if data.reefer_allowed and not any(t.reefer for t in types.values()):
        raise Unprocessable("reefer_allowed", "a service that takes reefer cargo must offer a reefer container type")
    service = Service(
        code=data.code,
        name=data.name or data.code,
        mode=data.mode.value,
        origin=origin,
        destination=destination,
        weight_per_cbm_kg=data.weight_per_cbm_kg,
        forbidden_dg_classes=sorted(set(data.forbidden_dg_classes)),
        reefer_allowed=data.reefer_allowed,
        container_types=list(dict.fromkeys(data.container_types)),
        currency=data.currency,
        rate_per_cbm=data.rate_per_cbm,
        minimum_charge=data.minimum_charge,
        rail_rules=service_rail_rules(data),
        leg_distances_km=data.distances_km,
        ttw_g_per_tkm=data.intensity.ttw_g_per_tkm if data.intensity else None,
        wtt_g_per_tkm=data.intensity.wtt_g_per_tkm if data.intensity else None,
        intensity_source=data.intensity.source if data.intensity else None,
        stops=[
            ServiceStop(sequence=i + 1, hub=hub, offset_hours=stop.offset_hours)
            for i, (stop, hub) in enumerate(zip(data.stops, stop_hubs))
        ],
    )
    await _insert(session, service, f"service {data.code}")
    return service


async def get_service(session: AsyncSession, code: str, field: str | None = "service") -> Service:
    service = await session.scalar(select(Service).where(Service.code == code))
    if service is None:
        raise _missing("service", code, field)
    return service


async def list_services(
    session: AsyncSession, after_id: int, limit: int, mode: str | None = None
) -> list[Service]:
    query = select(Service).where(Service.id > after_id)
    if mode:
        query = query.where(Service.mode == mode)
    return list(await session.scalars(query.order_by(Service.id).limit(limit + 1)))


def service_read(service: Service) -> dict:
    return {
        "id": service.id,
        "code": service.code,
        "name": service.name,
        "mode": service.mode,
        "origin": service.origin.code,
        "destination": service.destination.code,
        "stops": [
            {"hub": s.hub.code, "un_locode": s.hub.un_locode, "offset_hours": s.offset_hours} for s in service.stops
        ],
        "weight_per_cbm_kg": service.weight_per_cbm_kg,
        "forbidden_dg_classes": service.forbidden_dg_classes,
        "reefer_allowed": service.reefer_allowed,
        "container_types": service.container_types,
        "currency": service.currency,
        "rate_per_cbm": service.rate_per_cbm,
        "minimum_charge": service.minimum_charge,
        "rail_rules": service.rail_rules,
        "distances_km": service.leg_distances_km,
        "intensity": None if service.ttw_g_per_tkm is None else {
            "ttw_g_per_tkm": service.ttw_g_per_tkm, "wtt_g_per_tkm": service.wtt_g_per_tkm,
            "source": service.intensity_source,
        },
    }


async def set_service_emissions(session: AsyncSession, service: Service, data: ServiceEmissions) -> Service:
    """Operator: the service's leg distances and own intensity (each left out: cleared)."""
    if data.distances_km is not None and len(data.distances_km) != len(service.stops) + 1:
        raise Unprocessable("distances_km", f"needs {len(service.stops) + 1} entries: one per leg between the "
                                            f"service's calls")
    service.leg_distances_km = data.distances_km
    service.ttw_g_per_tkm = data.intensity.ttw_g_per_tkm if data.intensity else None
    service.wtt_g_per_tkm = data.intensity.wtt_g_per_tkm if data.intensity else None
    service.intensity_source = data.intensity.source if data.intensity else None
    await session.flush()
    return service


async def set_hub_emissions(session: AsyncSession, hub: Hub, data: HubEmissions) -> Hub:
    """Operator: the hub's coordinates and own handling intensity (each left out: cleared)."""
    for name, value in data.model_dump().items():
        setattr(hub, name, value)
    await session.flush()
    return hub


def route_hubs(service: Service) -> list[Hub]:
    """Every hub the service calls at, in order: origin, stops, destination."""
    return [service.origin, *(s.hub for s in service.stops), service.destination]


# --- departures -------------------------------------------------------------

async def create_departure(session: AsyncSession, data: DepartureCreate) -> Departure:
    service = await get_service(session, data.service)
    if service.stops:
        last_offset = timedelta(hours=service.stops[-1].offset_hours)
        if data.departs_at + last_offset >= data.arrives_at:
            raise Unprocessable("arrives_at", "must be after the service's last intermediate stop")
    clash = await session.scalar(
        select(Departure.id).where(Departure.service_id == service.id, Departure.departs_at == data.departs_at)
    )
    if clash:
        raise Conflict(f"service {service.code} already departs at {data.departs_at.isoformat()}")
    check_train_size(service, data.capacity_teu)
    departure = Departure(
        service=service,
        departs_at=data.departs_at,
        cutoff_at=data.cutoff_at,
        arrives_at=data.arrives_at,
        capacity_teu=data.capacity_teu,
        max_payload_kg=data.max_payload_kg,
        max_cargo_kg=data.max_cargo_kg,
        max_train_length_m=data.max_train_length_m,
        status=data.status.value,
    )
    await _insert(session, departure, "departure")
    return departure


async def get_departure(session: AsyncSession, departure_id: int, *, lock: bool = False) -> Departure:
    """The departure, or 404. ``lock`` takes its row lock (FOR UPDATE) for space control."""
    # One round trip: the service's stops come joined instead of by a second select.
    query = (
        select(Departure)
        .where(Departure.id == departure_id)
        .options(joinedload(Departure.service).joinedload(Service.stops))
    )
    if lock:
        # Read again under the lock even if the session holds the departure already (a booking
        # loads its departure): what was read before the lock may have changed meanwhile.
        query = query.with_for_update(of=Departure).execution_options(populate_existing=True)
    departure = (await session.scalars(query)).unique().one_or_none()
    if departure is None:
        raise NotFound(f"departure {departure_id} not found", "departure_id")
    return departure


async def lock_departures(session: AsyncSession, departure_ids: set[int]) -> dict[int, Departure]:
    """Lock several departures (as ``get_departure(lock=True)``) in the one order every path that
    locks more than one takes: by when each leaves its origin, then id. Roll-overs lock later
    departures of a line in that order too, so no two transactions can wait on each other."""
    order = (await session.execute(
        select(Departure.id).where(Departure.id.in_(departure_ids)).order_by(Departure.departs_at, Departure.id)
    )).scalars().all()
    locked = {departure_id: await get_departure(session, departure_id, lock=True) for departure_id in order}
    for departure_id in departure_ids - locked.keys():
        raise NotFound(f"departure {departure_id} not found", "departure_id")
    return locked


# Every call of every service with its place along the line: origin first, stops by
# sequence (1…), destination last. A departure serves A→B when A comes before B.
_LAST = 1_000_000
_CALLS = union_all(
    select(Service.id.label("service_id"), Service.origin_hub_id.label("hub_id"), literal(0).label("position")),
    select(ServiceStop.service_id, ServiceStop.hub_id, ServiceStop.sequence),
    select(Service.id, Service.destination_hub_id, literal(_LAST)),
).subquery("calls")


def _calls_at(place: str):
    """The calls at a hub named by its code or its UN/LOCODE (a LOCODE may cover several hubs)."""
    calls = aliased(_CALLS)
    hub = aliased(Hub)
    return calls, hub, or_(hub.code == place, hub.un_locode == place)


def departures_query(
    origin: str | None = None,
    destination: str | None = None,
    departs_after: datetime | None = None,
    departs_before: datetime | None = None,
    service: str | None = None,
    status: str | None = None,
) -> Select:
    """Departures matching the filters; ``origin``/``destination`` match any call of the line in that order."""
    query = select(Departure).join(Departure.service)
    if origin or destination:
        served = select(Service.id)
        board = alight = None
        if origin:
            board, board_hub, matches = _calls_at(origin)
            served = served.join(board, board.c.service_id == Service.id).join(board_hub, board_hub.id == board.c.hub_id)
            served = served.where(matches, board.c.position < _LAST)
        if destination:
            alight, alight_hub, matches = _calls_at(destination)
            served = served.join(alight, alight.c.service_id == Service.id).join(
                alight_hub, alight_hub.id == alight.c.hub_id
            )
            served = served.where(matches, alight.c.position > 0)
        if board is not None and alight is not None:
            served = served.where(board.c.position < alight.c.position)
        query = query.where(Departure.service_id.in_(served))
    if departs_after:
        query = query.where(Departure.departs_at >= departs_after)
    if departs_before:
        query = query.where(Departure.departs_at < departs_before)
    if service:
        query = query.where(Service.code == service)
    if status:
        query = query.where(Departure.status == status)
    return query


async def list_departures(session: AsyncSession, after_id: int, limit: int, **filters) -> list[Departure]:
    query = departures_query(**filters).where(Departure.id > after_id).order_by(Departure.id).limit(limit + 1)
    return list(await session.scalars(query))


async def update_departure(
    session: AsyncSession,
    departure: Departure,
    data: DepartureUpdate,
    fits_capacity: Callable[[int], Awaitable[bool]],
) -> Departure:
    """Change status, capacity or cut-off. ``fits_capacity(teu)`` tells whether the bookings
    holding space still pack within a new capacity (space control owns that rule)."""
    if data.status is not None and data.status.value != departure.status:
        if data.status.value not in DEPARTURE_TRANSITIONS[departure.status]:
            raise Conflict(f"a departure cannot go from {departure.status} to {data.status.value}")
        departure.status = data.status.value
    if data.capacity_teu is not None and data.capacity_teu != departure.capacity_teu:
        check_train_size(departure.service, data.capacity_teu)
        if data.capacity_teu < departure.capacity_teu and not await fits_capacity(data.capacity_teu):
            raise Conflict(
                f"the bookings holding space do not pack into {data.capacity_teu} TEU; the departure would be oversold"
            )
        departure.capacity_teu = data.capacity_teu
    if data.cutoff_at is not None:
        if data.cutoff_at > departure.departs_at:
            raise Unprocessable("cutoff_at", "must not be after departs_at")
        departure.cutoff_at = data.cutoff_at
    await session.flush()
    return departure


def departure_read(departure: Departure, booked_cbm: float, cbm_per_teu: float) -> dict:
    service = departure.service
    capacity_cbm = departure.capacity_teu * cbm_per_teu
    calls = [{"hub": service.origin.code, "un_locode": service.origin.un_locode, "arrives_at": None,
              "departs_at": departure.departs_at}]
    for stop in service.stops:
        at = departure.departs_at + timedelta(hours=stop.offset_hours)
        calls.append({"hub": stop.hub.code, "un_locode": stop.hub.un_locode, "arrives_at": at, "departs_at": at})
    calls.append({"hub": service.destination.code, "un_locode": service.destination.un_locode,
                  "arrives_at": departure.arrives_at, "departs_at": None})
    return {
        "id": departure.id,
        "service": service.code,
        "mode": service.mode,
        "origin": service.origin.code,
        "destination": service.destination.code,
        "departs_at": departure.departs_at,
        "cutoff_at": departure.cutoff_at,
        "arrives_at": departure.arrives_at,
        "calls": calls,
        "capacity_teu": departure.capacity_teu,
        "capacity_cbm": round(capacity_cbm, 3),
        "booked_cbm": round(booked_cbm, 3),
        "available_cbm": round(max(capacity_cbm - booked_cbm, 0.0), 3),
        "max_payload_kg": departure.max_payload_kg,
        "max_cargo_kg": train_limits(departure)[0],
        "max_train_length_m": train_limits(departure)[1],
        "status": departure.status,
    }


def is_open_for_booking(departure: Departure, now: datetime) -> bool:
    return departure.status == DepartureStatus.OPEN.value and now < departure.cutoff_at
