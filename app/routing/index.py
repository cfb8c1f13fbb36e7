"""The search network built from the database, cached per process.

The pure search (``app.routing.search``) runs over a :class:`Network` built from
the services and their OPEN departures: one Trip per departure, calling at the
service's origin, stops and destination. A place is a hub code (the hub; a CFS stands for
every hub of its UN/LOCODE too, as it receives their cargo) or a UN/LOCODE (every hub
there). The boarding cut-off at the origin is
the departure's ``cutoff_at``; at an intermediate stop it is the stop time minus
the same lead (so a train with a four-day cut-off at Wuhan closes four days
before it passes each stop).

Building that index for a year of departures takes far longer than a query, so
it is cached per process, together with what prices each departure (the rate card
that covers it, as :class:`RateTerms`), and rebuilt when a cheap fingerprint of the
rows changes: one statement per quote, read before anything else of the quote.

The fingerprint changes with every committed change of those rows, so a change made
by another process is seen by the next quote. Hubs, services, container types and
rate cards are only ever inserted (cards are never edited, a new version supersedes
them): their count and max id move with every insert, whatever order concurrent
inserts commit in. Departures are edited too (``updated_at`` is bumped on every
update): on PostgreSQL the fingerprint holds the exact sum of their ``updated_at``
instants, which grows with any committed update in whatever order concurrent
updates commit (``max(updated_at)`` would miss an update that commits after a later
one). SQLite runs one writing transaction at a time, so there commit order is write
order and ``max(updated_at)`` is enough. As the fingerprint is read before the rows,
a cache entry never holds rows older than its key.

Things that change between queries without touching those tables -- cut-offs
passing, space filling up -- are applied per query (``quotes``), never baked into
the cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Numeric, String, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app import cargo as core
from app.cargo import RateTerms
from app.db import DriverStatement, utcnow
from app.network.emissions import EmissionsNetwork, emissions_network_of
from app.network.models import ContainerType, Departure, Hub, Service
from app.routing import rates
from app.routing.models import RateCard
from app.routing.search import Call, Network, Trip
from app.routing.search import Hub as SearchHub

MAX_PLACE_HUBS = 8
# A cached network is rebuilt at least this often, so departures whose cut-off
# has passed drop out of memory even when nothing else changes.
NETWORK_MAX_AGE = timedelta(hours=6)


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    code: str
    mode: str
    weight_per_cbm_kg: float
    forbidden_dg_classes: tuple[str, ...]
    reefer_allowed: bool
    rail_rules: core.RailRules | None
    container_types: tuple[str, ...]
    fallback: RateTerms


@dataclass(frozen=True)
class TripInfo:
    departure_id: int
    service_code: str
    departs_at: datetime
    cutoff_at: datetime
    capacity_teu: int




@dataclass
class BuiltNetwork:
    key: tuple
    built_at: datetime
    build_seconds: float
    network: Network
    trips: dict[str, TripInfo]
    services: dict[str, ServiceInfo]
    containers: dict[str, core.ContainerFit]
    hub_ids: dict[str, int]
    places: dict[str, list[str]] = field(default_factory=dict)
    terms: dict[str, RateTerms] = field(default_factory=dict)  # trip id -> what prices it (its card, or the fallback)
    # Departure snapshots (``departure_snapshots``) read for packing checks, kept while the network's rows stand.
    departures: dict[int, Departure] = field(default_factory=dict)
    hub_locodes: dict[str, str] = field(default_factory=dict)
    routes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # service code -> its hubs in calling order
    emissions: EmissionsNetwork = field(default_factory=lambda: EmissionsNetwork({}, {}))  # the figures for CO2e


def connected(built: BuiltNetwork, origins: list[str], destinations: list[str]) -> bool:
    """Whether some chain of services runs from one of ``origins`` to one of ``destinations``, whatever
    their departures (a quote with no options says which it lacks)."""
    onward: dict[str, set[str]] = {}
    for route in built.routes.values():
        for i, hub in enumerate(route):
            onward.setdefault(hub, set()).update(route[i + 1:])
    seen, frontier = set(origins), list(origins)
    while frontier:
        for hub in onward.get(frontier.pop(), ()):
            if hub not in seen:
                seen.add(hub)
                frontier.append(hub)
    return not seen.isdisjoint(destinations)


_CACHE: dict[str, BuiltNetwork] = {}


def _figures_text(*columns):
    """One row's emission figures as text (``-`` for none), to be aggregated into the fingerprint."""
    text = None
    for column in columns:
        part = func.coalesce(cast(column, String), "-")
        text = part if text is None else text + "|" + part
    return text


# Hubs' and services' emission figures (set in place by the operator, so neither count nor max id
# moves): every figure of every row, joined, so that any change of one changes the fingerprint.
_HUB_FIGURES = _figures_text(Hub.id, Hub.latitude, Hub.longitude, Hub.handling_ttw_kg_per_t, Hub.handling_wtt_kg_per_t)
_SERVICE_FIGURES = _figures_text(Service.id, Service.ttw_g_per_tkm, Service.wtt_g_per_tkm, Service.intensity_source,
                                 Service.leg_distances_km)


def _fingerprint_statement(departures_changed, joined) -> DriverStatement:
    return DriverStatement(
        select(
            select(func.count(Departure.id)).scalar_subquery(),
            select(func.max(Departure.id)).scalar_subquery(),
            select(departures_changed).scalar_subquery(),
            select(func.count(Service.id)).scalar_subquery(),
            select(func.max(Service.id)).scalar_subquery(),
            select(func.count(Hub.id)).scalar_subquery(),
            select(func.max(Hub.id)).scalar_subquery(),
            select(func.count(ContainerType.id)).scalar_subquery(),
            select(func.count(RateCard.id)).scalar_subquery(),
            select(func.max(RateCard.id)).scalar_subquery(),
            select(joined(_HUB_FIGURES, Hub.id)).scalar_subquery(),
            select(joined(_SERVICE_FIGURES, Service.id)).scalar_subquery(),
        )
    )


_FINGERPRINT = {
    # The exact sum of the departures' updated_at instants (numeric: no rounding can hide a change);
    # the emission figures joined in id order and hashed.
    "postgresql": _fingerprint_statement(
        func.sum(cast(func.extract("epoch", Departure.updated_at), Numeric)),
        lambda text, order: func.md5(func.string_agg(text, aggregate_order_by(literal(";"), order))),
    ),
    "sqlite": _fingerprint_statement(func.max(Departure.updated_at), lambda text, _order: func.group_concat(text, ";")),
}


async def fingerprint(session: AsyncSession) -> tuple:
    """One cheap round trip that changes whenever the network's or the rate cards' committed rows do."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    row = await _FINGERPRINT.get(dialect, _FINGERPRINT["sqlite"]).one(session)
    return tuple(str(v) for v in row)


def _cache_slot(session: AsyncSession) -> str:
    return str(session.bind.url) if session.bind is not None else "default"


async def network_for(session: AsyncSession, now: datetime | None = None) -> BuiltNetwork:
    """The search network of the current rows: from the process cache when its fingerprint still matches."""
    now = now or utcnow()
    key = await fingerprint(session)
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
        ct.code: core.container_fit(ct.code, ct.payload_kg, ct.inner_height_m, ct.reefer)
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
    cards = await rates.cards_by_service(session, [s.id for s in services])
    by_id: dict[int, Service] = {s.id: s for s in services}
    service_infos = {
        s.code: ServiceInfo(
            id=s.id,
            code=s.code,
            mode=s.mode,
            weight_per_cbm_kg=s.weight_per_cbm_kg,
            forbidden_dg_classes=tuple(s.forbidden_dg_classes),
            reefer_allowed=s.reefer_allowed,
            rail_rules=core.RailRules.from_json(s.rail_rules),
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
    terms: dict[str, RateTerms] = {}
    card_terms: dict[int, RateTerms] = {}  # one RateTerms per card, shared by the departures it prices
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
        card = rates.pick_card(cards.get(service_id, ()), departs_at)
        if card is None:
            terms[trip_id] = service_infos[service.code].fallback
        else:
            if card.id not in card_terms:
                card_terms[card.id] = rates.terms_of_card(card)
            terms[trip_id] = card_terms[card.id]
    network = Network.build(
        (SearchHub(h.code, h.timezone, h.handling_hours) for h in hubs),
        trips,
    )
    calling_order = {s.code: (routes[s.id][0], *(hub for hub, _ in routes[s.id][1]), routes[s.id][2]) for s in services}
    places: dict[str, list[str]] = {}
    for h in hubs:  # a UN/LOCODE stands for every hub there; a hub code with a suffix for itself
        places.setdefault(h.un_locode, []).append(h.code)
    for h in hubs:
        if h.kind == "CFS":  # a CFS receives (and delivers) the cargo of every hub of its UN/LOCODE
            places[h.code] = [h.code, *(code for code in places[h.un_locode] if code != h.code)]
        elif h.code != h.un_locode:
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
        terms=terms,
        hub_locodes={h.code: h.un_locode for h in hubs},
        routes=calling_order,
        emissions=emissions_network_of(hubs, services, calling_order),
    )

