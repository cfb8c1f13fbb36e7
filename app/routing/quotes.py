"""Quotes: priced options over the search network for a cargo, stored so that one can be booked.

Each option's legs are checked against their departures as they stand: the
service's rules for the cargo (``app.cargo``), the rate card's currency, the
departure's free volume and, for what is offered, its packing (space control).
Booking an option is the booking desk's (``app.booking_desk.quoted``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import cargo as core
from app.accounts.service import Caller
from app.bookings.cargo import cargo_booking, check_cargo
from app.bookings.models import Booking
from app.bookings.records import booked_cbm_by_departure, token
from app.bookings.schemas import CargoLineIn
from app.cargo import CargoFigures, PriceBreakdown, RateTerms, price
from app.consolidation import space
from app.db import DriverStatement, utcnow
from app.errors import NotFound, Unprocessable
from app.network.snapshots import departure_snapshots
from app.routing import emissions
from app.routing.index import BuiltNetwork, ServiceInfo, network_for
from app.routing.models import QuoteOption
from app.routing.no_options import no_options_reason
from app.routing.schemas import LeftOutReason, QuoteRequest
from app.routing.search import Itinerary, Network, Trip, search, search_many

QUOTE_VALIDITY = timedelta(hours=24)
HORIZON_DAYS = 60.0
MAX_OPTIONS = 12


@dataclass(frozen=True)
class Verdict:
    reason: LeftOutReason
    detail: str
    field: str | None


def _verdict(problem: core.CargoProblem) -> Verdict:
    return Verdict(LeftOutReason(problem.reason), problem.detail, problem.field())


def service_verdict(cargo: list[CargoLineIn], service: ServiceInfo, containers: dict[str, core.ContainerFit]) -> Verdict | None:
    """Why ``service`` cannot take ``cargo``, or None when it can (the cargo core's rules)."""
    problem = core.service_problem(cargo, service.code, service.forbidden_dg_classes, service.reefer_allowed)
    rules = service.rail_rules
    if problem is None and rules is not None:
        problem = core.dg_problem(cargo, service.code, rules)
    if problem is not None:
        return _verdict(problem)
    reefer = any(line.temperature_c for line in cargo)
    usable = [
        containers[code] if rules is None
        # each type's payload capped by the gross weight a container may have on its wagon, less its tare
        else replace(containers[code], payload_kg=rules.cargo_cap_kg(code, containers[code].payload_kg))
        for code in service.container_types if code in containers and (containers[code].reefer or not reefer)
    ]
    if not usable:
        return Verdict(LeftOutReason.PIECE_TOO_LARGE, f"service {service.code} offers no suitable container type", None)
    misfit = core.piece_misfit(cargo, usable, service.code, service.container_types)
    if misfit is None and rules is not None:
        misfit = core.weight_problem(cargo, max(c.payload_kg for c in usable), service.code)
    return _verdict(misfit) if misfit is not None else None


@dataclass(frozen=True)
class _AnyService:
    """A stand-in that accepts any cargo, so ``check_cargo`` checks only the cargo's own rules (one climate, size)."""

    code: str = "*"
    forbidden_dg_classes: tuple = ()
    reefer_allowed: bool = True
    weight_per_cbm_kg: float = 1.0e9


# --- quoting -------------------------------------------------------------------------------

def _resolve(built: BuiltNetwork, place: str, field_name: str) -> list[str]:
    codes = built.places.get(place)
    if not codes:
        raise Unprocessable(field_name, f"unknown place {place}: neither a hub code nor the UN/LOCODE of a hub")
    return codes


def _dominated(a: Itinerary, b: Itinerary) -> bool:
    """True when ``b`` matches or beats ``a`` on arrival, price and legs, and beats it on one."""
    return (
        b.arrives_at <= a.arrives_at and b.price <= a.price and b.n_legs <= a.n_legs
        and (b.arrives_at < a.arrives_at or b.price < a.price or b.n_legs < a.n_legs)
    )


def _pareto(itineraries: list[Itinerary]) -> list[Itinerary]:
    seen: set = set()
    out = []
    for it in sorted(itineraries, key=lambda i: (i.arrives_at, i.price, i.n_legs)):
        if it.criteria() in seen or any(_dominated(it, other) for other in itineraries if other is not it):
            continue
        seen.add(it.criteria())
        out.append(it)
    return out


def _search_all(
    network: Network, origins: list[str], destinations: list[str], ready_at: datetime, price_fn, exclude, max_legs: int
) -> list[Itinerary]:
    kw = dict(price_fn=price_fn, exclude=exclude, max_legs=max_legs, horizon_days=HORIZON_DAYS)
    if not set(origins) & set(destinations):  # one pass from every origin hub to every destination hub
        return search_many(network, origins, destinations, ready_at, **kw)
    found: list[Itinerary] = []
    for origin in origins:
        for destination in destinations:
            if origin != destination:
                found += search(network, origin, destination, ready_at, **kw)
    return _pareto(found)


def _main_leg(itinerary: Itinerary) -> int:
    """The leg whose departure's space the booking holds: the longest ride (the trunk rail, sea or air leg)."""
    durations = [leg.arrives_at - leg.departs_at for leg in itinerary.legs]
    return durations.index(max(durations))


CHECK_ROUNDS = 4
_OPTION_COLUMNS = [column.key for column in QuoteOption.__table__.columns if column.key != "id"]
_INSERT_OPTIONS = DriverStatement(insert(QuoteOption.__table__), _OPTION_COLUMNS)


@dataclass
class _SpaceCheck:
    """What the quote learnt of the departures its options ride: whether each takes the cargo (by trip id)."""

    built: BuiltNetwork
    cargo: Booking
    cbm_per_teu: float
    need_cbm: Callable[[str], float]  # the cargo's chargeable CBM on a trip's service
    checked: dict[str, bool] = field(default_factory=dict)

    async def unfit(self, session: AsyncSession, itineraries: list[Itinerary]) -> dict[str, str]:
        """The legs' departures, not checked before, that would not take the cargo as they stand, with why.

        Volume first (the departure's capacity less the chargeable CBM its space-holding bookings hold),
        then, for those with the volume, the packing as space control packs it. Read for these
        departures only, in two round trips: not for every departure the search might have looked at."""
        built = self.built
        legs = {leg.trip_id: leg for itinerary in itineraries for leg in itinerary.legs if leg.trip_id not in self.checked}
        if not legs:
            return {}
        departure_ids = [built.trips[trip_id].departure_id for trip_id in legs]
        booked = await booked_cbm_by_departure(session, departure_ids)
        departures = built.departures  # snapshots: a change of a departure's row builds a new network
        missing = [departure_id for departure_id in departure_ids if departure_id not in departures]
        departures.update(await departure_snapshots(session, missing))
        riders = await space.booking_fingerprints_of(session, departure_ids)
        unfit: dict[str, str] = {}
        for trip_id, leg in legs.items():
            info = built.trips[trip_id]
            free = info.capacity_teu * self.cbm_per_teu - booked.get(info.departure_id, 0.0)
            need = self.need_cbm(trip_id)
            if free + 1e-9 < need:
                unfit[trip_id] = (f"departure {info.departure_id} of {info.service_code} has {max(free, 0.0):.3f} CBM "
                                  f"free; the cargo needs {need} CBM")
            elif not await space.fits_as_it_stands(session, departures[info.departure_id], self.cargo,
                                                   built.hub_locodes[leg.to_hub], riders[info.departure_id]):
                unfit[trip_id] = (f"departure {info.departure_id} of {info.service_code} cannot pack the cargo into "
                                  f"the containers its {info.capacity_teu} TEU leave")
            self.checked[trip_id] = trip_id not in unfit
        return unfit


async def create_quote(session: AsyncSession, caller: Caller, data: QuoteRequest, cbm_per_teu: float) -> dict:
    """Priced options from origin to destination for the cargo; stored so that one can be booked."""
    now = utcnow()
    ready_at = max(data.ready_at, now)
    built = await network_for(session, now)
    origins = _resolve(built, data.origin, "origin")
    destinations = _resolve(built, data.destination, "destination")
    if set(origins) == set(destinations):
        raise Unprocessable("destination", "must differ from the origin")
    totals, lines = check_cargo(data.cargo, _AnyService())  # the cargo's own rules: one climate, valid lines
    figures_of: dict[str, CargoFigures] = {}

    def figures(service: ServiceInfo) -> CargoFigures:
        if service.code not in figures_of:
            figures_of[service.code] = CargoFigures(
                chargeable_cbm=core.chargeable_cbm(totals.occupied_cbm, totals.weight_kg, service.weight_per_cbm_kg),
                dangerous_goods=bool(totals.dg_classes),
                reefer=totals.temperature_min_c is not None,
                non_stackable_footprint_m2=totals.footprint_m2 or 0.0,
            )
        return figures_of[service.code]

    explained_of: dict[str, dict] = {}

    def explained(service: ServiceInfo) -> dict:
        if service.code not in explained_of:
            explained_of[service.code] = core.explain_chargeable(data.cargo, service.weight_per_cbm_kg).as_json()
        return explained_of[service.code]

    verdicts = {
        code: verdict
        for code, service in built.services.items()
        if (verdict := service_verdict(data.cargo, service, built.containers)) is not None
    }
    terms = built.terms.__getitem__  # each departure's rate card (or fallback), found when the network was built
    asked_terms: dict[str, RateTerms] = {}  # the terms of the trips the search looked at
    leg_prices: dict[tuple[str, int, core.Ends], PriceBreakdown] = {}

    def breakdown(trip_id: str, ends: core.Ends = core.Ends()) -> PriceBreakdown:
        """The leg's price: its freight, and the ends of the journey it carries (the search ranks by freight).
        Priced once per service, card and ends: the departures a card covers share one price."""
        code = built.trips[trip_id].service_code
        leg_terms = terms(trip_id)
        key = (code, id(leg_terms), ends)
        found = leg_prices.get(key)
        if found is None:
            found = leg_prices[key] = price(leg_terms, figures(built.services[code]), ends)
        return found

    freight: dict[str, Decimal] = {}

    def price_fn(trip: Trip, _board: str, _alight: str) -> Decimal:
        found = freight.get(trip.id)
        if found is None:
            found = freight[trip.id] = breakdown(trip.id).total
        return found

    # Space: departures that cannot take this cargo are full for it; found for the legs the search
    # offers (below), as reading every departure's booked space would cost a scan of the bookings.
    full: dict[str, str] = {}  # trip id -> why the departure cannot take this cargo

    def closed(trip: Trip) -> bool:
        return built.trips[trip.id].cutoff_at <= now

    def left_out_reason(trip: Trip) -> tuple[str, Verdict] | None:
        code = trip.service_code
        if code in verdicts:
            return code, verdicts[code]
        leg_terms = asked_terms[trip.id] = terms(trip.id)
        currency = leg_terms.currency
        if currency != data.currency:
            return code, Verdict(
                LeftOutReason.CURRENCY, f"service {code} is priced in {currency}; the quote asks for {data.currency}", "currency"
            )
        if trip.id in full:
            return trip.id, Verdict(LeftOutReason.DEPARTURE_FULL, full[trip.id], None)
        return None

    def excluded(trip: Trip) -> bool:
        return closed(trip) or left_out_reason(trip) is not None

    network = built.network
    itineraries = _search_all(network, origins, destinations, ready_at, price_fn, excluded, data.max_legs)
    # Each offered leg's departure must have the cargo's chargeable volume free and still pack it as
    # space control packs it, or the booking would be waitlisted or refused. A departure that does
    # not is left out and the search runs again, a few rounds at most; what is offered is checked.
    checks = _SpaceCheck(built, cargo_booking(totals, lines), cbm_per_teu,
                         lambda trip_id: figures(built.services[built.trips[trip_id].service_code]).chargeable_cbm)
    for _ in range(CHECK_ROUNDS):
        unfit = await checks.unfit(session, itineraries)
        if not unfit:
            break
        full.update(unfit)
        itineraries = _search_all(network, origins, destinations, ready_at, price_fn, excluded, data.max_legs)
    else:
        full.update(await checks.unfit(session, itineraries))
        itineraries = [it for it in itineraries if not any(leg.trip_id in full for leg in it.legs)]
    # What would have been offered without the cargo, currency and space rules: report what they cost.
    left_out: dict[str, dict] = {}
    if verdicts or full or any(t.currency != data.currency for t in asked_terms.values()):
        unconstrained = _search_all(network, origins, destinations, ready_at, price_fn, closed, data.max_legs)
        for itinerary in unconstrained:
            for leg in itinerary.legs:
                trip = network.trips[leg.trip_id]
                hit = left_out_reason(trip)
                if hit is not None and hit[0] not in left_out:
                    key, verdict = hit
                    left_out[key] = {
                        "service": trip.service_code,
                        "mode": trip.mode.value,
                        "departure_id": int(trip.id) if verdict.reason is LeftOutReason.DEPARTURE_FULL else None,
                        "reason": verdict.reason,
                        "detail": verdict.detail,
                        "field": verdict.field,
                    }

    left_out_list = sorted(left_out.values(), key=lambda e: (e["service"], e["departure_id"] or 0))
    reason = None
    if not itineraries:
        def legs_needed(max_legs: int) -> int | None:
            found = _search_all(network, origins, destinations, ready_at, price_fn, excluded, max_legs)
            return min((it.n_legs for it in found), default=None)

        reason = await no_options_reason(
            session, built, data, origins, destinations, ready_at, now, HORIZON_DAYS, left_out_list, legs_needed
        )
    ranked = emissions.rank(built.emissions, itineraries, totals.weight_kg, lambda i: door_to_door(i, breakdown, data),
                            data.sort)
    itineraries = [itinerary for itinerary, _ in ranked][:MAX_OPTIONS]
    footprint_of = {id(itinerary): fp for itinerary, fp in ranked}
    quote_id = token("QT", 12)
    fastest = min(itineraries, key=lambda i: (i.arrives_at, i.price), default=None)
    cheapest = min(itineraries, key=lambda i: (door_to_door(i, breakdown, data), i.arrives_at), default=None)
    options, stored = [], []
    for itinerary in itineraries:
        option = _store_option(
            session, caller, data, quote_id, now, ready_at, totals, itinerary, network, built, terms, breakdown, figures,
            explained,
        )
        option.co2e = footprint_of[id(itinerary)].as_json()
        stored.append(vars(option))
        options.append(option_read(option, itinerary is fastest, itinerary is cheapest))
    await _INSERT_OPTIONS.many(session, stored)  # one round trip for all, without the ORM's unit of work
    return {
        "id": quote_id,
        "origin": data.origin,
        "destination": data.destination,
        "ready_at": ready_at,
        "pieces": totals.pieces,
        "weight_kg": totals.weight_kg,
        "volume_cbm": totals.volume_cbm,
        "pickup": data.pickup,
        "delivery": data.delivery,
        "incoterm": data.incoterm,
        "options": options,
        "left_out": left_out_list,
        "no_options_reason": reason,
    }


def leg_ends(index: int, count: int, data: QuoteRequest) -> core.Ends:
    """The ends of the journey leg ``index`` of ``count`` carries, with the pickup and delivery the quote asks for."""
    return core.Ends.of_leg(index, count, pickup=data.pickup, delivery=bool(data.delivery))


def door_to_door(itinerary: Itinerary, breakdown: Callable[..., PriceBreakdown], data: QuoteRequest) -> Decimal:
    """The option's whole price: each leg's freight and the ends it carries."""
    count = len(itinerary.legs)
    return sum((breakdown(leg.trip_id, leg_ends(i, count, data)).total for i, leg in enumerate(itinerary.legs)),
               Decimal("0.00"))


def _store_option(
    session: AsyncSession,
    caller: Caller,
    data: QuoteRequest,
    quote_id: str,
    now: datetime,
    ready_at: datetime,
    totals: Any,
    itinerary: Itinerary,
    network: Network,
    built: BuiltNetwork,
    terms: Callable[[str], RateTerms],
    breakdown: Callable[..., PriceBreakdown],
    figures: Callable[[ServiceInfo], CargoFigures],
    explained: Callable[[ServiceInfo], dict],
) -> SimpleNamespace:
    legs = []
    total = PriceBreakdown.zero(data.currency)
    for index, leg in enumerate(itinerary.legs):
        local = network.local_times(leg)
        info = built.trips[leg.trip_id]
        service = built.services[leg.service_code]
        leg_price = breakdown(leg.trip_id, leg_ends(index, len(itinerary.legs), data))
        total = total + leg_price
        legs.append(
            {
                "mode": leg.mode.value,
                "service": leg.service_code,
                "departure_id": info.departure_id,
                "departure_cutoff_at": info.cutoff_at.isoformat(),
                "from_hub": leg.from_hub,
                "to_hub": leg.to_hub,
                "cutoff_at": leg.cutoff_at.isoformat(),
                "departs_at": leg.departs_at.isoformat(),
                "arrives_at": leg.arrives_at.isoformat(),
                "local": {
                    "cutoff_at": local.cutoff_at.isoformat(),
                    "departs_at": local.departs_at.isoformat(),
                    "arrives_at": local.arrives_at.isoformat(),
                },
                "weight_per_cbm_kg": service.weight_per_cbm_kg,
                "chargeable_cbm": figures(service).chargeable_cbm,
                "chargeable_explained": explained(service),
                "terms": terms(leg.trip_id).as_json(),
                "price": leg_price.as_json(),
            }
        )
    earliest_cutoff = min(built.trips[leg.trip_id].cutoff_at for leg in itinerary.legs)
    # The row's columns (QuoteOption's, read back as one by ``option_read``), without an ORM instance:
    # written in one statement with the quote's other options.
    option = SimpleNamespace(
        public_id=token("QO", 12),
        quote_id=quote_id,
        organization_id=caller.organization_id,
        origin=data.origin,
        destination=data.destination,
        ready_at=ready_at,
        cargo=[line.model_dump(mode="json", by_alias=True) for line in data.cargo],
        figures={"pieces": totals.pieces, "weight_kg": totals.weight_kg, "volume_cbm": totals.volume_cbm,
                 **door_services(data)},
        legs=legs,
        main_leg=_main_leg(itinerary),
        departs_at=itinerary.departs_at,
        arrives_at=itinerary.arrives_at,
        currency=data.currency,
        price_amount=total.total,
        price=total.as_json(),
        valid_until=min(now + QUOTE_VALIDITY, earliest_cutoff),
        booking_id=None,
        created_at=now,
        co2e=None,
    )
    return option


def door_services(data: QuoteRequest) -> dict[str, Any]:
    """What an option holds of the request beside the cargo, for its booking: pickup, delivery, the Incoterm."""
    return {"pickup": data.pickup, "delivery": bool(data.delivery), "incoterm": data.incoterm}


def option_read(option: QuoteOption, fastest: bool = False, cheapest: bool = False, booking_reference: str | None = None) -> dict:
    modes = list(dict.fromkeys(leg["mode"] for leg in option.legs))
    return {
        "id": option.public_id,
        "quote_id": option.quote_id,
        "origin": option.origin,
        "destination": option.destination,
        "ready_at": option.ready_at,
        "departs_at": option.departs_at,
        "arrives_at": option.arrives_at,
        "transit_days": round((option.arrives_at - option.departs_at) / timedelta(days=1), 1),
        "door_to_door_days": round((option.arrives_at - option.ready_at) / timedelta(days=1), 1),
        "modes": modes,
        "fastest": fastest,
        "cheapest": cheapest,
        "legs": [
            {key: leg.get(key) for key in (
                "mode", "service", "departure_id", "from_hub", "to_hub", "cutoff_at", "departs_at", "arrives_at",
                "local", "chargeable_cbm", "chargeable_explained", "price",
            )}
            | {"co2e": _leg_co2e(option, index)}
            for index, leg in enumerate(option.legs)
        ],
        "price": option.price,
        "co2e": option.co2e,
        "valid_until": option.valid_until,
        "booking_reference": booking_reference,
    }


def _leg_co2e(option: QuoteOption, index: int) -> dict | None:
    legs = (option.co2e or {}).get("legs") or []
    return legs[index]["co2e"] if index < len(legs) else None


# --- booking from an option ------------------------------------------------------------

async def get_option(session: AsyncSession, caller: Caller, public_id: str, *, lock: bool = False) -> QuoteOption:
    """The caller's own quote option, or 404 (another organisation's option does not exist for them)."""
    query = select(QuoteOption).where(QuoteOption.public_id == public_id)
    if lock:
        query = query.with_for_update()
    option = await session.scalar(query)
    if option is None or option.organization_id != caller.organization_id:
        raise NotFound(f"quote option {public_id} not found", "quote_option_id")
    return option


async def booking_reference_of(session: AsyncSession, option: QuoteOption) -> str | None:
    if option.booking_id is None:
        return None
    return await session.scalar(select(Booking.reference).where(Booking.id == option.booking_id))


async def quote_option_read(session: AsyncSession, caller: Caller, public_id: str) -> dict:
    option = await get_option(session, caller, public_id)
    return option_read(option, booking_reference=await booking_reference_of(session, option))


