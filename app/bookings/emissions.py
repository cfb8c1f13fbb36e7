"""A booking's footprint, and the emissions report over many (ISO 14083, shaped like iLEAP's ShipmentFootprint).

A booking's footprint is recomputed on every read from its legs as they stand (after roll-overs
and amendments) and from its weight: measured at the CFS once received, declared until then.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import Caller
from app.bookings.models import Booking
from app.bookings.records import itinerary_read
from app.emissions import FACTOR_TABLE_VERSION, Co2e, Footprint
from app.errors import Unprocessable
from app.network.emissions import EmissionsNetwork, Ride, emissions_network
from app.network.models import Departure

# Bookings whose cargo moves (or will): a report leaves out the cancelled, rejected and waitlisted.
MOVING = ("CONFIRMED", "CARGO_RECEIVED", "STUFFED", "IN_TRANSIT", "ARRIVED", "DELIVERED")
MAX_REPORT_BOOKINGS = 2000
MAX_REPORT_DAYS = 366


def _footprint(network: EmissionsNetwork, booking: Booking) -> tuple[Footprint, list[dict], float, str]:
    legs = itinerary_read(booking)
    measured = booking.measured_weight_kg is not None
    mass_kg = booking.measured_weight_kg if measured else booking.weight_kg
    rides = [Ride(leg["service"], leg["from_hub"], leg["to_hub"], {"departure_id": leg["departure_id"]}) for leg in legs]
    return network.footprint(rides, mass_kg), legs, mass_kg, "MEASURED" if measured else "DECLARED"


def _by_mode(modes: dict[str, Co2e]) -> dict[str, dict]:
    return {mode: co2e.as_json() for mode, co2e in modes.items()}


async def booking_emissions(session: AsyncSession, booking: Booking) -> dict:
    """The booking's footprint now: per leg and hub, the totals and per mode."""
    network = await emissions_network(session, {leg["service"] for leg in itinerary_read(booking)})
    fp, legs, mass_kg, basis = _footprint(network, booking)
    body = fp.as_json()
    for out, leg in zip(body["legs"], legs):
        out["departs_at"], out["arrives_at"] = leg["departs_at"], leg["arrives_at"]
    return {
        "reference": booking.reference,
        "status": booking.status,
        "weight_kg": mass_kg,
        "weight_basis": basis,
        "factor_table_version": FACTOR_TABLE_VERSION,
        **body,
        "by_mode": _by_mode(fp.by_mode()),
    }


# --- the report ------------------------------------------------------------------------------

def _dec(value: float | None) -> str | None:
    """iLEAP numbers are decimal strings."""
    return None if value is None else format(Decimal(str(value)).normalize(), "f")


def shipment_footprint(booking: Booking, fp: Footprint, legs: list[dict], mass_kg: float, basis: str) -> dict:
    """One booking as an iLEAP ShipmentFootprint: one transport chain element (TCE) per leg and per hub call."""
    tces: list[dict] = []
    hubs = {out.call.hub: out for out in fp.hubs}
    previous: list[str] = []

    def hub_tce(code: str) -> None:
        out = hubs.get(code)
        if out is None:
            return
        tce_id = f"{booking.reference}-H{len(tces) + 1}"
        tces.append({
            "tceId": tce_id, "prevTceIds": list(previous), "shipmentId": booking.reference,
            "hocId": out.call.intensity.id if out.call.intensity else None, "tocId": None, "hub": code,
            "mass": _dec(mass_kg), "co2eWTW": _dec(out.co2e.wtw_kg if out.co2e else None),
            "co2eTTW": _dec(out.co2e.ttw_kg if out.co2e else None), "status": out.status,
        })
        previous[:] = [tce_id]

    for index, (out, leg) in enumerate(zip(fp.legs, legs)):
        hub_tce(leg["from_hub"])
        tce_id = f"{booking.reference}-T{len(tces) + 1}"
        tces.append({
            "tceId": tce_id, "prevTceIds": list(previous), "shipmentId": booking.reference,
            "tocId": out.leg.intensity.id if out.leg.intensity else None, "hocId": None,
            "mode": out.leg.mode, "service": leg["service"], "from_hub": leg["from_hub"], "to_hub": leg["to_hub"],
            "mass": _dec(mass_kg),
            "distance": {"value": _dec(None if out.leg.distance_km is None else round(out.leg.distance_km, 1)),
                         "dataSource": {"OPERATOR": "Actual", "GREAT_CIRCLE": "GCD"}.get(out.leg.distance_basis)},
            "transportActivity": _dec(out.tkm),
            "departureAt": leg["departs_at"].isoformat(), "arrivalAt": leg["arrives_at"].isoformat(),
            "co2eWTW": _dec(out.co2e.wtw_kg if out.co2e else None),
            "co2eTTW": _dec(out.co2e.ttw_kg if out.co2e else None), "status": out.status,
        })
        previous[:] = [tce_id]
        if index == len(legs) - 1:
            hub_tce(leg["to_hub"])
    return {
        "shipmentId": booking.reference,
        "organization_id": booking.organization_id,
        "status": booking.status,
        "mass": _dec(mass_kg),
        "weight_basis": basis,
        "numberOfItems": str(booking.measured_pieces if booking.measured_pieces is not None else booking.pieces),
        "co2eWTW": _dec(fp.total.wtw_kg),
        "co2eTTW": _dec(fp.total.ttw_kg),
        "complete": fp.complete,
        "tces": tces,
    }


async def report(
    session: AsyncSession, caller: Caller, start: datetime, end: datetime, organization_id: int | None
) -> dict:
    """The footprints of the bookings whose (main) departure leaves in [start, end): an exporter's own,
    an operator's all or one organisation's; per booking, per mode and in total."""
    if end <= start:
        raise Unprocessable("to", "must be after from")
    if (end - start).days > MAX_REPORT_DAYS:
        raise Unprocessable("to", f"a report covers at most {MAX_REPORT_DAYS} days")
    query = (
        select(Booking).join(Departure, Booking.departure_id == Departure.id)
        .where(Departure.departs_at >= start, Departure.departs_at < end, Booking.status.in_(MOVING))
    )
    if not caller.is_operator:
        query = query.where(Booking.organization_id == caller.organization_id)
    if organization_id is not None:
        query = query.where(Booking.organization_id == organization_id)
    bookings = list(await session.scalars(query.order_by(Departure.departs_at, Booking.id)
                                          .limit(MAX_REPORT_BOOKINGS + 1)))
    if len(bookings) > MAX_REPORT_BOOKINGS:
        raise Unprocessable("to", f"more than {MAX_REPORT_BOOKINGS} bookings: narrow from/to")
    network = await emissions_network(session)
    shipments, per_mode, whole = [], {}, [0.0, 0.0]
    for booking in bookings:
        fp, legs, mass_kg, basis = _footprint(network, booking)
        shipments.append(shipment_footprint(booking, fp, legs, mass_kg, basis))
        for mode, co2e in fp.by_mode().items():
            acc = per_mode.setdefault(mode, [0.0, 0.0])
            acc[0] += co2e.ttw_kg
            acc[1] += co2e.wtt_kg
        whole[0] += fp.total.ttw_kg
        whole[1] += fp.total.wtt_kg
    return {
        "from": start, "to": end, "organization_id": organization_id,
        "allocation": "MASS", "factor_table_version": FACTOR_TABLE_VERSION,
        "shipments": shipments,
        "totals_by_mode": {mode: _totals(ttw, wtt) for mode, (ttw, wtt) in sorted(per_mode.items())},
        "total": _totals(*whole),
    }


def _totals(ttw: float, wtt: float) -> dict:
    return {"ttw_kg": round(ttw, 3), "wtt_kg": round(wtt, 3), "wtw_kg": round(round(ttw, 3) + round(wtt, 3), 3)}


CSV_COLUMNS = ["shipment", "organization_id", "element", "tce_id", "mode", "service", "from_hub", "to_hub", "hub",
               "mass_kg", "distance_km", "distance_source", "tkm", "factor_id", "co2e_ttw_kg", "co2e_wtw_kg", "status"]


def report_csv(body: dict) -> str:
    """One row per element (transport leg or hub call) of each shipment, then one TOTAL row per mode and overall."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for shipment in body["shipments"]:
        for tce in shipment["tces"]:
            hub = "hub" in tce
            writer.writerow([
                shipment["shipmentId"], shipment["organization_id"], "HUB" if hub else "TRANSPORT", tce["tceId"],
                tce.get("mode", ""), tce.get("service", ""), tce.get("from_hub", ""), tce.get("to_hub", ""),
                tce.get("hub", ""), tce["mass"], (tce.get("distance") or {}).get("value") or "",
                (tce.get("distance") or {}).get("dataSource") or "", tce.get("transportActivity") or "",
                tce["hocId"] if hub else tce["tocId"] or "", tce["co2eTTW"] or "", tce["co2eWTW"] or "",
                tce["status"],
            ])
    for mode, totals in body["totals_by_mode"].items():
        writer.writerow(["TOTAL", "", "MODE", "", mode, *[""] * 9, totals["ttw_kg"], totals["wtw_kg"], ""])
    writer.writerow(["TOTAL", "", "ALL", "", *[""] * 10, body["total"]["ttw_kg"], body["total"]["wtw_kg"], ""])
    return out.getvalue()
