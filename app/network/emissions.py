"""The network as emissions see it: hub coordinates and handling figures, service distances and intensities.

Read per request (two small queries), so an operator's change counts at once; a quote's comes
with its search network (``app.routing.index``), whose fingerprint covers these figures. The
footprint of a ride on a service between two of its calls is the sum of the service's legs between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
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


async def emissions_network(session: AsyncSession, service_codes: Iterable[str] | None = None) -> EmissionsNetwork:
    """The figures of the services named (all when None) and of the hubs."""
    query = select(Service)
    if service_codes is not None:
        query = query.where(Service.code.in_(sorted(set(service_codes))))
    service_rows = list(await session.scalars(query))
    hub_rows = list(await session.scalars(select(Hub)))
    return emissions_network_of(hub_rows, service_rows, {s.code: tuple(h.code for h in route_hubs(s)) for s in service_rows})


def emissions_network_of(
    hub_rows: Iterable[Hub], service_rows: Iterable[Service], routes: dict[str, tuple[str, ...]]
) -> EmissionsNetwork:
    """The figures of rows already read (``routes``: each service's hub codes in calling order)."""
    table = factor_table()
    return EmissionsNetwork(
        {h.code: _hub_figures(h.code, h.latitude, h.longitude, h.handling_ttw_kg_per_t, h.handling_wtt_kg_per_t)
         for h in hub_rows},
        {s.code: _service_figures(s.code, s.mode, routes[s.code], s.leg_distances_km,
                                  s.ttw_g_per_tkm, s.wtt_g_per_tkm, s.intensity_source, table)
         for s in service_rows},
    )
