"""Why a quote has no options: it always says (``QuoteRead.no_options_reason``).

Asked in order, the first answer wins: every itinerary found was left out (for the
cargo, the currency or space: ``left_out`` lists them); no service, nor a chain of
services, runs between the places; the itineraries need more legs than
``max_legs``; the departures that would serve have closed for booking; or none
leaves (and connects) within the search's horizon of ``ready_at``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.network.models import Departure, Service
from app.network.schemas import DepartureStatus
from app.routing.index import BuiltNetwork, connected
from app.routing.schemas import NoOptionsCode, QuoteRequest

MAX_LEGS_LIMIT = 6  # QuoteRequest.max_legs' bound


async def no_options_reason(
    session: AsyncSession,
    built: BuiltNetwork,
    data: QuoteRequest,
    origins: list[str],
    destinations: list[str],
    ready_at: datetime,
    now: datetime,
    horizon_days: float,
    left_out: list[dict],
    legs_needed: Callable[[int], int | None],
) -> dict:
    """The code and detail of why no option was found. ``legs_needed(max_legs)`` runs the search with
    more legs allowed and gives the fewest legs an itinerary then takes (None when none is found)."""
    places = f"from {data.origin} to {data.destination}"
    if left_out:
        first = left_out[0]
        return {"code": NoOptionsCode.ALL_LEFT_OUT, "detail": (
            f"every itinerary {places} was left out for this cargo, currency or space (see left_out); "
            f"the first: {first['detail']}")}
    if not connected(built, origins, destinations):
        return {"code": NoOptionsCode.NO_SERVICE, "detail": f"no service, nor a chain of services, runs {places}"}
    if data.max_legs < MAX_LEGS_LIMIT:
        legs = legs_needed(MAX_LEGS_LIMIT)
        if legs is not None:
            return {"code": NoOptionsCode.TOO_MANY_LEGS, "detail": (
                f"the itineraries {places} take {legs} legs; max_legs is {data.max_legs}")}
    horizon_end = ready_at + timedelta(days=horizon_days)
    serving = [code for code, route in built.routes.items() if set(route[:-1]) & set(origins)]
    closed = (
        await session.execute(
            select(Departure.id, Service.code, Departure.cutoff_at)
            .join(Service, Service.id == Departure.service_id)
            .where(
                Service.code.in_(serving), Departure.departs_at > now, Departure.departs_at <= horizon_end,
                or_(Departure.status == DepartureStatus.CLOSED.value,
                    (Departure.status == DepartureStatus.OPEN.value) & (Departure.cutoff_at <= now)),
            )
            .order_by(Departure.departs_at, Departure.id)
            .limit(1)
        )
    ).first()
    if closed is not None:
        departure_id, service, cutoff_at = closed
        return {"code": NoOptionsCode.DEPARTURES_CLOSED, "detail": (
            f"the departures {places} within {horizon_days:g} days of ready_at have closed for booking "
            f"(departure {departure_id} of {service} closed at {cutoff_at.isoformat()}), and no open one connects")}
    return {"code": NoOptionsCode.NO_DEPARTURE_IN_WINDOW, "detail": (
        f"services run {places}, but no departure open for booking leaves and connects within "
        f"{horizon_days:g} days of ready_at ({ready_at.isoformat()})")}
