"""Consolidation use cases around the pure planner."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app import cargo, planner
from app.accounts.models import Organization
from app.accounts.service import Caller
from app.bookings.cargo import counted_figures
from app.bookings.models import Booking
from app.bookings.schemas import SPACE_HOLDING
from app.consolidation import segregation
from app.consolidation.models import DeparturePlan, PlanAssignment, PlanContainer
from app.consolidation.schemas import ContainerUpdate, LockIn
from app.consolidation.stuffing import steps_by_booking, stuff_containers
from app.db import utcnow
from app.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable
from app.network import rail
from app.network.models import ContainerType, Departure, Service
from app.network.schemas import DepartureStatus
from app.network.service import container_types_by_code, get_departure
from app.planner import PlannerInputError, instance_from_dict, plan_to_dict, solve

MAX_SHIPMENTS = 50_000
_INDEX = re.compile(r"\[(\d+)\]")


def api_field(planner_field: str) -> str:
    """The planner names fields JSON-path style (``shipments[3].weight_kg``); the API uses dots."""
    return _INDEX.sub(r".\1", planner_field)


def plan_instance(document: Any, time_limit_s: float | None) -> dict[str, Any]:
    """Plan one FORMAT.md instance; a malformed one is a 422 naming the field."""
    if isinstance(document, dict) and isinstance(document.get("shipments"), list):
        if len(document["shipments"]) > MAX_SHIPMENTS:
            raise PayloadTooLarge(f"shipments: at most {MAX_SHIPMENTS} shipments per instance")
    try:
        instance = instance_from_dict(document)
    except PlannerInputError as error:
        raise Unprocessable(api_field(error.field), error.message) from None
    return plan_to_dict(solve(instance, time_limit_s=time_limit_s))


# --- departure plans ---------------------------------------------------------------------

# Every booking holding space is planned; from STUFFED on, its cargo is physically in a container.
PLANNED_STATUSES = tuple(s.value for s in SPACE_HOLDING)
PACKED_STATUSES = ("STUFFED", "IN_TRANSIT", "ARRIVED", "DELIVERED")
REASON_DG_INTERNAL = "its own DG classes {} and {} may not share a container"


def planner_container_types(types: list[ContainerType], service: Service | None = None) -> tuple[planner.ContainerType, ...]:
    """The planner's view of the types: the volume it fills is what stuffs (``cargo.stuffable_cbm``); under a
    service's rail rules each payload is capped by the gross weight a container may have on its wagon, less its tare."""
    return tuple(
        planner.ContainerType(
            code=t.code, payload_kg=t.payload_kg if service is None else rail.cargo_cap_kg(service, t),
            usable_cbm=cargo.stuffable_cbm(t.code, t.inner_height_m, t.usable_cbm), inner_height_m=t.inner_height_m,
            cost=float(t.cost), reefer=t.reefer, teu=t.teu,
        )
        for t in types
    )


def rail_instance_rules(departure: Departure) -> dict[str, Any]:
    """The planner's rail settings for a departure: TEU within the train's FEU and length, cargo weight, 20' pairs."""
    rules = rail.rules_of(departure.service)
    if rules is None:
        return {"max_teu": departure.capacity_teu}
    return {
        "max_teu": rail.max_teu(departure),
        "max_weight_kg": rail.train_limits(departure)[0],
        "pair_20": rules.pair_20,
        "pair_max_difference_kg": rules.pair_max_difference_kg,
        "single_20_destinations": frozenset(rules.single_20_destinations),
    }


def planner_footprint(booking: Booking, volume_cbm: float, min_inner_height_m: float) -> float | None:
    """The footprint the planner is given for a booking, or None when all its cargo is stackable (``app.cargo``)."""
    return cargo.planner_footprint_m2(booking.footprint_m2, booking.lines, volume_cbm, min_inner_height_m)


def shipment_for(booking: Booking, shipment_id: str, destination: str, footprint_m2: float | None) -> planner.Shipment:
    weight, volume = counted_figures(booking)
    temp = (booking.temperature_min_c, booking.temperature_max_c) if booking.temperature_min_c is not None else None
    return planner.Shipment(
        id=shipment_id, destination=destination, weight_kg=weight, volume_cbm=volume,
        dg_class=segregation.dg_key(booking.dg_classes), temp_range_c=temp,
        stackable=footprint_m2 is None, footprint_m2=footprint_m2, booked_at=booking.created_at,
    )


async def service_container_types(session: AsyncSession, codes: list[str]) -> list[ContainerType]:
    by_code = await container_types_by_code(session, codes)
    return [by_code[code] for code in codes if code in by_code]


async def _current_plan(session: AsyncSession, departure_id: int) -> DeparturePlan | None:
    return await session.scalar(
        select(DeparturePlan).where(DeparturePlan.departure_id == departure_id)
        .order_by(DeparturePlan.version.desc()).limit(1)
    )


async def get_current_plan(session: AsyncSession, departure_id: int) -> tuple[Departure, DeparturePlan]:
    departure = await get_departure(session, departure_id)
    plan = await _current_plan(session, departure_id)
    if plan is None:
        raise NotFound(f"departure {departure_id} has no plan yet; POST /v1/departures/{departure_id}/plan", "departure_id")
    return departure, plan


def still_to_leave(departure: Departure, action: str) -> None:
    """A departure that has left (or arrived) keeps the containers it left with: 409."""
    if departure.status in (DepartureStatus.DEPARTED.value, DepartureStatus.ARRIVED.value):
        raise Conflict(f"departure {departure.id} is {departure.status}: its containers can no longer change ({action})")


async def plan_departure(
    session: AsyncSession, caller: Caller, departure_id: int, time_limit_s: float
) -> tuple[Departure, DeparturePlan]:
    """Plan the departure's space-holding bookings into a new plan version.

    Locked containers of the current plan are kept exactly as they are (with
    their numbers and seals); a booking of theirs that no longer holds space is
    dropped from them and reported in ``warnings``. The departure's row lock is
    held throughout, so versions are sequential and bookings wait for the plan.
    """
    departure = await get_departure(session, departure_id, lock=True)
    still_to_leave(departure, "planning")
    types = await service_container_types(session, departure.service.container_types)
    if not types:
        raise Conflict(f"service {departure.service.code} offers no known container type")
    bookings = list(await session.scalars(
        select(Booking).where(Booking.departure_id == departure.id, Booking.status.in_(PLANNED_STATUSES))
        .order_by(Booking.id)
    ))
    min_height = min(t.inner_height_m for t in types)
    shipments, unassigned = [], []
    by_reference = {}
    for booking in bookings:
        by_reference[booking.reference] = booking
        clash = segregation.internal_conflict(booking.dg_classes)
        if clash:
            unassigned.append({"booking_id": booking.id, "reason": REASON_DG_INTERNAL.format(*clash)})
            continue
        _, volume = counted_figures(booking)
        shipments.append(shipment_for(booking, booking.reference, booking.destination.un_locode,
                                      planner_footprint(booking, volume, min_height)))
    planned = {s.id for s in shipments}
    packed = {reference for reference, booking in by_reference.items() if booking.status in PACKED_STATUSES}

    previous = await _current_plan(session, departure.id)
    locked_rows: list[PlanContainer] = []
    locked: list[planner.Container] = []
    warnings: list[str] = []
    if previous is not None:
        references = await _references(session, [a.booking_id for c in previous.containers for a in c.assignments])
        for row in previous.containers:
            # A container with stuffed cargo stays as it is, locked or not: the cargo is in it.
            if not row.locked and not any(references[a.booking_id] in packed for a in row.assignments):
                continue
            keep = [references[a.booking_id] for a in row.assignments if references[a.booking_id] in planned]
            gone = [references[a.booking_id] for a in row.assignments if references[a.booking_id] not in planned]
            label = row.container_number or f"container {row.id}"
            for reference in gone:
                warnings.append(f"locked {label}: booking {reference} no longer holds space; reissue its stuffing list")
            if not keep:
                warnings.append(f"locked {label} is empty and was dropped from the plan")
                continue
            locked_rows.append(row)
            locked.append(planner.Container(type=row.container_type.code, destination=row.destination, shipments=tuple(keep)))

    keys = {s.dg_class for s in shipments if s.dg_class}
    instance = planner.Instance(
        container_types=planner_container_types(types, departure.service),
        shipments=tuple(shipments),
        dg_incompatible=frozenset(frozenset(pair) for pair in segregation.incompatible_pairs(keys)),
        max_payload_kg=departure.max_payload_kg,
        **rail_instance_rules(departure),
    )
    try:
        result = await run_in_threadpool(planner.solve, instance, time_limit_s, locked)
    except PlannerInputError as error:
        raise Conflict(f"the locked containers no longer hold: {error.message}") from None

    type_by_code = {t.code: t for t in types}
    plan = DeparturePlan(
        departure_id=departure.id,
        version=(previous.version + 1) if previous else 1,
        cost=Decimal(str(result.cost)).quantize(Decimal("0.01")),
        lower_bound=Decimal(str(result.lower_bound)).quantize(Decimal("0.01")),
        currency=types[0].currency,
        unassigned=unassigned + [
            {"booking_id": by_reference[u.id].id, "reason": u.reason} for u in result.unassigned
        ],
        warnings=warnings,
        created_by_key_id=caller.api_key_id,
        containers=[],
    )
    for index, container in enumerate(result.containers):
        source = locked_rows[index] if index < len(locked_rows) else None
        plan.containers.append(PlanContainer(
            sequence=index + 1,
            container_type=type_by_code[container.type],
            destination=container.destination,
            weight_kg=round(container.weight_kg, 3),
            occupied_cbm=round(container.occupied_cbm, 3),
            locked=source is not None,
            locked_at=(source.locked_at or utcnow()) if source else None,
            container_number=source.container_number if source else None,
            seal_number=source.seal_number if source else None,
            # A locked container keeps its stuffing while it holds the same bookings.
            stuffing=source.stuffing if source is not None and {a.booking_id for a in source.assignments}
            == {by_reference[ref].id for ref in container.shipments} else None,
            assignments=[PlanAssignment(booking_id=by_reference[ref].id) for ref in container.shipments],
        ))
    repairs = await stuff_containers(plan.containers, {b.id: b for b in bookings}, types, instance.max_teu,
                                     departure.max_payload_kg)
    plan.cost += repairs.cost_delta
    final = [planner.Container(type=c.container_type.code, destination=c.destination, shipments=(),
                               weight_kg=c.weight_kg) for c in plan.containers]
    plan.warnings = [*plan.warnings, *repairs.warnings, *planner.twenty_problems(instance, final)]
    plan.unassigned = [*plan.unassigned, *repairs.unassigned]
    session.add(plan)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("another plan of this departure was stored at the same time; try again") from None
    return departure, plan


async def _references(session: AsyncSession, booking_ids: list[int]) -> dict[int, str]:
    if not booking_ids:
        return {}
    rows = await session.execute(select(Booking.id, Booking.reference).where(Booking.id.in_(set(booking_ids))))
    return {booking_id: reference for booking_id, reference in rows}


async def plan_read(session: AsyncSession, departure: Departure, plan: DeparturePlan) -> dict[str, Any]:
    booking_ids = [a.booking_id for c in plan.containers for a in c.assignments]
    booking_ids += [u["booking_id"] for u in plan.unassigned]
    references = await _references(session, booking_ids)
    return {
        "id": plan.id,
        "departure_id": plan.departure_id,
        "version": plan.version,
        "cost": plan.cost,
        "lower_bound": plan.lower_bound,
        "currency": plan.currency,
        "teu": sum(c.container_type.teu for c in plan.containers),
        "capacity_teu": departure.capacity_teu,
        "created_at": plan.created_at,
        "created_by_key_id": plan.created_by_key_id,
        "containers": [_container_read(c, departure, references) for c in plan.containers],
        "unassigned": [{"booking": references[u["booking_id"]], "reason": u["reason"]} for u in plan.unassigned],
        "warnings": plan.warnings,
    }


def _fill(container: PlanContainer, departure: Departure) -> dict[str, float]:
    ctype = container.container_type
    payload = rail.cargo_cap_kg(departure, ctype)
    return {
        "weight_kg": container.weight_kg,
        "occupied_cbm": container.occupied_cbm,
        "payload_kg": payload,
        "usable_cbm": ctype.usable_cbm,
        "weight_pct": round(100 * container.weight_kg / payload, 1),
        "volume_pct": round(100 * container.occupied_cbm / ctype.usable_cbm, 1),
    }


def _container_read(container: PlanContainer, departure: Departure, references: dict[int, str]) -> dict[str, Any]:
    return {
        "id": container.id,
        "sequence": container.sequence,
        "type": container.container_type.code,
        "teu": container.container_type.teu,
        "destination": container.destination,
        "locked": container.locked,
        "locked_at": container.locked_at,
        "container_number": container.container_number,
        "seal_number": container.seal_number,
        "fill": _fill(container, departure),
        "bookings": [references[a.booking_id] for a in container.assignments],
        "stuffed": container.stuffing is not None,
        "stuffing_utilisation": container.stuffing["volume_utilisation"] if container.stuffing else None,
    }


async def lock_containers(session: AsyncSession, departure_id: int, data: LockIn) -> tuple[Departure, DeparturePlan]:
    """Lock containers of the current plan: their stuffing lists are issued.

    A container holding a booking that no longer holds space (cancelled, rejected,
    moved) cannot be locked: 409, replan first.
    """
    departure = await get_departure(session, departure_id, lock=True)
    still_to_leave(departure, "locking")
    plan = await _current_plan(session, departure.id)
    if plan is None:
        raise NotFound(f"departure {departure_id} has no plan yet", "departure_id")
    by_id = {c.id: c for c in plan.containers}
    if data.all:
        chosen = list(plan.containers)
    else:
        chosen = []
        for index, container_id in enumerate(data.containers or []):
            if container_id not in by_id:
                raise Unprocessable(f"containers.{index}", f"container {container_id} is not in plan version {plan.version} "
                                    f"of departure {departure.id}")
            chosen.append(by_id[container_id])
    booking_ids = [a.booking_id for c in chosen for a in c.assignments]
    stale = {}
    if booking_ids:
        rows = await session.execute(
            select(Booking.id, Booking.reference, Booking.status, Booking.departure_id).where(Booking.id.in_(booking_ids))
        )
        stale = {r.id: r.reference for r in rows if r.status not in PLANNED_STATUSES or r.departure_id != departure.id}
    for container in chosen:
        gone = [stale[a.booking_id] for a in container.assignments if a.booking_id in stale]
        if gone:
            raise Conflict(f"container {container.id} holds bookings that no longer hold space ({', '.join(gone)}); "
                           "plan the departure again before locking")
    now = utcnow()
    for container in chosen:
        if not container.locked:
            container.locked, container.locked_at = True, now
    await session.flush()
    return departure, plan


async def get_container(session: AsyncSession, container_id: int, *, current: bool = False) -> PlanContainer:
    container = await session.get(PlanContainer, container_id)
    if container is None:
        raise NotFound(f"container {container_id} not found")
    if current:
        latest = await session.scalar(
            select(func.max(DeparturePlan.version)).where(DeparturePlan.departure_id == container.plan.departure_id)
        )
        if latest != container.plan.version:
            raise Conflict(f"container {container_id} belongs to plan version {container.plan.version}, "
                           f"superseded by version {latest}")
    return container


async def update_container(session: AsyncSession, container_id: int, data: ContainerUpdate) -> PlanContainer:
    container = await get_container(session, container_id)
    still_to_leave(await get_departure(session, container.plan.departure_id, lock=True), "numbering and sealing")
    # Judged under the departure's lock, which replanning holds: a plan made while this request
    # waited supersedes the container, and its number would be written where nobody looks.
    container = await get_container(session, container_id, current=True)
    fields = data.model_dump(exclude_unset=True)
    number = fields.get("container_number")
    if number is not None:
        clash = await session.scalar(select(PlanContainer.id).where(
            PlanContainer.plan_id == container.plan_id, PlanContainer.id != container.id,
            PlanContainer.container_number == number,
        ))
        if clash is not None:
            raise Conflict(f"{number} is already container {clash} of this plan")
    for name, value in fields.items():
        setattr(container, name, value)
    await session.flush()
    return container


async def bookings_of(session: AsyncSession, container: PlanContainer) -> list[Booking]:
    ids = [a.booking_id for a in container.assignments]
    return list(await session.scalars(select(Booking).where(Booking.id.in_(ids)).order_by(Booking.id))) if ids else []


async def container_read(session: AsyncSession, container: PlanContainer) -> dict[str, Any]:
    departure = await get_departure(session, container.plan.departure_id)
    references = await _references(session, [a.booking_id for a in container.assignments])
    return _container_read(container, departure, references)


LOADING_LIST_COLUMNS = (
    "booking", "exporter", "status", "pieces", "weight_kg", "volume_cbm", "measured", "dangerous_goods",
    "temperature_min_c", "temperature_max_c", "consignee_name", "consignee_address", "consignee_city",
    "consignee_country",
    # Appended (so the columns above keep their positions): the container, then the cargo lines, each cell
    # holding one item per cargo line of the booking, in line order, separated by "; ".
    "container_number", "seal_number", "packages", "package_type", "description", "hs_code", "stackable",
    "first_step", "last_step",
)


async def loading_list(session: AsyncSession, container_id: int) -> dict[str, Any]:
    container = await get_container(session, container_id)
    ids = [a.booking_id for a in container.assignments]
    rows = await session.execute(
        select(Booking, Organization.name).join(Organization, Organization.id == Booking.organization_id)
        .where(Booking.id.in_(ids))
    ) if ids else []
    found = {booking.id: (booking, exporter) for booking, exporter in rows}
    steps = steps_by_booking(container)
    lines = []
    for booking_id in ids:
        booking, exporter = found[booking_id]
        measured = booking.received_at is not None
        weight, volume = counted_figures(booking)
        lines.append({
            "booking": booking.reference,
            "exporter": exporter,
            "status": booking.status,
            "pieces": booking.measured_pieces if measured and booking.measured_pieces is not None else booking.pieces,
            "weight_kg": weight,
            "volume_cbm": booking.measured_volume_cbm if measured and booking.measured_volume_cbm is not None
            else booking.volume_cbm,
            "measured": measured,
            "dangerous_goods": [
                f"UN{line.un_number} class {line.dg_class}" + (f" PG {line.packing_group}" if line.packing_group else "")
                for line in booking.lines if line.dg_class
            ],
            "temperature_c": {"min_c": booking.temperature_min_c, "max_c": booking.temperature_max_c}
            if booking.temperature_min_c is not None else None,
            "consignee": booking.consignee,
            "stackable": all(line.stackable for line in booking.lines),
            "cargo": [
                {"description": line.description, "hs_code": line.hs_code, "packages": line.packages,
                 "package_type": line.package_type, "stackable": line.stackable}
                for line in booking.lines
            ],
            "first_step": steps.get(booking.reference, (None, None))[0],
            "last_step": steps.get(booking.reference, (None, None))[1],
        })
    # In loading order when the container is stuffed: the booking that goes in first comes first.
    lines.sort(key=lambda line: line["first_step"] or 0)
    return {
        "container_id": container.id,
        "departure_id": container.plan.departure_id,
        "plan_version": container.plan.version,
        "type": container.container_type.code,
        "destination": container.destination,
        "container_number": container.container_number,
        "seal_number": container.seal_number,
        "locked": container.locked,
        "lines": lines,
        "total_pieces": sum(line["pieces"] for line in lines),
        "total_weight_kg": round(sum(line["weight_kg"] for line in lines), 3),
        "total_volume_cbm": round(sum(line["volume_cbm"] for line in lines), 3),
    }


def _csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _container_and_cargo_cells(document: dict[str, Any], line: dict[str, Any]) -> tuple[Any, ...]:
    """The appended columns: the container's number and seal, and per cargo line its packages, package
    type, description, HS code and stackable flag ("; " between lines)."""
    cargo = line["cargo"]

    def joined(key: str) -> str:
        return "; ".join(
            ("yes" if item[key] else "no") if key == "stackable" else str(item[key]) for item in cargo
        )

    return (document["container_number"], document["seal_number"],
            *(joined(key) for key in ("packages", "package_type", "description", "hs_code", "stackable")))


def loading_list_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LOADING_LIST_COLUMNS)
    for line in document["lines"]:
        consignee = line["consignee"] or {}
        temp = line["temperature_c"] or {}
        writer.writerow([_csv_cell(v) for v in (
            line["booking"], line["exporter"], line["status"], line["pieces"], line["weight_kg"], line["volume_cbm"],
            "yes" if line["measured"] else "no", "; ".join(line["dangerous_goods"]),
            temp.get("min_c"), temp.get("max_c"), consignee.get("name"), consignee.get("address"),
            consignee.get("city"), consignee.get("country"), *_container_and_cargo_cells(document, line),
            line["first_step"], line["last_step"],
        )])
    return out.getvalue()
