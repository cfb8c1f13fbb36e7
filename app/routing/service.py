"""Quotes: the search network built from the database, priced options, and booking from an option.

The pure search (``app.routing.search``) runs over a :class:`Network` built from
the services and their OPEN departures: one Trip per departure, calling at the
service's origin, stops and destination. The boarding cut-off at the origin is
the departure's ``cutoff_at``; at an intermediate stop it is the stop time minus
the same lead (so a train with a four-day cut-off at Wuhan closes four days
before it passes each stop).

Building that index for a year of departures takes far longer than a query, so
it is cached per process and rebuilt when a cheap fingerprint of the network
(counts, max ids, and ``max(departures.updated_at)``) changes. Things that
change between queries without touching those tables -- cut-offs passing,
space filling up, rate cards -- are applied per query, never baked into the
cache.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import Caller
from app.bookings.models import Booking
from app.bookings.schemas import BookingCreate, BookingStatus, CargoLineIn
from app.bookings.service import (
    REFERENCE_ALPHABET,
    _apply_cargo,
    _before_cutoff,
    _fits,
    _new_reference,
    booked_cbm_by_departure,
    cargo_booking,
    chargeable_cbm,
    check_cargo,
    insert_new,
    transition,
)
from app.consolidation import space
from app.db import utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.fields import dg_class_forbidden
from app.network.models import ContainerType, Departure, Hub, Service
from app.network.service import departures_by_id, is_open_for_booking, lock_departures
from app.routing import rates
from app.routing.models import BookingLeg, QuoteOption
from app.routing.pricing import CargoFigures, PriceBreakdown, RateTerms, price
from app.routing.schemas import LeftOutReason, QuoteRequest
from app.routing.search import Call, Itinerary, Network, Trip, search
from app.routing.search import Hub as SearchHub

QUOTE_VALIDITY = timedelta(hours=24)
HORIZON_DAYS = 60.0
MAX_OPTIONS = 12
MAX_PLACE_HUBS = 8
# A cached network is rebuilt at least this often, so departures whose cut-off
# has passed drop out of memory even when nothing else changes.
NETWORK_MAX_AGE = timedelta(hours=6)

# Inner length and width (cm) of ISO container sizes by the size code's first two characters.
INNER_FLOOR_CM = {"20": (589.0, 235.0), "22": (589.0, 235.0), "40": (1203.0, 235.0), "42": (1203.0, 235.0),
                  "45": (1203.0, 235.0), "L5": (1355.0, 235.0)}
DEFAULT_FLOOR_CM = (589.0, 235.0)


# --- the network index, cached per process -----------------------------------------

@dataclass(frozen=True)
class ServiceInfo:
    id: int
    code: str
    mode: str
    weight_per_cbm_kg: float
    forbidden_dg_classes: tuple[str, ...]
    reefer_allowed: bool
    container_types: tuple[str, ...]
    fallback: RateTerms


@dataclass(frozen=True)
class TripInfo:
    departure_id: int
    service_code: str
    departs_at: datetime
    cutoff_at: datetime
    capacity_teu: int


@dataclass(frozen=True)
class ContainerInfo:
    payload_kg: float
    length_cm: float
    width_cm: float
    height_cm: float
    reefer: bool


@dataclass
class BuiltNetwork:
    key: tuple
    built_at: datetime
    build_seconds: float
    network: Network
    trips: dict[str, TripInfo]
    services: dict[str, ServiceInfo]
    containers: dict[str, ContainerInfo]
    hub_ids: dict[str, int]
    places: dict[str, list[str]] = field(default_factory=dict)
    hub_locodes: dict[str, str] = field(default_factory=dict)


_CACHE: dict[str, BuiltNetwork] = {}


async def _fingerprint(session: AsyncSession) -> tuple:
    """One cheap round trip that changes whenever the network's rows do."""
    row = (
        await session.execute(
            select(
                select(func.count(Departure.id)).scalar_subquery(),
                select(func.max(Departure.id)).scalar_subquery(),
                select(func.max(Departure.updated_at)).scalar_subquery(),
                select(func.count(Service.id)).scalar_subquery(),
                select(func.max(Service.id)).scalar_subquery(),
                select(func.count(Hub.id)).scalar_subquery(),
                select(func.max(Hub.id)).scalar_subquery(),
                select(func.count(ContainerType.id)).scalar_subquery(),
            )
        )
    ).one()
    return tuple(str(v) for v in row)


def _cache_slot(session: AsyncSession) -> str:
    return str(session.bind.url) if session.bind is not None else "default"


async def network_for(session: AsyncSession, now: datetime | None = None) -> BuiltNetwork:
    """The search network of the current rows: from the process cache when its fingerprint still matches."""
    now = now or utcnow()
    key = await _fingerprint(session)
    slot = _cache_slot(session)
    cached = _CACHE.get(slot)
    if cached is not None and cached.key == key and now - cached.built_at < NETWORK_MAX_AGE:
        return cached
    built = await _build(session, key, now)
    _CACHE[slot] = built
    return built


async def _build(session: AsyncSession, key: tuple, now: datetime) -> BuiltNetwork:
    started = time.perf_counter()
    hubs = list(await session.scalars(select(Hub).order_by(Hub.id)))
    services = list(await session.scalars(select(Service).order_by(Service.id)))
    containers = {
        ct.code: container_info(ct.code, ct.payload_kg, ct.inner_height_m, ct.reefer)
        for ct in await session.scalars(select(ContainerType))
    }
    departures = await session.execute(
        select(
            Departure.id, Departure.service_id, Departure.departs_at, Departure.cutoff_at, Departure.arrives_at,
            Departure.capacity_teu,
        )
        .where(Departure.status == "OPEN", Departure.cutoff_at > now)
        .order_by(Departure.id)
    )
    by_id: dict[int, Service] = {s.id: s for s in services}
    service_infos = {
        s.code: ServiceInfo(
            id=s.id,
            code=s.code,
            mode=s.mode,
            weight_per_cbm_kg=s.weight_per_cbm_kg,
            forbidden_dg_classes=tuple(s.forbidden_dg_classes),
            reefer_allowed=s.reefer_allowed,
            container_types=tuple(s.container_types),
            fallback=rates.service_terms(s),
        )
        for s in services
    }
    routes = {
        s.id: (s.origin.code, [(stop.hub.code, timedelta(hours=stop.offset_hours)) for stop in s.stops], s.destination.code)
        for s in services
    }
    trips: list[Trip] = []
    infos: dict[str, TripInfo] = {}
    for dep_id, service_id, departs_at, cutoff_at, arrives_at, capacity_teu in departures:
        service = by_id[service_id]
        origin, stops, destination = routes[service_id]
        lead = departs_at - cutoff_at
        calls = [Call(origin, departs_at=departs_at, cutoff_at=cutoff_at)]
        for hub_code, offset in stops:
            at = departs_at + offset
            if at >= arrives_at:
                break  # a departure faster than its service's stop offsets: stop calls are unknowable
            calls.append(Call(hub_code, arrives_at=at, departs_at=at, cutoff_at=at - lead))
        calls.append(Call(destination, arrives_at=arrives_at))
        trip_id = str(dep_id)
        trips.append(Trip(trip_id, service.code, service.mode, tuple(calls), price_key=service.code))
        infos[trip_id] = TripInfo(dep_id, service.code, departs_at, cutoff_at, capacity_teu)
    network = Network.build(
        (SearchHub(h.code, h.timezone, h.handling_hours) for h in hubs),
        trips,
    )
    places: dict[str, list[str]] = {}
    for h in hubs:  # a UN/LOCODE stands for every hub there; a hub code with a suffix for itself
        places.setdefault(h.un_locode, []).append(h.code)
    for h in hubs:
        if h.code != h.un_locode:
            places[h.code] = [h.code]
    return BuiltNetwork(
        key=key,
        built_at=now,
        build_seconds=time.perf_counter() - started,
        network=network,
        trips=infos,
        services=service_infos,
        containers=containers,
        hub_ids={h.code: h.id for h in hubs},
        places={place: codes[:MAX_PLACE_HUBS] for place, codes in places.items()},
        hub_locodes={h.code: h.un_locode for h in hubs},
    )


# --- cargo against a service ------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    reason: LeftOutReason
    detail: str
    field: str | None


def service_verdict(cargo: list[CargoLineIn], service: ServiceInfo, containers: dict[str, ContainerInfo]) -> Verdict | None:
    """Why ``service`` cannot take ``cargo``, or None when it can (pure)."""
    reefer = any(line.temperature_c for line in cargo)
    for index, line in enumerate(cargo):
        dg = line.dangerous_goods
        if dg and dg_class_forbidden(dg.dg_class, list(service.forbidden_dg_classes)):
            return Verdict(
                LeftOutReason.DG_CLASS_FORBIDDEN,
                f"service {service.code} does not carry dangerous goods of class {dg.dg_class}",
                f"cargo.{index}.dangerous_goods.class",
            )
        if line.temperature_c and not service.reefer_allowed:
            return Verdict(
                LeftOutReason.REEFER_NOT_OFFERED,
                f"service {service.code} takes no temperature-controlled cargo",
                f"cargo.{index}.temperature_c",
            )
    usable = [
        containers[code] for code in service.container_types if code in containers and (containers[code].reefer or not reefer)
    ]
    if not usable:
        return Verdict(LeftOutReason.PIECE_TOO_LARGE, f"service {service.code} offers no suitable container type", None)
    return piece_misfit(cargo, usable, service.code, service.container_types)


def container_info(code: str, payload_kg: float, inner_height_m: float, reefer: bool) -> ContainerInfo:
    """A container type's payload and inner size (the floor from the ISO size code's first two characters)."""
    return ContainerInfo(payload_kg, *INNER_FLOOR_CM.get(code[:2], DEFAULT_FLOOR_CM), inner_height_m * 100, reefer)


def piece_misfit(cargo: list[CargoLineIn], usable: list[ContainerInfo], service_code: str,
                 type_codes: Iterable[str]) -> Verdict | None:
    """The first package too heavy or too large for every one of ``usable`` (pure); None when all fit.

    A package lies on either side but is never tipped over: its height stays its height."""
    for index, line in enumerate(cargo):
        piece_kg = line.weight_kg / line.packages
        heaviest = max(c.payload_kg for c in usable)
        if piece_kg > heaviest:
            return Verdict(
                LeftOutReason.PIECE_TOO_HEAVY,
                f"a package of {piece_kg:g} kg exceeds the {heaviest:g} kg payload of service {service_code}'s containers",
                f"cargo.{index}.weight_kg",
            )
        long_side, short_side = max(line.length_cm, line.width_cm), min(line.length_cm, line.width_cm)
        if not any(
            line.height_cm <= c.height_cm and long_side <= c.length_cm and short_side <= c.width_cm for c in usable
        ):
            tallest = max(c.height_cm for c in usable)
            field_name = "height_cm" if line.height_cm > tallest else "length_cm"
            return Verdict(
                LeftOutReason.PIECE_TOO_LARGE,
                f"a {line.length_cm:g}×{line.width_cm:g}×{line.height_cm:g} cm package fits none of service "
                f"{service_code}'s container types ({', '.join(type_codes)})",
                f"cargo.{index}.{field_name}",
            )
    return None


@dataclass(frozen=True)
class _AnyService:
    """A stand-in that accepts any cargo, so ``check_cargo`` checks only the cargo's own consistency."""

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


def _token(prefix: str, length: int = 12) -> str:
    return prefix + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))


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
    found: list[Itinerary] = []
    for origin in origins:
        for destination in destinations:
            if origin != destination:
                found += search(
                    network, origin, destination, ready_at, price_fn=price_fn, exclude=exclude,
                    max_legs=max_legs, horizon_days=HORIZON_DAYS,
                )
    return _pareto(found)


def _main_leg(itinerary: Itinerary) -> int:
    """The leg whose departure's space the booking holds: the longest ride (the trunk rail, sea or air leg)."""
    durations = [leg.arrives_at - leg.departs_at for leg in itinerary.legs]
    return durations.index(max(durations))


PACKING_ROUNDS = 3


async def _unpacked_trips(
    session: AsyncSession, built: BuiltNetwork, itineraries: list[Itinerary], cargo: Booking, packs: dict[str, bool]
) -> dict[str, str]:
    """The legs' departures that would not take the cargo by the packing as it stands (``packs`` remembers
    each departure's answer across rounds), with the reason a quote gives for leaving them out."""
    legs = {leg.trip_id: leg for itinerary in itineraries for leg in itinerary.legs if leg.trip_id not in packs}
    if not legs:
        return {}
    departures = await departures_by_id(session, [built.trips[trip_id].departure_id for trip_id in legs])
    unpacked: dict[str, str] = {}
    for trip_id, leg in legs.items():
        info = built.trips[trip_id]
        packs[trip_id] = await space.fits_as_it_stands(
            session, departures[info.departure_id], cargo, built.hub_locodes[leg.to_hub]
        )
        if not packs[trip_id]:
            unpacked[trip_id] = (
                f"departure {info.departure_id} of {info.service_code} cannot pack the cargo into the "
                f"containers its {info.capacity_teu} TEU leave"
            )
    return unpacked


async def create_quote(session: AsyncSession, caller: Caller, data: QuoteRequest, cbm_per_teu: float) -> dict:
    """Priced options from origin to destination for the cargo; stored so that one can be booked."""
    now = utcnow()
    ready_at = max(data.ready_at, now)
    built = await network_for(session, now)
    origins = _resolve(built, data.origin, "origin")
    destinations = _resolve(built, data.destination, "destination")
    if set(origins) == set(destinations):
        raise Unprocessable("destination", "must differ from the origin")
    totals = check_cargo(data.cargo, _AnyService())  # the cargo's own rules: one climate, valid lines
    figures_of: dict[str, CargoFigures] = {}

    def figures(service: ServiceInfo) -> CargoFigures:
        if service.code not in figures_of:
            figures_of[service.code] = CargoFigures(
                chargeable_cbm=chargeable_cbm(totals.occupied_cbm, totals.weight_kg, service.weight_per_cbm_kg),
                dangerous_goods=bool(totals.dg_classes),
                reefer=totals.temperature_min_c is not None,
                non_stackable_footprint_m2=totals.footprint_m2 or 0.0,
            )
        return figures_of[service.code]

    verdicts = {
        code: verdict
        for code, service in built.services.items()
        if (verdict := service_verdict(data.cargo, service, built.containers)) is not None
    }
    cards = await rates.cards_by_service(session, [s.id for s in built.services.values()])
    terms_cache: dict[str, RateTerms] = {}

    def terms(trip_id: str) -> RateTerms:
        if trip_id not in terms_cache:
            info = built.trips[trip_id]
            service = built.services[info.service_code]
            card = rates.pick_card(cards.get(service.id, []), info.departs_at)
            terms_cache[trip_id] = rates.terms_of_card(card) if card else service.fallback
        return terms_cache[trip_id]

    leg_prices: dict[str, PriceBreakdown] = {}

    def breakdown(trip_id: str) -> PriceBreakdown:
        if trip_id not in leg_prices:
            service = built.services[built.trips[trip_id].service_code]
            leg_prices[trip_id] = price(terms(trip_id), figures(service))
        return leg_prices[trip_id]

    def price_fn(trip: Trip, _board: str, _alight: str) -> Decimal:
        return breakdown(trip.id).total

    # Space: departures that cannot take this cargo's chargeable volume are full for it.
    horizon_end = ready_at + timedelta(days=HORIZON_DAYS)
    candidates = [info for info in built.trips.values() if now < info.cutoff_at <= horizon_end]
    booked = await booked_cbm_by_departure(session, [info.departure_id for info in candidates])
    full: dict[str, str] = {}  # trip id -> why the departure cannot take this cargo
    for info in candidates:
        free = info.capacity_teu * cbm_per_teu - booked.get(info.departure_id, 0.0)
        need = figures(built.services[info.service_code]).chargeable_cbm
        if free + 1e-9 < need:
            full[str(info.departure_id)] = (
                f"departure {info.departure_id} of {info.service_code} has {max(free, 0.0):.3f} CBM free; "
                f"the cargo needs {need} CBM"
            )

    def closed(trip: Trip) -> bool:
        return built.trips[trip.id].cutoff_at <= now

    def left_out_reason(trip: Trip) -> tuple[str, Verdict] | None:
        code = trip.service_code
        if code in verdicts:
            return code, verdicts[code]
        currency = terms(trip.id).currency
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
    # Volume is a first cut: each offered leg must also still pack into its departure as space
    # control packs it, or the booking would be waitlisted or refused. A departure that does
    # not is left out and the search runs again, a few rounds at most.
    cargo = cargo_booking(totals)
    packs: dict[str, bool] = {}
    for _ in range(PACKING_ROUNDS):
        unpacked = await _unpacked_trips(session, built, itineraries[:MAX_OPTIONS], cargo, packs)
        if not unpacked:
            break
        full.update(unpacked)
        itineraries = _search_all(network, origins, destinations, ready_at, price_fn, excluded, data.max_legs)
    # What would have been offered without the cargo, currency and space rules: report what they cost.
    left_out: dict[str, dict] = {}
    if verdicts or full or any(t.currency != data.currency for t in terms_cache.values()):
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

    itineraries = itineraries[:MAX_OPTIONS]
    quote_id = _token("QT")
    fastest = min(itineraries, key=lambda i: (i.arrives_at, i.price), default=None)
    cheapest = min(itineraries, key=lambda i: (i.price, i.arrives_at), default=None)
    options = []
    for itinerary in itineraries:
        option = _store_option(
            session, caller, data, quote_id, now, ready_at, totals, itinerary, network, built, terms, breakdown, figures
        )
        options.append(option_read(option, itinerary is fastest, itinerary is cheapest))
    await session.flush()
    return {
        "id": quote_id,
        "origin": data.origin,
        "destination": data.destination,
        "ready_at": ready_at,
        "pieces": totals.pieces,
        "weight_kg": totals.weight_kg,
        "volume_cbm": totals.volume_cbm,
        "options": options,
        "left_out": sorted(left_out.values(), key=lambda e: (e["service"], e["departure_id"] or 0)),
    }


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
    breakdown: Callable[[str], PriceBreakdown],
    figures: Callable[[ServiceInfo], CargoFigures],
) -> QuoteOption:
    legs = []
    total = PriceBreakdown.zero(data.currency)
    for leg in itinerary.legs:
        local = network.local_times(leg)
        info = built.trips[leg.trip_id]
        service = built.services[leg.service_code]
        leg_price = breakdown(leg.trip_id)
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
                "terms": terms(leg.trip_id).as_json(),
                "price": leg_price.as_json(),
            }
        )
    earliest_cutoff = min(built.trips[leg.trip_id].cutoff_at for leg in itinerary.legs)
    option = QuoteOption(
        public_id=_token("QO"),
        quote_id=quote_id,
        organization_id=caller.organization_id,
        origin=data.origin,
        destination=data.destination,
        ready_at=ready_at,
        cargo=[line.model_dump(mode="json", by_alias=True) for line in data.cargo],
        figures={"pieces": totals.pieces, "weight_kg": totals.weight_kg, "volume_cbm": totals.volume_cbm},
        legs=legs,
        main_leg=_main_leg(itinerary),
        departs_at=itinerary.departs_at,
        arrives_at=itinerary.arrives_at,
        currency=data.currency,
        price_amount=total.total,
        price=total.as_json(),
        valid_until=min(now + QUOTE_VALIDITY, earliest_cutoff),
    )
    session.add(option)
    return option


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
        "transit_days": round((option.arrives_at - option.ready_at) / timedelta(days=1), 1),
        "modes": modes,
        "fastest": fastest,
        "cheapest": cheapest,
        "legs": [
            {key: leg[key] for key in (
                "mode", "service", "departure_id", "from_hub", "to_hub", "cutoff_at", "departs_at", "arrives_at",
                "local", "chargeable_cbm", "price",
            )}
            for leg in option.legs
        ],
        "price": option.price,
        "valid_until": option.valid_until,
        "booking_reference": booking_reference,
    }


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


async def book_quote_option(session: AsyncSession, caller: Caller, data: BookingCreate, cbm_per_teu: float) -> Booking:
    """Book the option's itinerary at the held price.

    The booking holds space on every departure it rides: the main leg's (the
    longest ride), which is the booking's own, and each feeder leg's (road,
    barge, air), packed to where it leaves that departure. The departures are
    locked in departure-time order, as roll-overs lock them, so two bookings
    cannot deadlock. Every leg is stored in ``booking_legs`` with the rate terms
    it was priced with. The cargo is the quoted cargo (if sent, it must equal
    it). An option is booked once, by its own organisation, before
    ``valid_until``. When the main departure has filled up since the quote, a
    one-leg itinerary is WAITLISTED there (no roll-over: a later train would
    break the connections); an itinerary with feeder legs, or one whose feeder
    has filled up, is refused (409): a waitlist cannot hold its connections.
    """
    if data.allow_rollover:
        raise Unprocessable("allow_rollover", "a booking made from a quote option keeps its itinerary and never rolls "
                                              "over (a later train would miss its connections); leave it out")
    option = await get_option(session, caller, data.quote_option_id or "", lock=True)
    now = utcnow()
    if option.booking_id is not None:
        reference = await booking_reference_of(session, option)
        raise Conflict(f"quote option {option.public_id} is already booked as {reference}")
    if now >= option.valid_until:
        raise Conflict(
            f"quote option {option.public_id} expired at {option.valid_until.isoformat()}; ask for a new quote"
        )
    quoted = [CargoLineIn.model_validate(line) for line in option.cargo]
    if data.cargo is not None and [line.model_dump() for line in data.cargo] != [line.model_dump() for line in quoted]:
        raise Unprocessable("cargo", "must equal the quoted cargo; leave it out to book the quoted cargo, or ask a new quote")
    legs = option.legs
    main = legs[option.main_leg]
    for field_name, given, allowed in (
        ("origin", data.origin, {option.origin, legs[0]["from_hub"], main["from_hub"]}),
        ("destination", data.destination, {option.destination, legs[-1]["to_hub"], main["to_hub"]}),
    ):
        if given is not None and given not in allowed:
            raise Unprocessable(field_name, f"the quote option runs {option.origin} to {option.destination}")
    departures = await lock_departures(session, {leg["departure_id"] for leg in legs})
    departure = departures[main["departure_id"]]
    _before_cutoff(departure, "booking")
    for other in departures.values():
        if other.id != departure.id and not is_open_for_booking(other, now):
            raise Conflict(f"departure {other.id} ({other.service.code}) of this option is no longer open for booking")
    service = departure.service
    totals = check_cargo(quoted, service)
    hubs = {
        hub.code: hub
        for hub in await session.scalars(
            select(Hub).where(Hub.code.in_({leg["from_hub"] for leg in legs} | {leg["to_hub"] for leg in legs}))
        )
    }
    booking = Booking(
        reference=_new_reference(),
        organization_id=caller.organization_id,
        requested_departure_id=departure.id,
        status=BookingStatus.RECEIVED.value,
        origin=hubs[main["from_hub"]],
        destination=hubs[main["to_hub"]],
        consignee=data.consignee.model_dump(mode="json"),
        references=[r.model_dump(mode="json") for r in data.references],
        allow_rollover=data.allow_rollover,
        measurement_discrepancy=False,
        version=1,
    )
    _apply_cargo(booking, totals, service)
    booking.currency = option.currency
    booking.price_amount = option.price_amount
    feeders = [(departures[leg["departure_id"]], hubs[leg["to_hub"]].un_locode)
               for leg in legs if leg["departure_id"] != departure.id]
    full = f"has filled up since the quote and has no room for {booking.chargeable_cbm} CBM"
    if await _fits(session, departure, booking, cbm_per_teu):  # packs it as space control plans it
        for feeder, alight_at in feeders:
            if not await space.reserve(session, feeder, booking, alight_at):
                raise Conflict(f"departure {feeder.id} ({feeder.service.code}) of this option {full}; ask for a new quote")
        transition(booking, BookingStatus.CONFIRMED, f"booked from quote option {option.public_id}")
    elif feeders:
        raise Conflict(f"departure {departure.id} ({service.code}) of this option {full}; ask for a new quote")
    else:
        transition(booking, BookingStatus.WAITLISTED, f"departure {departure.id} {full}")
    booking.departure = departure
    await insert_new(session, booking)
    for sequence, leg in enumerate(legs, start=1):
        leg_departure = departures[leg["departure_id"]]
        session.add(
            BookingLeg(
                booking_id=booking.id,
                sequence=sequence,
                main=sequence - 1 == option.main_leg,
                service_id=leg_departure.service_id,
                departure_id=leg_departure.id,
                mode=leg["mode"],
                from_hub_id=hubs[leg["from_hub"]].id,
                to_hub_id=hubs[leg["to_hub"]].id,
                cutoff_at=datetime.fromisoformat(leg["cutoff_at"]),
                departs_at=datetime.fromisoformat(leg["departs_at"]),
                arrives_at=datetime.fromisoformat(leg["arrives_at"]),
                weight_per_cbm_kg=leg["weight_per_cbm_kg"],
                chargeable_cbm=leg["chargeable_cbm"],
                currency=leg["price"]["currency"],
                price_amount=Decimal(leg["price"]["total"]),
                terms=leg["terms"],
            )
        )
    option.booking_id = booking.id
    await session.flush()
    from app.tracking.service import itinerary_legs  # tracking imports routing's models

    await itinerary_legs(session, booking)  # tracking legs per quoted leg, not the main departure's alone
    return booking


async def quote_option_read(session: AsyncSession, caller: Caller, public_id: str) -> dict:
    option = await get_option(session, caller, public_id)
    return option_read(option, booking_reference=await booking_reference_of(session, option))

