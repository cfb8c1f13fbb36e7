"""Plan validator: every rule of FORMAT.md, plus the plan's own bookkeeping."""

from __future__ import annotations

from typing import Sequence

from .model import CHECK_EPS, REASON_ROLLED, REASON_ROLLED_WEIGHT, REASON_UNFIT, Container, Instance, Plan
from .pairs import twenty_problems
from .rules import (
    dg_conflict_in,
    fits_some_type,
    rollover_rank,
    temp_intersection,
    type_allows,
)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-4 * max(1.0, abs(a), abs(b))


def check_plan(instance: Instance, plan: Plan, locked: Sequence[Container] = ()) -> list[str]:
    """Return the list of rule violations of ``plan`` for ``instance`` (empty if valid).

    ``locked`` (in addition to ``instance.locked_containers``) are containers
    the plan must contain unchanged.
    """
    errors: list[str] = []
    inst = instance
    placed: dict[str, str] = {}  # shipment id -> where

    def note(sid: str, where: str) -> None:
        if sid in placed:
            errors.append(f"shipment {sid} appears twice ({placed[sid]} and {where})")
        else:
            placed[sid] = where

    total_cost = 0.0
    total_teu = 0
    for ci, c in enumerate(plan.containers):
        where = f"containers[{ci}]"
        if not inst.has_type(c.type):
            errors.append(f"{where}: unknown container type {c.type!r}")
            for sid in c.shipments:
                note(sid, where)
            continue
        ct = inst.type_by_code(c.type)
        total_cost += ct.cost
        total_teu += ct.teu
        if not c.shipments:
            errors.append(f"{where}: empty container")
        ships = []
        for sid in c.shipments:
            note(sid, where)
            if not inst.has_shipment(sid):
                errors.append(f"{where}: unknown shipment {sid!r}")
                continue
            s = inst.shipment(sid)
            ships.append(s)
            if s.destination != c.destination:
                errors.append(f"{where}: shipment {sid} goes to {s.destination}, container to {c.destination}")
            if not type_allows(ct, s):
                errors.append(
                    f"{where}: {'reefer' if s.reefer else 'non-reefer'} shipment {sid} in "
                    f"{'reefer' if ct.reefer else 'non-reefer'} type {ct.code}"
                )
        weight = sum(s.weight_kg for s in ships)
        occ = sum(s.occupied_cbm(ct) for s in ships)
        if weight > inst.payload(ct) + CHECK_EPS:
            errors.append(f"{where}: weight {weight:.3f} kg exceeds payload {inst.payload(ct):g} kg")
        if occ > ct.usable_cbm + CHECK_EPS:
            errors.append(f"{where}: occupied volume {occ:.4f} cbm exceeds {ct.usable_cbm:g} cbm")
        if not _close(weight, c.weight_kg):
            errors.append(f"{where}: reports weight_kg {c.weight_kg} but holds {weight:.3f}")
        if not _close(occ, c.occupied_cbm):
            errors.append(f"{where}: reports occupied_cbm {c.occupied_cbm} but holds {occ:.4f}")
        if temp_intersection(s.temp_range_c for s in ships) is None:
            errors.append(f"{where}: temperature ranges have no common set point")
        bad = dg_conflict_in(inst, [s.dg_class for s in ships])
        if bad is not None:
            errors.append(f"{where}: DG classes {bad[0]} and {bad[1]} share a container")

    rolled = []
    for ui, u in enumerate(plan.unassigned):
        where = f"unassigned[{ui}]"
        note(u.id, where)
        if not inst.has_shipment(u.id):
            errors.append(f"{where}: unknown shipment {u.id!r}")
            continue
        s = inst.shipment(u.id)
        if u.reason == REASON_UNFIT:
            if fits_some_type(inst, s):
                errors.append(f"{where}: shipment {u.id} does fit a container type")
        elif u.reason == REASON_ROLLED_WEIGHT:
            if inst.max_weight_kg is None:
                errors.append(f"{where}: shipment {u.id} rolled over but the instance has no max_weight_kg")
            rolled.append(s)
        elif u.reason == REASON_ROLLED:
            if inst.max_teu is None:
                errors.append(f"{where}: shipment {u.id} rolled over but the instance has no max_teu")
            rolled.append(s)
        else:
            errors.append(f"{where}: unknown reason {u.reason!r}")

    for s in inst.shipments:
        if s.id not in placed:
            errors.append(f"shipment {s.id} is neither in a container nor unassigned")

    # locked containers must be there, unchanged
    locked_all = tuple(inst.locked_containers) + tuple(locked)
    have = {(c.type, c.destination, frozenset(c.shipments)) for c in plan.containers}
    locked_ids: set[str] = set()
    for li, lc in enumerate(locked_all):
        locked_ids.update(lc.shipments)
        if (lc.type, lc.destination, frozenset(lc.shipments)) not in have:
            errors.append(f"locked container {li} ({lc.type} {lc.destination} {list(lc.shipments)}) was changed or dropped")

    if inst.max_teu is not None and total_teu > inst.max_teu:
        errors.append(f"plan uses {total_teu} TEU, max_teu is {inst.max_teu}")
    total_weight = sum(c.weight_kg for c in plan.containers)
    if inst.max_weight_kg is not None and total_weight > inst.max_weight_kg + CHECK_EPS:
        errors.append(f"plan carries {total_weight:g} kg, max_weight_kg is {inst.max_weight_kg:g}")
    if inst.pair_20:
        errors.extend(twenty_problems(inst, plan.containers))

    # roll-over order: lowest priority first, then latest booked_at
    if rolled:
        worst = max(rollover_rank(s) for s in rolled)
        for c in plan.containers:
            for sid in c.shipments:
                if sid in locked_ids or not inst.has_shipment(sid):
                    continue
                s = inst.shipment(sid)
                if rollover_rank(s) < worst:
                    errors.append(
                        f"shipment {sid} was placed although it should roll over before "
                        f"an unassigned shipment of rank {worst}"
                    )
                    break

    if not _close(total_cost, plan.cost):
        errors.append(f"plan reports cost {plan.cost} but its containers cost {total_cost}")
    if plan.lower_bound > plan.cost + 1e-6:
        errors.append(f"lower_bound {plan.lower_bound} exceeds cost {plan.cost}")
    return errors
