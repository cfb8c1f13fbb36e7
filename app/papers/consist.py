"""A departure's train consist: built from its current plan under the service's rail rules, stored with the
plan version, locked with it. A consist that breaks a rule is never stored (409 naming each rule)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import cargo as core
from app import consist
from app.consolidation.models import DeparturePlan, PlanConsist
from app.consolidation.service import get_current_plan, still_to_leave
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.network import rail
from app.network.models import Departure
from app.network.service import get_departure


def rules_for(departure: Departure) -> core.RailRules:
    """The service's rail rules; a RAIL service without its own takes the defaults; other modes have no train."""
    if departure.service.mode != "RAIL":
        raise Conflict(f"departure {departure.id} is not a rail departure: it has no train consist")
    return rail.rules_of(departure.service) or core.RailRules()


def consist_rules(departure: Departure, rules: core.RailRules) -> consist.Rules:
    cargo_kg = departure.max_cargo_kg if departure.max_cargo_kg is not None else rules.max_cargo_kg
    length_m = departure.max_train_length_m if departure.max_train_length_m is not None else rules.max_train_length_m
    return consist.Rules(
        max_gross_kg_20=rules.max_gross_kg_20, max_gross_kg_40=rules.max_gross_kg_40, pair_20=rules.pair_20,
        pair_max_difference_kg=rules.pair_max_difference_kg,
        single_20_destinations=frozenset(rules.single_20_destinations),
        max_feu=rules.max_feu,
        max_cargo_kg=cargo_kg, max_train_length_m=length_m, heavy_wagons_off_ends=rules.heavy_wagons_off_ends,
    )


def boxes_of(plan: DeparturePlan, rules: core.RailRules) -> list[consist.Box]:
    return [
        consist.Box(id=str(c.id), type=c.container_type.code, teu=1 if c.container_type.teu == 1 else 2,
                    destination=c.destination, cargo_kg=c.weight_kg, tare_kg=rules.tare_kg(c.container_type.code),
                    number=c.container_number)
        for c in plan.containers
    ]


def wagons_of(rules: core.RailRules) -> list[consist.Wagon]:
    return [consist.Wagon(code=w.code, name=w.name, payload_kg=w.payload_kg, tare_kg=w.tare_kg, length_m=w.length_m,
                          feu_slots=w.feu_slots) for w in rules.wagon_types]


def consist_document(departure: Departure, plan: DeparturePlan, built: consist.Consist,
                     limits: consist.Rules) -> dict[str, Any]:
    """The stored consist: wagons in train order with their containers, totals, limits and warnings."""
    by_id = {str(c.id): c for c in plan.containers}
    return {
        "departure_id": departure.id,
        "plan_version": plan.version,
        "wagons": [
            {
                "position": w.position, "wagon_type": w.wagon.code, "length_m": w.wagon.length_m,
                "tare_kg": w.wagon.tare_kg, "payload_kg": w.wagon.payload_kg, "load_kg": round(w.load_kg, 3),
                "gross_kg": round(w.gross_kg, 3),
                "containers": [
                    {"id": int(b.id), "container_number": b.number, "seal_number": by_id[b.id].seal_number,
                     "type": b.type, "teu": b.teu, "destination": b.destination, "cargo_kg": round(b.cargo_kg, 3),
                     "tare_kg": b.tare_kg, "gross_kg": round(b.gross_kg, 3)}
                    for b in w.boxes
                ],
            }
            for w in built.wagons
        ],
        "totals": built.totals(),
        "limits": {"max_feu": limits.max_feu, "max_cargo_kg": limits.max_cargo_kg,
                   "max_train_length_m": limits.max_train_length_m,
                   "pair_max_difference_kg": limits.pair_max_difference_kg if limits.pair_20 else None,
                   "heavy_wagons_off_ends": limits.heavy_wagons_off_ends},
        "warnings": list(built.warnings),
    }


def build_for(departure: Departure, plan: DeparturePlan) -> dict[str, Any]:
    """The consist document of ``plan``; 409 listing every rule the plan's containers break."""
    rules = rules_for(departure)
    limits = consist_rules(departure, rules)
    try:
        built = consist.build(boxes_of(plan, rules), wagons_of(rules), limits)
    except consist.ConsistError as error:
        raise Conflict("the plan's containers make no train that keeps the rail rules: " + "; ".join(error.problems))
    return consist_document(departure, plan, built, limits)


async def _stored(session: AsyncSession, plan: DeparturePlan) -> PlanConsist | None:
    return await session.scalar(select(PlanConsist).where(PlanConsist.plan_id == plan.id))


def plan_locked(plan: DeparturePlan) -> bool:
    return bool(plan.containers) and all(c.locked for c in plan.containers)


async def build_consist(session: AsyncSession, departure_id: int) -> tuple[DeparturePlan, PlanConsist]:
    """Build (or rebuild) the consist of the departure's current plan, under its row lock."""
    departure = await get_departure(session, departure_id, lock=True)
    still_to_leave(departure, "building the train")
    departure, plan = await get_current_plan(session, departure_id)
    if not plan.containers:
        raise Conflict(f"plan version {plan.version} of departure {departure_id} has no containers")
    stored = await _stored(session, plan)
    if stored is not None and plan_locked(plan):
        raise Conflict(f"the consist of plan version {plan.version} is locked with the plan's containers")
    document = build_for(departure, plan)
    if stored is None:
        stored = PlanConsist(plan_id=plan.id, departure_id=departure.id, document=document)
        session.add(stored)
    else:
        stored.document, stored.created_at = document, utcnow()
    await session.flush()
    return plan, stored


async def current_consist(session: AsyncSession, departure_id: int) -> tuple[DeparturePlan, PlanConsist]:
    departure, plan = await get_current_plan(session, departure_id)
    stored = await _stored(session, plan)
    if stored is None:
        raise NotFound(f"plan version {plan.version} of departure {departure_id} has no consist yet; "
                       f"POST /v1/departures/{departure_id}/consist", "departure_id")
    return plan, stored


def consist_read(plan: DeparturePlan, stored: PlanConsist) -> dict[str, Any]:
    return {**stored.document, "locked": plan_locked(plan), "created_at": stored.created_at}
