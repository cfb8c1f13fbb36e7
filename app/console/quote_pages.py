"""The exporter's quote: a form, then the options side by side; booking from an option."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.accounts.dependencies import Session
from app.accounts.schemas import Scope
from app.booking_desk import create
from app.bookings.schemas import BookingCreate, Incoterm, PackageType
from app.console import forms
from app.console.web import User, formats, needs, read_form, redirect, render
from app.db import utcnow
from app.errors import AppError
from app.network.service import list_hubs
from app.routing import quotes
from app.routing.schemas import QuoteOptionRead, QuoteRead, QuoteRequest

router = APIRouter(prefix="/console", include_in_schema=False)

OptionId = Annotated[str, Path(pattern=r"^QO[A-Z0-9]{12}$")]
Quoter = Annotated[User, needs(Scope.BOOKINGS_WRITE)]
HUB_KINDS_QUOTED = ("RAIL_TERMINAL", "CFS", "RIVER_PORT", "AIRPORT", "ROAD_DEPOT")


async def hub_choices(session) -> list[Any]:
    """Places an exporter ships from or to (not the border crossings), by code."""
    hubs = await list_hubs(session, 0, 500)
    return sorted((h for h in hubs if h.kind in HUB_KINDS_QUOTED), key=lambda h: h.code)


def _blank_quote_form() -> dict[str, Any]:
    ready = (utcnow() + timedelta(days=1)).date().isoformat()
    return {"origin": "CNWUH-HOC", "destination": "DEDUI", "ready_at": ready, "currency": "EUR",
            "cargo-0-package_type": "CARTON", "cargo-0-stackable": True}


def _quote_page(request: Request, hubs, values, errors=None, quote=None, status: int = 200) -> Response:
    return render(request, "quote.html", status=status, hubs=hubs, values=values,
                  errors=errors or forms.FormErrors(), quote=quote, package_types=[p.value for p in PackageType],
                  incoterms=[i.value for i in Incoterm], line_count=max(1, _lines_in(values)))


def _lines_in(values: dict[str, Any]) -> int:
    return len({name.split("-")[1] for name in values if name.startswith("cargo-") and name.count("-") >= 2})


@router.get("/quote")
async def quote_form(request: Request, user: Quoter, session: Session) -> Response:
    return _quote_page(request, await hub_choices(session), _blank_quote_form())


@router.post("/quote")
async def quote(request: Request, user: Quoter, session: Session) -> Response:
    """Ask for options: the same QuoteRequest and the same quoting service as POST /v1/quotes."""
    form = await read_form(request)
    values = forms.form_values(form)
    hubs = await hub_choices(session)
    body: dict[str, Any] = {"origin": form.get("origin"), "destination": form.get("destination"),
                            "ready_at": form.get("ready_at"), "cargo": forms.cargo_lines(form),
                            "currency": form.get("currency") or "EUR", "pickup": form.flag("pickup")}
    if form.flag("delivery"):
        body["delivery"] = True
    if form.get("incoterm"):
        body["incoterm"] = form.get("incoterm")
    try:
        data = QuoteRequest.model_validate(body)
    except ValidationError as error:
        return _quote_page(request, hubs, values, forms.from_validation(error, formats(request)), status=422)
    try:
        result = await quotes.create_quote(session, user.caller, data, request.app.state.settings.cbm_per_teu)
    except AppError as error:
        await session.rollback()
        return _quote_page(request, hubs, values, forms.from_app_error(error), status=error.status)
    shown = QuoteRead.model_validate(result).model_dump()
    return _quote_page(request, hubs, values, quote=shown, status=201)


async def _option(session, user: User, option_id: str) -> dict[str, Any]:
    return QuoteOptionRead.model_validate(await quotes.quote_option_read(session, user.caller, option_id)).model_dump()


@router.get("/book/{option_id}")
async def book_form(request: Request, option_id: OptionId, user: Quoter, session: Session) -> Response:
    option = await _option(session, user, option_id)
    return render(request, "book.html", option=option, values={}, errors=forms.FormErrors(),
                  incoterms=[i.value for i in Incoterm])


@router.post("/book/{option_id}")
async def book(request: Request, option_id: OptionId, user: Quoter, session: Session) -> Response:
    """Book the option: the same BookingCreate and booking desk as POST /v1/bookings."""
    form = await read_form(request)
    option = await _option(session, user, option_id)
    values = forms.form_values(form)
    body: dict[str, Any] = {"quote_option_id": option_id, "consignee": forms.consignee(form),
                            "allow_rollover": form.flag("allow_rollover")}
    if form.get("incoterm"):
        body["incoterm"] = form.get("incoterm")
    if form.get("reference"):
        body["references"] = [{"kind": "SHIPPER_REFERENCE", "value": form.get("reference")}]
    errors = None
    try:
        booking = await create.create_booking(session, user.caller, BookingCreate.model_validate(body))
    except ValidationError as error:
        errors, status = forms.from_validation(error, formats(request)), 422
    except AppError as error:
        await session.rollback()
        errors, status = forms.from_app_error(error), error.status
    if errors is not None:
        return render(request, "book.html", status=status, option=option, values=values, errors=errors,
                      incoterms=[i.value for i in Incoterm])
    return redirect(request, f"/console/bookings/{booking.reference}?done=booked")
