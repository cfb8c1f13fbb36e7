from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.accounts.dependencies import Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.consolidation import service, stuffing
from app.stuffing import paper, picture
from app.consolidation.schemas import (
    ContainerUpdate,
    DeparturePlanRead,
    LoadingList,
    LockIn,
    PlanContainerRead,
    PlanDocument,
    StuffingRead,
)
from app.fields import IdPath
from app.network.service import get_departure

router = APIRouter(prefix="/v1", tags=["consolidation"])

INSTANCE_EXAMPLE = {
    "container_types": [{"code": "40HC", "payload_kg": 26500, "usable_cbm": 66.0, "inner_height_m": 2.698,
                         "cost": 5600, "reefer": False}],
    "dg_incompatible": [["3", "5.1"]],
    "max_teu": None,
    "shipments": [{"id": "S00001", "destination": "DEDUI", "weight_kg": 812.5, "volume_cbm": 3.2, "dg_class": None,
                   "temp_range_c": None, "stackable": True, "footprint_m2": None}],
}


@router.post("/plan", response_model=PlanDocument, summary="Plan a consolidation (stateless)")
async def plan(
    caller: Annotated[Caller, requires(Scope.PLANS_WRITE, operator=True)],
    instance: Annotated[dict[str, Any], Body(description="A planner instance (docs/planner/FORMAT.md)",
                                             examples=[INSTANCE_EXAMPLE])],
    time_limit_s: Annotated[float, Query(gt=0, le=60, description="Budget for the improvement phase")] = 10.0,
):
    """Stateless: a planner instance in, the least-cost plan out."""
    # The planner is CPU-bound; keep the event loop free for other requests.
    return await run_in_threadpool(service.plan_instance, instance, time_limit_s)


PlanTimeLimit = Annotated[float, Query(gt=0, le=60, description="Planner budget in seconds")]


@router.post("/departures/{departure_id}/plan", status_code=201, response_model=DeparturePlanRead, summary="Plan a departure's containers")
async def plan_departure(
    departure_id: IdPath,
    caller: Annotated[Caller, requires(Scope.PLANS_WRITE, operator=True)],
    session: Session,
    time_limit_s: PlanTimeLimit = 5.0,
):
    """Plan the departure's confirmed and received bookings: a new plan version (locked containers kept)."""
    departure, stored = await service.plan_departure(session, caller, departure_id, time_limit_s)
    return await service.plan_read(session, departure, stored)


@router.get("/departures/{departure_id}/plan", response_model=DeparturePlanRead, summary="Get the current plan")
async def current_plan(
    departure_id: IdPath, caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)], session: Session
):
    """The current (latest) plan: containers, their bookings, fill, cost and bound; 404 when none."""
    departure, stored = await service.get_current_plan(session, departure_id)
    return await service.plan_read(session, departure, stored)


@router.post("/departures/{departure_id}/plan/lock", response_model=DeparturePlanRead, summary="Lock planned containers")
async def lock_plan(
    departure_id: IdPath,
    body: LockIn,
    caller: Annotated[Caller, requires(Scope.PLANS_WRITE, operator=True)],
    session: Session,
):
    """Lock containers of the current plan (stuffing lists issued); later plans keep them as they are."""
    departure, stored = await service.lock_containers(session, departure_id, body)
    return await service.plan_read(session, departure, stored)


@router.patch("/containers/{container_id}", response_model=PlanContainerRead, summary="Record a container's number and seal")
async def update_container(
    container_id: IdPath,
    body: ContainerUpdate,
    caller: Annotated[Caller, requires(Scope.PLANS_WRITE, operator=True)],
    session: Session,
):
    """Record the container's ISO 6346 number (check digit verified) and seal number."""
    container = await service.update_container(session, container_id, body)
    return await service.container_read(session, container)


@router.get("/containers/{container_id}/stuffing", response_model=StuffingRead, summary="Get a container's stuffing plan")
async def get_stuffing(
    container_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
):
    """Where every package of the container goes, by booking, line and package number, in loading
    order from the front wall to the door (step 1 goes in first). Made when the departure is planned;
    every stored plan has passed the stuffing validator. 404 when the container has none yet."""
    container = await service.get_container(session, container_id)
    departure = await get_departure(session, container.plan.departure_id)
    return stuffing.stuffing_read(container, departure.max_payload_kg)


SVG_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {}}, "description": "An SVG picture of the stuffed container"}}
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The printed loading plan (PDF)"}}


@router.get("/containers/{container_id}/stuffing.svg", response_class=Response, responses=SVG_RESPONSE,
            summary="Picture a container's stuffing plan")
async def stuffing_picture(
    container_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
    step: Annotated[int | None, Query(ge=1, le=100_000, description="Only what is in after this step")] = None,
    stages: Annotated[bool, Query(description="One panel per loading stage instead of the whole load")] = False,
):
    """The stuffed container in an isometric view from the door end, packages coloured by booking with a
    legend, a top view and a side view with the centre of gravity; `?step=` shows what is in after that
    step, `?stages=true` the load stage by stage."""
    container = await service.get_container(session, container_id)
    instance, plan = stuffing.stuffing_documents(container)
    title = f"{container.container_number or container.container_type.code} · container {container.id}"
    if stages:
        svg = picture.stuffing_steps_svg(instance, plan, title=title)
    else:
        svg = picture.stuffing_svg(instance, plan, title=title, step=step)
    return Response(svg, media_type="image/svg+xml")


@router.get("/containers/{container_id}/stuffing.pdf", response_class=Response, responses=PDF_RESPONSE,
            summary="Print a container's loading plan")
async def stuffing_paper(
    container_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
):
    """The loading plan the CFS crew works from: container, number, seal, destination, the pictures, the
    loading steps as a numbered list (booking, marks, package, position), total weight, centre of gravity
    and space to sign."""
    container = await service.get_container(session, container_id)
    instance, plan = stuffing.stuffing_documents(container)
    departure = await get_departure(session, container.plan.departure_id)
    bookings = await service.bookings_of(session, container)
    header = stuffing.paper_header(container, departure, bookings)
    pdf = await run_in_threadpool(paper.loading_plan_pdf, instance, plan, header)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="loading-plan-{container_id}.pdf"'})


@router.get(
    "/containers/{container_id}/loading-list",
    response_model=LoadingList,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with ?format=csv or Accept: text/csv"}},
    summary="Get a container's loading list",
)
async def loading_list(
    request: Request,
    container_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
    format: Annotated[Literal["json", "csv"] | None, Query(description="csv for a spreadsheet")] = None,
):
    """The container's loading list: its number and seal, and per booking the exporter, pieces, weight, volume,
    DG, temperature, consignee and the declared cargo lines (packages, package type, description, HS code,
    stackable). The CSV has one row per booking: the container's number and seal and the cargo lines' figures
    are its last columns, one item per cargo line separated by "; "."""
    document = await service.loading_list(session, container_id)
    wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        return Response(
            service.loading_list_csv(document), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="loading-list-{container_id}.csv"'},
        )
    return document
