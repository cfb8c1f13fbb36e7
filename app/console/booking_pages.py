"""Bookings in the console: the list (filterable), one booking with its tracking and route,
amending it before the cut-off, and cancelling it. Exporters see their own; the operator all."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.accounts.dependencies import Session
from app.accounts.schemas import Scope
from app.booking_desk import change
from app.bookings import records
from app.bookings.schemas import BookingRead, BookingStatus, BookingUpdate, PackageType
from app.console import forms
from app.console.route import route_of
from app.console.web import User, formats, needs, read_form, redirect, render
from app.db import utcnow
from app.errors import AppError
from app.fields import MAX_ID
from app.pagination import decode_cursor, page_of
from app.tracking import feed
from app.tracking.schemas import TrackingRead

router = APIRouter(prefix="/console", include_in_schema=False)

Reference = Annotated[str, Path(pattern=r"^CVN[A-Z0-9]{8}$")]
Reader = Annotated[User, needs(Scope.BOOKINGS_READ)]
Writer = Annotated[User, needs(Scope.BOOKINGS_WRITE)]
AMENDABLE = {BookingStatus.RECEIVED.value, BookingStatus.CONFIRMED.value, BookingStatus.WAITLISTED.value}
PAGE = 25


@router.get("/bookings")
async def bookings(
    request: Request,
    user: Reader,
    session: Session,
    status: BookingStatus | None = None,
    departure: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The same list as GET /v1/bookings: the organisation's own (the operator's: all)."""
    rows = await records.list_bookings(session, user.caller, decode_cursor(cursor), PAGE,
                                       status.value if status else None, departure)
    items, next_cursor = page_of(rows, PAGE)
    shown = [BookingRead.model_validate(records.booking_read(b)).model_dump() for b in items]
    return render(request, "bookings.html", bookings=shown, next_cursor=next_cursor,
                  status_filter=status.value if status else "", departure=departure or "",
                  statuses=[s.value for s in BookingStatus])


async def _booking(session, user: User, reference: str) -> tuple[Any, dict[str, Any]]:
    row = await records.get_booking(session, user.caller, reference)
    return row, BookingRead.model_validate(records.booking_read(row)).model_dump()


def _open_for_change(booking: dict[str, Any]) -> bool:
    return booking["status"] in AMENDABLE and utcnow() < booking["cutoff_at"]


@router.get("/bookings/{reference}")
async def booking_page(
    request: Request, reference: Reference, user: Reader, session: Session,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    row, booking = await _booking(session, user, reference)
    tracking = TrackingRead.model_validate(await feed.tracking_for(session, user.caller, reference)).model_dump()
    route = await route_of(session, booking["legs"], tracking["legs"])
    return render(request, "booking.html", booking=booking, tracking=tracking, route=route,
                  etag=records.etag(row), may_change=_open_for_change(booking) and user.may("bookings:write"),
                  done=done if done in ("booked", "amended", "cancelled") else None)


def _amend_page(request: Request, booking: dict, etag: str, values: dict, errors, status: int = 200) -> Response:
    lines = len({name.split("-")[1] for name in values if name.startswith("cargo-")}) or 1
    return render(request, "amend.html", status=status, booking=booking, etag=etag, values=values, errors=errors,
                  package_types=[p.value for p in PackageType], line_count=lines)


@router.get("/bookings/{reference}/amend")
async def amend_form(request: Request, reference: Reference, user: Writer, session: Session) -> Response:
    row, booking = await _booking(session, user, reference)
    values: dict[str, Any] = {f"consignee-{k}": v for k, v in (booking["consignee"] or {}).items() if v}
    for index, line in enumerate(booking["cargo"]):
        values.update(forms.line_values(line, index))
    values["allow_rollover"] = booking["allow_rollover"]
    return _amend_page(request, booking, records.etag(row), values, forms.FormErrors())


@router.post("/bookings/{reference}/amend")
async def amend(request: Request, reference: Reference, user: Writer, session: Session) -> Response:
    """The same amendment as PATCH /v1/bookings/{reference}: If-Match is the version the form was filled from."""
    form = await read_form(request)
    values = forms.form_values(form)
    values["allow_rollover"] = form.flag("allow_rollover")
    body = {"consignee": forms.consignee(form), "cargo": forms.cargo_lines(form),
            "allow_rollover": form.flag("allow_rollover")}
    try:
        data = BookingUpdate.model_validate(body)
        await change.amend_booking(session, user.caller, reference, data, form.get("etag") or None)
    except ValidationError as error:
        errors, status = forms.from_validation(error, formats(request)), 422
    except AppError as error:
        await session.rollback()
        if error.status == 404:
            raise
        errors, status = forms.from_app_error(error), error.status
    else:
        return redirect(request, f"/console/bookings/{reference}?done=amended")
    row, booking = await _booking(session, user, reference)
    return _amend_page(request, booking, form.get("etag") or records.etag(row), values, errors, status)


@router.post("/bookings/{reference}/cancel")
async def cancel(request: Request, reference: Reference, user: Writer, session: Session) -> Response:
    """The same cancellation as POST /v1/bookings/{reference}/cancel."""
    await read_form(request)
    await change.cancel_booking(session, user.caller, reference)
    return redirect(request, f"/console/bookings/{reference}?done=cancelled")
