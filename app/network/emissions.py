"""The network as emissions see it: hub coordinates and handling figures, service distances and intensities.

Read per request (two small queries), so an operator's change counts at once; the footprint of
a ride on a service between two of its calls is the sum of the service's legs between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import JSON, Float, String, cast, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.emissions import Footprint, HubCallIn, Intensity, LegIn, factor_table, footprint, leg_distance
from app.network.models import Hub, Service
from app.network.service import route_hubs


@dataclass(frozen=True)
class HubFigures:
    coordinates: tuple[float, float] | None
    handling: Intensity | None


@dataclass(frozen=True)
class ServiceFigures:
    mode: str
    calls: tuple[str, ...]  # hub codes in calling order
    distances_km: tuple[float | None, ...]
    intensity: Intensity | None  # the operator's own, else the factor table's default for the mode


@dataclass(frozen=True)
class Ride:
    """One leg of an itinerary: a service from one of its calls to a later one."""

    service: str
    from_hub: str
    to_hub: str
    echo: dict


@dataclass
class EmissionsNetwork:
    hubs: dict[str, HubFigures]
    services: dict[str, ServiceFigures]

    def leg(self, ride: Ride, mass_t: float) -> LegIn:
        svc = self.services[ride.service]
        echo = {"service": ride.service, "from_hub": ride.from_hub, "to_hub": ride.to_hub, **ride.echo}
        if ride.from_hub not in svc.calls or ride.to_hub not in svc.calls:
            # A ride between hubs the service does not call at (a CFS standing for its terminal): the hubs' own
            # great circle, as no set distance applies.
            from_hub, to_hub = self.hubs.get(ride.from_hub), self.hubs.get(ride.to_hub)
            km, basis = leg_distance(svc.mode, None, from_hub and from_hub.coordinates, to_hub and to_hub.coordinates)
            return LegIn(svc.mode, mass_t, km, svc.intensity, basis, echo)
        start, end = svc.calls.index(ride.from_hub), svc.calls.index(ride.to_hub)
        total, bases = 0.0, set()
        for i in range(start, end):
            km, basis = leg_distance(
                svc.mode, svc.distances_km[i] if i < len(svc.distances_km) else None,
                self.hubs[svc.calls[i]].coordinates, self.hubs[svc.calls[i + 1]].coordinates,
            )
            bases.add(basis)
            total += km or 0.0
        basis = "UNKNOWN" if "UNKNOWN" in bases else "GREAT_CIRCLE" if "GREAT_CIRCLE" in bases else "OPERATOR"
        return LegIn(svc.mode, mass_t, None if basis == "UNKNOWN" else total, svc.intensity, basis, echo)

    def footprint(self, rides: list[Ride], mass_kg: float) -> Footprint:
        """The shipment's footprint over its rides, and the hubs where it is handled (origin, transfers, destination)."""
        mass_t = mass_kg / 1000
        legs = [self.leg(ride, mass_t) for ride in rides]
        handled = list(dict.fromkeys([r.from_hub for r in rides] + [rides[-1].to_hub])) if rides else []
        calls = [HubCallIn(code, mass_t, self.hubs[code].handling) for code in handled if code in self.hubs]
        return footprint(legs, calls)


async def _one_round_trip(session: AsyncSession, codes: list[str], routes: dict[str, tuple[str, ...]]):
    """Services' and their hubs' figures in one query (a quote's path: one round trip, not three)."""
    hub_codes = sorted({hub for code in codes if code in routes for hub in routes[code]})
    hubs = select(literal("H"), Hub.code, Hub.latitude, Hub.longitude, Hub.handling_ttw_kg_per_t,
                  Hub.handling_wtt_kg_per_t, cast(null(), JSON), cast(null(), String), cast(null(), String)
                  ).where(Hub.code.in_(hub_codes))
    services = select(literal("S"), Service.code, Service.ttw_g_per_tkm, Service.wtt_g_per_tkm, cast(null(), Float),
                      cast(null(), Float), Service.leg_distances_km, Service.intensity_source, Service.mode
                      ).where(Service.code.in_(codes))
    return list(await session.execute(union_all(hubs, services)))


def _hub_figures(code: str, lat, lon, ttw, wtt) -> HubFigures:
    return HubFigures(
        (lat, lon) if lat is not None and lon is not None else None,
        Intensity(f"hub:{code}", ttw, wtt) if ttw is not None and wtt is not None else None,
    )


def _service_figures(code: str, mode: str, calls, distances, ttw, wtt, source, table) -> ServiceFigures:
    if ttw is not None and wtt is not None:
        intensity = Intensity(f"service:{code}", ttw, wtt, source or "")
    else:
        intensity = table.default_for(mode)
    return ServiceFigures(mode, tuple(calls), tuple(distances or ()), intensity)


async def emissions_network(
    session: AsyncSession, service_codes: Iterable[str] | None = None,
    routes: dict[str, tuple[str, ...]] | None = None,
) -> EmissionsNetwork:
    """The figures of the services named (all when None) and of the hubs. ``routes`` (service code ->
    hub codes in calling order, as the search network holds them) saves reading the stops."""
    table = factor_table()
    if service_codes is not None and routes is not None and all(code in routes for code in service_codes):
        codes = sorted(set(service_codes))
        rows = await _one_round_trip(session, codes, routes)
        return EmissionsNetwork(
            {r[1]: _hub_figures(r[1], r[2], r[3], r[4], r[5]) for r in rows if r[0] == "H"},
            {r[1]: _service_figures(r[1], r[8], routes[r[1]], r[6], r[2], r[3], r[7], table)
             for r in rows if r[0] == "S"},
        )
    query = select(Service)
    if service_codes is not None:
        query = query.where(Service.code.in_(sorted(set(service_codes))))
    service_rows = list(await session.scalars(query))
    hub_rows = list(await session.scalars(select(Hub)))
    return EmissionsNetwork(
        {h.code: _hub_figures(h.code, h.latitude, h.longitude, h.handling_ttw_kg_per_t, h.handling_wtt_kg_per_t)
         for h in hub_rows},
        {s.code: _service_figures(s.code, s.mode, [h.code for h in route_hubs(s)], s.leg_distances_km,
                                  s.ttw_g_per_tkm, s.wtt_g_per_tkm, s.intensity_source, table)
         for s in service_rows},
    )
