from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from app.accounts.dependencies import CurrentCaller, Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.booking_desk.change import move_off_cancelled_departure
from app.bookings.records import booked_cbm_by_departure
from app.consolidation import space
from app.fields import DayOrTimestamp, HubCode, IdPath
from app.network import service
from app.network.schemas import (
    ContainerTypeCreate,
    ContainerTypeRead,
    DepartureCreate,
    DepartureRead,
    DepartureStatus,
    DepartureUpdate,
    HubCreate,
    HubEmissions,
    HubKind,
    HubRead,
    Mode,
    ServiceCreate,
    ServiceEmissions,
    ServiceRead,
)
from app.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(prefix="/v1", tags=["network"])

HubCodeInPath = Annotated[HubCode, Path(description="Hub code, in either case")]
ServiceCodeInPath = Annotated[str, Path(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")]
PlaceQuery = Annotated[HubCode | None, Query(description="Hub code or UN/LOCODE, in either case")]
ServiceCodeQuery = Annotated[str | None, Query(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")]


def _cbm_per_teu(request: Request) -> float:
    return request.app.state.settings.cbm_per_teu


@router.get("/hubs", response_model=Page[HubRead], summary="List hubs")
async def list_hubs(
    caller: CurrentCaller, session: Session, limit: Limit = 20, cursor: Cursor = None, kind: HubKind | None = None
):
    """Terminals, ports, CFS warehouses, border crossings and depots of the network, in the
    order they were created; filter by `kind`. Any key.
    """
    rows = await service.list_hubs(session, decode_cursor(cursor), limit, kind.value if kind else None)
    items, next_cursor = page_of(rows, limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/hubs", status_code=201, response_model=HubRead, summary="Create a hub")
async def create_hub(
    body: HubCreate, caller: Annotated[Caller, requires(Scope.NETWORK_WRITE, operator=True)], session: Session
):
    """Operator (`network:write`): a place of the network, coded by its UN/LOCODE with an
    optional facility suffix (`CNWUH-WJS`), with its time zone and the least time cargo needs
    between arriving and leaving on another leg (`handling_hours`).
    """
    return await service.create_hub(session, body)


@router.get("/hubs/{code}", response_model=HubRead, summary="Get a hub")
async def get_hub(code: HubCodeInPath, caller: CurrentCaller, session: Session):
    """One hub by its code, or by a UN/LOCODE that only one hub has (a LOCODE several hubs
    share is a 422 listing them). Any key.
    """
    return await service.get_hub(session, code, field=None)


@router.put("/hubs/{code}/emissions", response_model=HubRead, summary="Set a hub's coordinates and handling intensity")
async def set_hub_emissions(
    code: HubCodeInPath, body: HubEmissions, caller: Annotated[Caller, requires(Scope.NETWORK_WRITE, operator=True)],
    session: Session,
):
    """Operator (`network:write`): where the hub is (WGS 84; legs without a set distance are estimated
    from the great circle between their hubs) and the operator's own kg CO2e per tonne handled there.
    Fields left out are cleared.
    """
    hub = await service.get_hub(session, code, field=None)
    return await service.set_hub_emissions(session, hub, body)


@router.get("/container-types", response_model=Page[ContainerTypeRead], summary="List container types")
async def list_container_types(caller: CurrentCaller, session: Session, limit: Limit = 20, cursor: Cursor = None):
    """The containers the hub stuffs (20GP, 40HC, reefers…): payload, usable volume, inner
    height, cost. Any key.
    """
    rows = await service.list_container_types(session, decode_cursor(cursor), limit)
    items, next_cursor = page_of(rows, limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/container-types", status_code=201, response_model=ContainerTypeRead, summary="Create a container type")
async def create_container_type(
    body: ContainerTypeCreate, caller: Annotated[Caller, requires(Scope.NETWORK_WRITE, operator=True)], session: Session
):
    """Operator (`network:write`): a container type the planner may use."""
    return await service.create_container_type(session, body)


@router.get("/services", response_model=Page[ServiceRead], summary="List services")
async def list_services(
    caller: CurrentCaller, session: Session, limit: Limit = 20, cursor: Cursor = None, mode: Mode | None = None
):
    """The scheduled lines (rail, water, air, road): origin, ordered stops, destination, the
    container types and dangerous-goods classes each takes, its weight/volume ratio. Filter by
    `mode`. Any key.
    """
    rows = await service.list_services(session, decode_cursor(cursor), limit, mode.value if mode else None)
    items, next_cursor = page_of(rows, limit)
    return {"items": [service.service_read(s) for s in items], "next_cursor": next_cursor}


@router.post("/services", status_code=201, response_model=ServiceRead, summary="Create a service")
async def create_service(
    body: ServiceCreate, caller: Annotated[Caller, requires(Scope.NETWORK_WRITE, operator=True)], session: Session
):
    """Operator (`network:write`): a scheduled line with its ordered stops (hub and hours after
    departure), the container types it carries, the DG classes it refuses and its base rate.
    """
    created = await service.create_service(session, body)
    return service.service_read(created)


@router.get("/services/{code}", response_model=ServiceRead, summary="Get a service")
async def get_service(code: ServiceCodeInPath, caller: CurrentCaller, session: Session):
    """One service by its code. Any key."""
    return service.service_read(await service.get_service(session, code, field=None))


@router.put("/services/{code}/emissions", response_model=ServiceRead, summary="Set a service's distances and intensity")
async def set_service_emissions(
    code: ServiceCodeInPath, body: ServiceEmissions,
    caller: Annotated[Caller, requires(Scope.NETWORK_WRITE, operator=True)], session: Session,
):
    """Operator (`network:write`): the km of each leg between the service's calls and, optionally, the
    operator's own measured g CO2e per tonne-km, which the service's emissions use instead of the
    factor table. Fields left out are cleared.
    """
    found = await service.get_service(session, code, field=None)
    return service.service_read(await service.set_service_emissions(session, found, body))


@router.get("/departures", response_model=Page[DepartureRead], summary="List departures")
async def list_departures(
    request: Request,
    caller: CurrentCaller,
    session: Session,
    limit: Limit = 20,
    cursor: Cursor = None,
    origin: PlaceQuery = None,
    destination: PlaceQuery = None,
    departs_after: DayOrTimestamp | None = None,
    departs_before: DayOrTimestamp | None = None,
    service_code: Annotated[ServiceCodeQuery, Query(alias="service")] = None,
    status: DepartureStatus | None = None,
):
    """Dated departures of the services, in the order they were created: cut-off, calls at each stop, capacity,
    how much is booked and how much room is left (`available_cbm`). Filter by origin and
    destination (hub code or UN/LOCODE), departure window, service and status. Any key.
    """
    rows = await service.list_departures(
        session,
        decode_cursor(cursor),
        limit,
        origin=origin,
        destination=destination,
        departs_after=departs_after,
        departs_before=departs_before,
        service=service_code,
        status=status.value if status else None,
    )
    items, next_cursor = page_of(rows, limit)
    booked = await booked_cbm_by_departure(session, [d.id for d in items])
    per_teu = _cbm_per_teu(request)
    return {
        "items": [service.departure_read(d, booked.get(d.id, 0.0), per_teu) for d in items],
        "next_cursor": next_cursor,
    }


@router.post("/departures", status_code=201, response_model=DepartureRead, summary="Create a departure")
async def create_departure(
    request: Request,
    body: DepartureCreate,
    caller: Annotated[Caller, requires(Scope.NETWORK_WRITE, operator=True)],
    session: Session,
):
    """Operator (`network:write`): a dated departure of a service, with its cut-off, arrival
    and capacity in TEU.
    """
    departure = await service.create_departure(session, body)
    return service.departure_read(departure, 0.0, _cbm_per_teu(request))


@router.get("/departures/{departure_id}", response_model=DepartureRead, summary="Get a departure")
async def get_departure(request: Request, departure_id: IdPath, caller: CurrentCaller, session: Session):
    """One departure with its calls, capacity, booked and available volume. Any key."""
    departure = await service.get_departure(session, departure_id)
    booked = await booked_cbm_by_departure(session, [departure.id])
    return service.departure_read(departure, booked.get(departure.id, 0.0), _cbm_per_teu(request))


@router.patch("/departures/{departure_id}", response_model=DepartureRead, summary="Update a departure")
async def update_departure(
    request: Request,
    departure_id: IdPath,
    body: DepartureUpdate,
    caller: Annotated[Caller,
    requires(Scope.NETWORK_WRITE, operator=True)],
    session: Session,
):
    """Operator (`network:write`): change its status, its capacity (not below what its
    bookings need) or its cut-off. Cancelling it settles its bookings: cargo already received,
    and confirmed bookings that allow roll-over, move to the service's next departure with
    room; the others are cancelled with the reason.
    """
    departure = await service.get_departure(session, departure_id, lock=True)
    was = departure.status
    await service.update_departure(
        session, departure, body, lambda teu: space.fits_capacity(session, departure, teu)
    )
    if departure.status == "CANCELLED" and was != "CANCELLED":
        await move_off_cancelled_departure(session, departure)
    booked = (await booked_cbm_by_departure(session, [departure.id])).get(departure.id, 0.0)
    return service.departure_read(departure, booked, _cbm_per_teu(request))
