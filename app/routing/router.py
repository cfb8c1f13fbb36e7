from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from app.accounts.dependencies import CurrentCaller, Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.pagination import Cursor, Limit, Page, decode_cursor, page_of
from app.routing import quotes, rates
from app.routing.schemas import (
    QuoteOptionRead,
    QuoteRead,
    QuoteRequest,
    RateCardCreate,
    RateCardRead,
)

router = APIRouter(prefix="/v1")

ServiceCodeInPath = Annotated[str, Path(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")]
OptionId = Annotated[str, Path(pattern=r"^QO[A-Z0-9]{12}$", description="A quote option id such as QO7K3QX9PAB2CD")]


@router.get("/services/{code}/rates", response_model=Page[RateCardRead], tags=["rates"], summary="List a service's rate cards")
async def list_rate_cards(
    code: ServiceCodeInPath, caller: CurrentCaller, session: Session, limit: Limit = 20, cursor: Cursor = None
):
    """Every version of the service's rate card, oldest first."""
    svc = await rates.service_by_code(session, code)
    rows = await rates.list_rate_cards(session, svc, decode_cursor(cursor), limit)
    items, next_cursor = page_of(rows, limit)
    return {"items": [rates.rate_card_read(card, svc.code) for card in items], "next_cursor": next_cursor}


@router.post("/services/{code}/rates", status_code=201, response_model=RateCardRead, tags=["rates"], summary="Publish a rate card")
async def create_rate_card(
    code: ServiceCodeInPath,
    body: RateCardCreate,
    caller: Annotated[Caller, requires(Scope.NETWORK_WRITE, operator=True)],
    session: Session,
):
    """Publish the next version; it prices departures leaving in [valid_from, valid_to)."""
    svc = await rates.service_by_code(session, code)
    card = await rates.create_rate_card(session, svc, body)
    return rates.rate_card_read(card, svc.code)


@router.post("/quotes", status_code=201, response_model=QuoteRead, tags=["quotes"], summary="Quote itineraries")
async def create_quote(
    request: Request, body: QuoteRequest, caller: Annotated[Caller, requires(Scope.BOOKINGS_WRITE)], session: Session
):
    """Priced itineraries (fastest, cheapest and the trade-offs between), each bookable until valid_until,
    each with its CO2e by ISO 14083 (WTW and TTW kg, per leg and hub call). Only options that no other
    beats on door-to-door price, arrival and CO2e together are offered, ordered by `sort`."""
    return await quotes.create_quote(session, caller, body, request.app.state.settings.cbm_per_teu)


@router.get("/quote-options/{option_id}", response_model=QuoteOptionRead, tags=["quotes"], summary="Get a quote option")
async def get_quote_option(
    option_id: OptionId, caller: Annotated[Caller, requires(Scope.BOOKINGS_READ)], session: Session
):
    """One of your quote options, with the booking made from it, if any."""
    return await quotes.quote_option_read(session, caller, option_id)
