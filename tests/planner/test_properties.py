"""Property tests: on random small instances every plan keeps every rule."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.planner import (
    PlannerInputError,
    check_plan,
    first_fit_decreasing,
    instance_from_dict,
    lower_bound,
    solve,
)

TYPES = [
    {"code": "20GP", "payload_kg": 2800, "usable_cbm": 2.8, "inner_height_m": 2.393, "cost": 350, "reefer": False},
    {"code": "40GP", "payload_kg": 2650, "usable_cbm": 5.8, "inner_height_m": 2.393, "cost": 540, "reefer": False},
    {"code": "40HC", "payload_kg": 2650, "usable_cbm": 6.6, "inner_height_m": 2.698, "cost": 560, "reefer": False},
    {"code": "40RH", "payload_kg": 2900, "usable_cbm": 5.9, "inner_height_m": 2.554, "cost": 900, "reefer": True},
]
DG = ["3", "5.1", "8", "9", "2.1"]
INCOMPATIBLE = [["3", "5.1"], ["5.1", "8"], ["2.1", "5.1"], ["8", "2.1"]]
TEMPS = [(2, 8), (-22, -18), (-20, -15), (0, 4), (12, 18), (2, 6)]


@st.composite
def instances(draw, max_ships=14):
    n = draw(st.integers(0, max_ships))
    ships = []
    for i in range(n):
        reefer = draw(st.integers(0, 9)) == 0
        nonstack = draw(st.integers(0, 4)) == 0
        ships.append({
            "id": f"S{i:03d}",
            "destination": draw(st.sampled_from(["DEDUI", "DEDUI", "PLLOD"])),
            "weight_kg": draw(st.floats(1, 3200, allow_nan=False).map(lambda x: round(x, 1))),
            "volume_cbm": draw(st.floats(0.01, 7.0, allow_nan=False).map(lambda x: round(x, 3))),
            "dg_class": draw(st.one_of(st.none(), st.none(), st.sampled_from(DG))),
            "temp_range_c": list(draw(st.sampled_from(TEMPS))) if reefer else None,
            "stackable": not nonstack,
            "footprint_m2": round(draw(st.floats(0.1, 2.8)), 2) if nonstack else None,
            "priority": draw(st.integers(0, 2)),
            "booked_at": f"2026-11-{draw(st.integers(1, 28)):02d}T08:00:00Z",
        })
    d = {
        "container_types": TYPES,
        "dg_incompatible": INCOMPATIBLE,
        "max_teu": draw(st.one_of(st.none(), st.integers(0, 12))),
        "max_payload_kg": draw(st.one_of(st.none(), st.none(), st.just(2100))),
        "shipments": ships,
    }
    return d


def _locked_from_ffd(inst, how_many):
    ffd = first_fit_decreasing(instance_from_dict({**_doc_without_teu(inst)}))
    return list(ffd.containers[:how_many])


def _doc_without_teu(inst):
    from app.planner import instance_to_dict

    d = instance_to_dict(inst)
    d["max_teu"] = None
    return d


FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@FAST
@given(instances(), st.integers(0, 3))
def test_every_plan_keeps_every_rule(doc, n_locked):
    inst = instance_from_dict(doc)
    locked = _locked_from_ffd(inst, n_locked)
    try:
        plan = solve(inst, locked=locked)
    except PlannerInputError as err:
        # only legitimate when the locked containers alone exceed max_teu
        assert err.field == "locked_containers"
        assert sum(inst.type_by_code(c.type).teu for c in locked) > inst.max_teu
        return
    assert check_plan(inst, plan, locked) == []
    placed = [s for c in plan.containers for s in c.shipments] + [u.id for u in plan.unassigned]
    assert sorted(placed) == sorted(s.id for s in inst.shipments)
    assert plan.cost >= plan.lower_bound - 1e-6
    kept = {(c.type, c.destination, c.shipments) for c in plan.containers}
    for lc in locked:
        assert (lc.type, lc.destination, lc.shipments) in kept
    if inst.max_teu is None:
        assert plan.cost <= first_fit_decreasing(inst, locked=locked).cost + 1e-6


@FAST
@given(instances())
def test_ffd_baseline_is_valid(doc):
    inst = instance_from_dict(doc)
    plan = first_fit_decreasing(inst)
    assert check_plan(inst, plan) == []


def _brute_force_optimum(inst):
    """Least cost over all set partitions, cheapest holding type per block."""
    from app.planner.rules import dg_conflict_in, fits_some_type, temp_intersection

    ships = [s for s in inst.shipments if fits_some_type(inst, s)]

    def block_cost(block):
        if len({s.destination for s in block}) > 1 or len({s.reefer for s in block}) > 1:
            return None
        if temp_intersection(s.temp_range_c for s in block) is None:
            return None
        if dg_conflict_in(inst, [s.dg_class for s in block]) is not None:
            return None
        best = None
        for t in inst.container_types:
            if t.reefer != block[0].reefer:
                continue
            if sum(s.weight_kg for s in block) <= inst.payload(t) + 1e-9 and \
                    sum(s.occupied_cbm(t) for s in block) <= t.usable_cbm + 1e-9:
                best = t.cost if best is None else min(best, t.cost)
        return best

    def partitions(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for p in partitions(rest):
            yield [[first]] + p
            for k in range(len(p)):
                yield p[:k] + [[first] + p[k]] + p[k + 1:]

    best = None
    for p in partitions(ships):
        total = 0
        for block in p:
            c = block_cost(block)
            if c is None:
                total = None
                break
            total += c
        if total is not None and (best is None or total < best):
            best = total
    return best if best is not None else 0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(instances(max_ships=6))
def test_tiny_instances_are_solved_optimally_and_bound_is_valid(doc):
    doc = {**doc, "max_teu": None}
    inst = instance_from_dict(doc)
    opt = _brute_force_optimum(inst)
    plan = solve(inst)
    assert check_plan(inst, plan) == []
    assert lower_bound(inst) <= opt + 1e-6
    assert plan.lower_bound <= opt + 1e-6
    assert plan.cost == opt
