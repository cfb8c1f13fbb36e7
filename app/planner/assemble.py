"""Turning per-group packings into a Plan; roll-over under ``max_teu``.

Both the planner and the first-fit-decreasing baseline pack *groups*
(see bound.group_shipments) independently; this module does the common part:
drop shipments that fit no type, keep locked containers, roll shipments over
when ``max_teu`` is exceeded, and assemble the Plan with its lower bound.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .bound import Group, group_bound, group_shipments
from .core import GroupData
from .model import (
    REASON_ROLLED,
    REASON_ROLLED_WEIGHT,
    REASON_UNFIT,
    Container,
    Instance,
    Plan,
    PlannerInputError,
    Shipment,
    Unassigned,
)
from .rules import fits_some_type, rollover_key

# A group packer gets the group's data and returns bins as (type index, item indices).
GroupPacker = Callable[[GroupData, Group], list[tuple[int, list[int]]]]


def group_data(inst: Instance, g: Group) -> GroupData:
    types = [t for t in inst.container_types if t.reefer == g.reefer]
    return GroupData(inst, g.shipments, types)


def _container(gd: GroupData, t: int, items: Sequence[int]) -> Container:
    ids = sorted(gd.ships[i].id for i in items)
    w, v = gd.load(t, items)
    return Container(type=gd.types[t].code, destination=gd.dest, shipments=tuple(ids), weight_kg=w, occupied_cbm=v)


def build_plan(
    inst: Instance,
    locked: Sequence[Container],
    pack: GroupPacker,
    strengthen_bound: bool = False,
) -> Plan:
    """Pack every group with ``pack`` and assemble the plan (with roll-over)."""
    locked = tuple(locked)
    locked_ids = {sid for c in locked for sid in c.shipments}
    locked_cost = sum(inst.type_by_code(c.type).cost for c in locked)
    locked_teu = sum(inst.type_by_code(c.type).teu for c in locked)

    free = [s for s in inst.shipments if s.id not in locked_ids]
    unfit = [s for s in free if not fits_some_type(inst, s)]
    unfit_ids = {s.id for s in unfit}
    candidates = [s for s in free if s.id not in unfit_ids]

    cache: dict[tuple[str, ...], tuple[list[Container], int, float, float]] = {}

    def pack_all(ships: Sequence[Shipment]) -> tuple[list[Container], int, float, float]:
        conts: list[Container] = []
        teu = 0
        cost = 0.0
        bound = 0.0
        for g in group_shipments(ships):
            key = (g.destination, str(g.reefer)) + tuple(s.id for s in g.shipments)
            hit = cache.get(key)
            if hit is None:
                gd = group_data(inst, g)
                bins = pack(gd, g)
                gc = [_container(gd, t, items) for t, items in bins if items]
                gteu = sum(gd.teu[t] for t, items in bins if items)
                gcost = sum(gd.cost[t] for t, items in bins if items)
                gb = group_bound(inst, g, strengthen_bound)
                hit = (gc, gteu, gcost, gb[0] if gb else 0.0)
                cache[key] = hit
            conts.extend(hit[0])
            teu += hit[1]
            cost += hit[2]
            bound += hit[3]
        return conts, teu, cost, bound

    locked_weight = sum(inst.shipment(sid).weight_kg for c in locked for sid in c.shipments)

    def exceeds(res) -> bool:
        too_many = inst.max_teu is not None and locked_teu + res[1] > inst.max_teu
        too_heavy = inst.max_weight_kg is not None and locked_weight + sum(c.weight_kg for c in res[0]) > inst.max_weight_kg
        return too_many or too_heavy

    rolled: list[Shipment] = []
    reason = REASON_ROLLED
    conts, teu, cost, bound = pack_all(candidates)
    if exceeds((conts, teu)):
        if inst.max_teu is not None and locked_teu > inst.max_teu:
            raise PlannerInputError(
                "locked_containers", f"locked containers alone use {locked_teu} TEU, max_teu is {inst.max_teu}"
            )
        if inst.max_teu is None or locked_teu + teu <= inst.max_teu:
            reason = REASON_ROLLED_WEIGHT
        order = sorted(candidates, key=rollover_key)  # rolled over first come first

        def attempt(k: int):
            gone = {s.id for s in order[:k]}
            return pack_all([s for s in candidates if s.id not in gone])

        lo, hi = 0, len(order)  # attempt(lo) exceeds, attempt(hi) (nothing placed) fits
        best = attempt(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            res = attempt(mid)
            if not exceeds(res):
                hi, best = mid, res
            else:
                lo = mid
        conts, teu, cost, bound = best
        rolled = order[:hi]

    unassigned = [Unassigned(s.id, REASON_UNFIT) for s in unfit] + [Unassigned(s.id, reason) for s in rolled]
    unassigned.sort(key=lambda u: u.id)
    containers = tuple(locked) + tuple(conts)
    return Plan(
        containers=containers,
        unassigned=tuple(unassigned),
        cost=locked_cost + cost,
        lower_bound=locked_cost + bound,
    )
