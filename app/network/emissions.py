"""The network as emissions see it: hub coordinates and handling figures, service distances and intensities.

Read per request (two small queries), so an operator's change counts at once; the footprint of
a ride on a service between two of its calls is the sum of the service's legs between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.emissions import Footprint, HubCallIn, Intensity, LegIn, factor_table, footprint, leg_distance
from app.network.models import Hub, Service, ServiceStop


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
        return LegIn(svc.mode, mass_t, None if basis == "UNKNOWN" else total, svc.intensity, basis,
                     {"service": ride.service, "from_hub": ride.from_hub, "to_hub": ride.to_hub, **ride.echo})

    def footprint(self, rides: list[Ride], mass_kg: float) -> Footprint:
        """The shipment's footprint over its rides, and the hubs where it is handled (origin, transfers, destination)."""
        mass_t = mass_kg / 1000
        legs = [self.leg(ride, mass_t) for ride in rides]
        handled = list(dict.fromkeys([r.from_hub for r in rides] + [rides[-1].to_hub])) if rides else []
        calls = [HubCallIn(code, mass_t, self.hubs[code].handling) for code in handled if code in self.hubs]
        return footprint(legs, calls)


def _service_intensity(service, table) -> Intensity | None:
    if service.ttw_g_per_tkm is not None and service.wtt_g_per_tkm is not None:
        return Intensity(f"service:{service.code}", service.ttw_g_per_tkm, service.wtt_g_per_tkm,
                         service.intensity_source or "")
    return table.default_for(service.mode)


async def emissions_network(session: AsyncSession, service_codes: Iterable[str] | None = None) -> EmissionsNetwork:
    """The figures of every hub and of the services named (all when None)."""
    table = factor_table()
    hub_rows = list(await session.execute(select(
        Hub.id, Hub.code, Hub.latitude, Hub.longitude, Hub.handling_ttw_kg_per_t, Hub.handling_wtt_kg_per_t)))
    hubs = {
        row.code: HubFigures(
            (row.latitude, row.longitude) if row.latitude is not None and row.longitude is not None else None,
            Intensity(f"hub:{row.code}", row.handling_ttw_kg_per_t, row.handling_wtt_kg_per_t)
            if row.handling_ttw_kg_per_t is not None and row.handling_wtt_kg_per_t is not None else None,
        )
        for row in hub_rows
    }
    query = select(Service.__table__)
    if service_codes is not None:
        query = query.where(Service.code.in_(sorted(set(service_codes))))
    service_rows = list(await session.execute(query))
    hub_code = {row.id: row.code for row in hub_rows}
    stops: dict[int, list[str]] = {}
    if service_rows:
        for stop in await session.execute(
            select(ServiceStop.service_id, ServiceStop.hub_id)
            .where(ServiceStop.service_id.in_([r.id for r in service_rows])).order_by(ServiceStop.sequence)
        ):
            stops.setdefault(stop.service_id, []).append(hub_code[stop.hub_id])
    services = {
        row.code: ServiceFigures(
            row.mode,
            (hub_code[row.origin_hub_id], *stops.get(row.id, []), hub_code[row.destination_hub_id]),
            tuple(row.leg_distances_km or ()),
            _service_intensity(row, table),
        )
        for row in service_rows
    }
    return EmissionsNetwork(hubs, services)
