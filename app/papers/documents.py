"""What the papers say, gathered from the stored rows: the booking confirmation and the CIM/SMGS
consignment note of a container (the JSON for systems; ``pdf`` lays both out for people)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import cargo as core
from app.accounts.models import ApiKey, Organization
from app.bookings.cargo import counted_figures
from app.bookings.emissions import booking_emissions
from app.bookings.models import Booking
from app.bookings.records import booking_read
from app.consolidation.models import PlanConsist, PlanContainer
from app.consolidation.service import bookings_of, get_container
from app.network.models import Hub
from app.network.service import get_departure, route_hubs

CONDITIONS = (
    "The cargo must be at the handover hub, as declared, by the cut-off shown; amendments and cancellations "
    "are accepted only before it.",
    "The CFS measures the cargo on receipt; the chargeable volume (W/M) and the price follow the measured cargo.",
    "Dangerous goods travel only as declared, under the service's rules (SMGS Annex 2 by rail); documents "
    "declared with them must travel with the cargo.",
    "Times are planned times; the carriers' conditions (CIM/SMGS) govern the carriage.",
)


async def _organization_name(session: AsyncSession, organization_id: int | None) -> str | None:
    if organization_id is None:
        return None
    return await session.scalar(select(Organization.name).where(Organization.id == organization_id))


async def confirmation(session: AsyncSession, booking: Booking) -> dict[str, Any]:
    """The booking confirmation: the booking as read, its shipper, its footprint now and the conditions."""
    return {
        **booking_read(booking),
        "shipper": await _organization_name(session, booking.organization_id),
        "emissions": await booking_emissions(session, booking),
        "conditions": list(CONDITIONS),
    }


def _station(hub: Hub | None) -> dict[str, Any] | None:
    if hub is None:
        return None
    return {"hub": hub.code, "name": hub.name, "un_locode": hub.un_locode, "country": hub.country,
            "railway_station_code": hub.railway_station_code}


def _is_dg(line: Any) -> bool:
    provisions = (line.dg_declaration or {}).get("special_provisions") or []
    return line.dg_class is not None and core.SP_NOT_DG not in provisions


async def _consignor(session: AsyncSession, container: PlanContainer) -> str | None:
    """The consolidator who planned the container (the operator's organisation)."""
    key_id = container.plan.created_by_key_id
    if key_id is None:
        return None
    return await session.scalar(select(Organization.name).join(ApiKey, ApiKey.organization_id == Organization.id)
                                .where(ApiKey.id == key_id))


async def _wagon(session: AsyncSession, container: PlanContainer) -> dict[str, Any] | None:
    stored = await session.scalar(select(PlanConsist).where(PlanConsist.plan_id == container.plan_id))
    for wagon in (stored.document["wagons"] if stored else []):
        if any(c["id"] == container.id for c in wagon["containers"]):
            return {"position": wagon["position"], "wagon_type": wagon["wagon_type"], "wagon_number": None}
    return None


async def consignment_note(session: AsyncSession, container_id: int) -> dict[str, Any]:
    """The CIM/SMGS consignment note data of one container; ``to_fill`` names what the operator must add."""
    container = await get_container(session, container_id)
    departure = await get_departure(session, container.plan.departure_id)
    service = departure.service
    hubs = route_hubs(service)
    destination = next((h for h in reversed(hubs) if h.un_locode == container.destination), service.destination)
    bookings = await bookings_of(session, container)
    exporters = {b.organization_id: await _organization_name(session, b.organization_id) for b in bookings}
    consignees = [b.consignee for b in bookings]
    tare_kg = (core.RailRules.from_json(service.rail_rules) or core.RailRules()).tare_kg(container.container_type.code)
    cargo, dangerous, customs = [], [], []
    for booking in bookings:
        weight, _ = counted_figures(booking)
        cargo.append({
            "booking": booking.reference,
            "shipper": exporters[booking.organization_id],
            "consignee": booking.consignee,
            "lines": [{"description": line.description, "hs_code": line.hs_code, "packages": line.packages,
                       "package_type": line.package_type} for line in booking.lines],
            "packages": sum(line.packages for line in booking.lines),
            "gross_weight_kg": round(weight, 3),
        })
        for line in booking.lines:
            if _is_dg(line):
                declaration = line.dg_declaration or {}
                dangerous.append({"booking": booking.reference, "un_number": line.un_number, "class": line.dg_class,
                                  "packing_group": line.packing_group, "description": line.description,
                                  "documents": declaration.get("documents") or []})
        customs += [{"booking": booking.reference, "reference": ref["value"]}
                    for ref in booking.references or [] if ref.get("kind") == "CUSTOMS_DECLARATION"]
    consignee = consignees[0] if consignees and all(c == consignees[0] for c in consignees) else None
    note = {
        "container_id": container.id,
        "departure_id": departure.id,
        "plan_version": container.plan.version,
        "languages": ["ru", "de"] + (["zh"] if service.origin.country == "CN" else []),
        "consignor": {"name": await _consignor(session, container), "address": None},
        "consignee": consignee,
        "departure_station": _station(service.origin),
        "destination_station": _station(destination),
        "border_stations": [_station(h) for h in hubs[1:-1] if h.kind == "BORDER_CROSSING"],
        "departs_at": departure.departs_at,
        "wagon": await _wagon(session, container),
        "container": {"number": container.container_number, "type": container.container_type.code,
                      "tare_kg": tare_kg, "seals": [container.seal_number] if container.seal_number else []},
        "cargo": cargo,
        "dangerous_goods": dangerous,
        "totals": {"packages": sum(c["packages"] for c in cargo),
                   "cargo_kg": round(sum(c["gross_weight_kg"] for c in cargo), 3),
                   "gross_kg": round(sum(c["gross_weight_kg"] for c in cargo) + tare_kg, 3)},
        "customs": {"export_declarations": customs, "transit_declaration": None},
    }
    note["to_fill"] = _to_fill(note)
    return note


def _to_fill(note: dict[str, Any]) -> list[str]:
    """The fields the operator must still fill before the note is issued."""
    missing = ["consignor.address", "customs.transit_declaration"]
    if note["consignor"]["name"] is None:
        missing.insert(0, "consignor.name")
    if note["consignee"] is None:
        missing.append("consignee")
    if note["wagon"] is None:
        missing.append("wagon")
    else:
        missing.append("wagon.wagon_number")
    if note["container"]["number"] is None:
        missing.append("container.number")
    if not note["container"]["seals"]:
        missing.append("container.seals")
    for key in ("departure_station", "destination_station"):
        if note[key] is not None and note[key]["railway_station_code"] is None:
            missing.append(f"{key}.railway_station_code")
    for index, station in enumerate(note["border_stations"]):
        if station["railway_station_code"] is None:
            missing.append(f"border_stations.{index}.railway_station_code")
    return missing
