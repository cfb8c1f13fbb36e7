"""The hub operator's pages: the departures board, one departure with its bookings and its plan
(one card per container, with its stuffing picture), planning, locking, the printed loading plan,
and the CFS receipt. The same services, scopes and operator role as the API's routes."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.accounts.dependencies import Session
from app.accounts.schemas import Scope
from app.booking_desk import receipt
from app.bookings import records
from app.bookings.schemas import BookingRead, ReceiptIn
from app.console import forms
from app.console.board import by_line, fills, next_departures
from app.console.web import User, formats, needs, read_form, redirect, render
from app.consolidation import service as plans
from app.consolidation import stuffing
from app.consolidation.schemas import ContainerUpdate, DeparturePlanRead, LockIn
from app.db import utcnow
from app.errors import AppError, NotFound
from app.fields import MAX_ID
from app.network.service import container_types_by_code, departure_read, get_departure
from app.stuffing import paper, picture

router = APIRouter(prefix="/console", include_in_schema=False)

DepartureId = Annotated[int, Path(ge=1, le=MAX_ID)]
ContainerId = Annotated[int, Path(ge=1, le=MAX_ID)]
Viewer = Annotated[User, needs(Scope.BOOKINGS_READ, operator=True)]
Planner = Annotated[User, needs(Scope.PLANS_WRITE, operator=True)]
Receiver = Annotated[User, needs(Scope.BOOKINGS_WRITE, operator=True)]
BOARD_DAYS = 28
PER_LINE = 5
BOARD_LIMIT = 300


@router.get("/departures")
async def departures_board(
    request: Request, user: Viewer, session: Session,
    days: Annotated[int, Query(ge=1, le=90)] = BOARD_DAYS,
    line: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """Upcoming departures per line (the next few of each, or every one of ``line``): fill by TEU
    and by weight, cut-off countdown, status."""
    now = utcnow()
    rows, in_window = await next_departures(session, now - timedelta(days=2), now + timedelta(days=days),
                                            BOARD_LIMIT if line else PER_LINE, line.upper() if line else None)
    lines = by_line(rows, in_window)
    filled = await fills(session, rows, request.app.state.settings.cbm_per_teu)
    return render(request, "departures.html", lines=lines, fills=filled, now=now, days=days, line=line or "",
                  cutoff_left={d.id: (d.cutoff_at - now).total_seconds() for d in rows})


async def _plan(session, departure_id: int) -> dict[str, Any] | None:
    try:
        departure, stored = await plans.get_current_plan(session, departure_id)
    except NotFound:
        return None
    return DeparturePlanRead.model_validate(await plans.plan_read(session, departure, stored)).model_dump()


async def _departure_page(request: Request, user: User, session, departure_id: int, error: str | None = None,
                          status: int = 200) -> Response:
    departure = await get_departure(session, departure_id)
    shown = departure_read(departure, 0.0, request.app.state.settings.cbm_per_teu)
    rows = await records.list_bookings(session, user.caller, 0, 500, None, departure_id)
    bookings = [BookingRead.model_validate(records.booking_read(b)).model_dump() for b in rows]
    marks = {b["reference"]: {"dg": any(line["dangerous_goods"] for line in b["cargo"]),
                              "reefer": any(line["temperature_c"] for line in b["cargo"])} for b in bookings}
    plan = await _plan(session, departure_id)
    types = await container_types_by_code(session, sorted({c["type"] for c in (plan or {}).get("containers", [])}))
    reefer_types = {code for code, t in types.items() if t.reefer}
    container_marks = {c["id"]: {"dg": any(marks.get(ref, {}).get("dg") for ref in c["bookings"]),
                                 "reefer": c["type"] in reefer_types} for c in (plan or {}).get("containers", [])}
    filled = (await fills(session, [departure], request.app.state.settings.cbm_per_teu))[departure.id]
    return render(request, "departure.html", status=status, departure=shown,
                  arrival_zone=departure.service.destination.timezone, bookings=bookings, plan=plan,
                  marks=marks, container_marks=container_marks, fill=filled, error=error, now=utcnow(),
                  may_plan=user.may("plans:write"), consist=None)


@router.get("/departures/{departure_id}")
async def departure_page(request: Request, departure_id: DepartureId, user: Viewer, session: Session) -> Response:
    return await _departure_page(request, user, session, departure_id)


@router.post("/departures/{departure_id}/plan")
async def plan_departure(request: Request, departure_id: DepartureId, user: Planner, session: Session) -> Response:
    """The same planning as POST /v1/departures/{id}/plan (a new plan version; locked containers kept)."""
    await read_form(request)
    return await _change_departure(request, user, session, departure_id, "plan",
                                   plans.plan_departure(session, user.caller, departure_id, 5.0))


@router.post("/departures/{departure_id}/lock")
async def lock_plan(request: Request, departure_id: DepartureId, user: Planner, session: Session) -> Response:
    """The same lock as POST /v1/departures/{id}/plan/lock: every container, or the one named."""
    form = await read_form(request)
    container = forms.number(form.get("container"))
    body = {"containers": [container]} if container is not None else {"all": True}
    try:
        lock = LockIn.model_validate(body)
    except ValidationError:
        return await _departure_page(request, user, session, departure_id,
                                     formats(request).gettext("Which container?"), 422)
    return await _change_departure(request, user, session, departure_id, "plan",
                                   plans.lock_containers(session, departure_id, lock))


@router.post("/containers/{container_id}")
async def number_container(request: Request, container_id: ContainerId, user: Planner, session: Session) -> Response:
    """The same change as PATCH /v1/containers/{id}: the ISO 6346 number (check digit verified) and the seal."""
    form = await read_form(request)
    container = await plans.get_container(session, container_id)
    departure_id = container.plan.departure_id
    body = {name: form.get(name) for name in ("container_number", "seal_number") if form.get(name)}
    try:
        update = ContainerUpdate.model_validate(body)
    except ValidationError as error:
        errors = forms.from_validation(error, formats(request))
        message = "; ".join(f"{name}: {text}" for name, text in errors.fields.items()) or "; ".join(errors.general)
        return await _departure_page(request, user, session, departure_id, message, 422)
    return await _change_departure(request, user, session, departure_id, f"container-{container_id}",
                                   plans.update_container(session, container_id, update))


async def _change_departure(request: Request, user: User, session: Session, departure_id: int, anchor: str,
                            change: Awaitable[Any]) -> Response:
    """Make ``change``; a refusal rolls it back and shows the departure page again with the reason (a 404 stays
    a 404), else back to the departure at ``anchor``."""
    try:
        await change
    except AppError as error:
        await session.rollback()
        if error.status == 404:
            raise
        return await _departure_page(request, user, session, departure_id, error.detail, error.status)
    return redirect(request, f"/console/departures/{departure_id}#{anchor}")


@router.get("/containers/{container_id}/stuffing.svg")
async def stuffing_picture(request: Request, container_id: ContainerId, user: Viewer, session: Session) -> Response:
    """The same picture as GET /v1/containers/{id}/stuffing.svg."""
    container = await plans.get_container(session, container_id)
    instance, plan = stuffing.stuffing_documents(container)
    title = f"{container.container_number or container.container_type.code} · container {container.id}"
    svg = picture.stuffing_svg(instance, plan, title=title)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store",
                                                              "X-Content-Type-Options": "nosniff"})


@router.get("/containers/{container_id}/loading-plan.pdf")
async def loading_plan(request: Request, container_id: ContainerId, user: Viewer, session: Session) -> Response:
    """The same printed loading plan as GET /v1/containers/{id}/stuffing.pdf."""
    container = await plans.get_container(session, container_id)
    instance, plan = stuffing.stuffing_documents(container)
    departure = await get_departure(session, container.plan.departure_id)
    header = stuffing.paper_header(container, departure, await plans.bookings_of(session, container))
    pdf = await run_in_threadpool(paper.loading_plan_pdf, instance, plan, header)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="loading-plan-{container_id}.pdf"', "Cache-Control": "no-store"})


@router.get("/receipt")
async def receipt_page(
    request: Request, user: Receiver, session: Session,
    reference: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Find a booking by its reference (typed or scanned) to record what the CFS measured."""
    booking = None
    wanted = (reference or "").strip().upper()
    if wanted:
        try:
            booking = BookingRead.model_validate(
                records.booking_read(await records.get_booking(session, user.caller, wanted))).model_dump()
        except NotFound:
            booking = None
    return render(request, "receipt.html", reference=wanted, booking=booking, values={},
                  errors=forms.FormErrors(), searched=bool(wanted))


@router.post("/receipt/{reference}")
async def record_receipt(request: Request, reference: Annotated[str, Path(pattern=r"^CVN[A-Z0-9]{8}$")],
                         user: Receiver, session: Session) -> Response:
    """The same receipt as POST /v1/bookings/{reference}/receipt: measured pieces, weight and volume."""
    form = await read_form(request)
    body: dict[str, Any] = {name: forms.number(form.get(name)) for name in ("pieces", "weight_kg", "volume_cbm")}
    if form.get("note"):
        body["note"] = form.get("note")
    try:
        data = ReceiptIn.model_validate(body)
        await receipt.receive_cargo(session, user.caller, reference, data,
                                    request.app.state.settings.measurement_tolerance)
    except ValidationError as error:
        errors, status = forms.from_validation(error, formats(request)), 422
    except AppError as error:
        await session.rollback()
        if error.status == 404:
            raise
        errors, status = forms.from_app_error(error), error.status
    else:
        return redirect(request, f"/console/receipt?reference={reference}")
    booking = BookingRead.model_validate(
        records.booking_read(await records.get_booking(session, user.caller, reference))).model_dump()
    return render(request, "receipt.html", status=status, reference=reference, booking=booking,
                  values=forms.form_values(form), errors=errors, searched=True)
