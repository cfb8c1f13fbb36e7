"""Hand-computed cases with known optima, roll-over, locked re-plans, determinism."""

import copy

import pytest

from app.planner import (
    REASON_ROLLED,
    REASON_UNFIT,
    Container,
    PlannerInputError,
    check_plan,
    first_fit_decreasing,
    instance_from_dict,
    lower_bound,
    plan_to_dict,
    solve,
)

from .helpers import SMALL_TYPES, ctype, ship


def inst_of(shipments, types=None, **extra):
    d = {"container_types": copy.deepcopy(types or SMALL_TYPES), "dg_incompatible": [["3", "5.1"]], "shipments": shipments}
    d.update(extra)
    return instance_from_dict(d)


def planned(inst, **kw):
    plan = solve(inst, **kw)
    assert check_plan(inst, plan, kw.get("locked", ())) == []
    return plan


def types_used(plan):
    return sorted(c.type for c in plan.containers)


def test_one_big_container_beats_three_small():
    # 3 x 8 cbm: one 40HC (150) instead of three 20GP (300); bound 150
    inst = inst_of([ship(f"S{i}", v=8.0) for i in range(3)])
    plan = planned(inst)
    assert plan.cost == 150 and types_used(plan) == ["40HC"] and plan.lower_bound == 150


def test_weight_binds_two_small_are_cheaper_than_a_big_plus_small():
    # 4 x 450 kg, 2 cbm: weight 1800 -> 1x40HC (150) holds it; 2x20GP (200) too; optimum 150
    inst = inst_of([ship(f"S{i}", w=450, v=2.0) for i in range(4)])
    assert planned(inst).cost == 150
    # 5 x 450 kg: 2250 kg > 2000 -> 40HC+20GP (250) vs 3x20GP (300): optimum 250
    inst = inst_of([ship(f"S{i}", w=450, v=2.0) for i in range(5)])
    plan = planned(inst)
    assert plan.cost == 250 and types_used(plan) == ["20GP", "40HC"]


def test_destinations_never_share():
    inst = inst_of([ship("A", dest="DEDUI"), ship("B", dest="PLLOD")])
    plan = planned(inst)
    assert plan.cost == 200 and len(plan.containers) == 2 and plan.lower_bound == 200


def test_dg_incompatible_pair_needs_two_containers():
    inst = inst_of([ship("A", dg="3"), ship("B", dg="5.1")])
    plan = planned(inst)
    assert plan.cost == 200 and len(plan.containers) == 2
    ok = inst_of([ship("A", dg="3"), ship("B", dg="8")])
    assert planned(ok).cost == 100


def test_reefer_set_points():
    # overlapping ranges share one reefer; disjoint ranges need two
    plan = planned(inst_of([ship("A", temp=(2, 8)), ship("B", temp=(5, 10))]))
    assert types_used(plan) == ["40RH"] and plan.cost == 300 and plan.lower_bound == 300
    plan = planned(inst_of([ship("A", temp=(2, 8)), ship("B", temp=(-20, -15))]))
    assert types_used(plan) == ["40RH", "40RH"] and plan.lower_bound == 600
    # chain (0,4) (3,6) (5,9): pairwise overlaps but no common point -> two set points
    plan = planned(inst_of([ship("A", temp=(0, 4)), ship("B", temp=(3, 6)), ship("C", temp=(5, 9))]))
    assert plan.cost == 600 and plan.lower_bound == 600
    # reefer and non-reefer shipments never share
    plan = planned(inst_of([ship("A", temp=(2, 8)), ship("B")]))
    assert types_used(plan) == ["20GP", "40RH"]


def test_non_stackable_occupies_footprint_times_height():
    types = [ctype("20GP", 1000, 10.0, 100, height=2.4), ctype("40HC", 2000, 10.5, 90, height=2.7)]
    # stackable 1 cbm: the cheaper tall type
    assert types_used(planned(inst_of([ship("A", v=1.0)], types))) == ["40HC"]
    # non-stackable, 4 m2: 9.6 cbm in 20GP, 10.8 cbm (> 10.5) in 40HC -> must take the 20GP
    plan = planned(inst_of([ship("A", v=1.0, stackable=False, footprint=4.0)], types))
    assert types_used(plan) == ["20GP"] and plan.containers[0].occupied_cbm == pytest.approx(9.6)


def test_unfit_shipment_is_reported_unassigned():
    inst = inst_of([ship("A"), ship("HEAVY", w=5000), ship("COLD", temp=(2, 8), v=25)])
    plan = planned(inst)
    assert {(u.id, u.reason) for u in plan.unassigned} == {("HEAVY", REASON_UNFIT), ("COLD", REASON_UNFIT)}
    assert plan.cost == 100 and plan.lower_bound == 100
    doc = plan_to_dict(plan)
    assert {"id": "HEAVY", "reason": "fits no container type"} in doc["unassigned"]


def test_max_payload_caps_every_type():
    ships = [ship("A", w=900), ship("B", w=900)]
    # 1800 kg: a 20GP holds 1000 kg, so one 40HC (2000 kg, 150)
    assert planned(inst_of(ships)).cost == 150
    # capped at 950 kg per container: two 20GP (200) are cheaper than two 40HC
    capped = inst_of(ships, max_payload_kg=950)
    plan = planned(capped)
    assert plan.cost == 200 and len(plan.containers) == 2


def test_max_teu_rolls_over_lowest_priority_then_latest_booking():
    ships = [
        ship("A", w=900, priority=1, booked_at="2026-11-01T00:00:00Z"),
        ship("B", w=900, priority=0, booked_at="2026-11-01T00:00:00Z"),
        ship("C", w=900, priority=0, booked_at="2026-11-02T00:00:00Z"),
        ship("D", w=900, priority=0, booked_at="2026-10-01T00:00:00Z"),
    ]
    types = [ctype("20GP", 1000, 10.0, 100)]
    plan = planned(inst_of(ships, types, max_teu=2))
    assert [u.id for u in plan.unassigned] == ["B", "C"]
    assert all(u.reason == REASON_ROLLED for u in plan.unassigned)
    assert sorted(s for c in plan.containers for s in c.shipments) == ["A", "D"]
    plan = planned(inst_of(ships, types, max_teu=3))
    assert [u.id for u in plan.unassigned] == ["C"]
    assert planned(inst_of(ships, types, max_teu=4)).unassigned == ()


def test_teu_override_counts():
    types = [ctype("53HC", 5000, 100.0, 100, teu=3)]
    ships = [ship("A", w=4000), ship("B", w=4000)]
    plan = planned(inst_of(ships, types, max_teu=3))
    assert len(plan.containers) == 1 and len(plan.unassigned) == 1


def test_locked_containers_beyond_max_teu_are_an_input_error():
    types = [ctype("20GP", 1000, 10.0, 100)]
    d_ships = [ship("A", w=900), ship("B", w=900)]
    inst = inst_of(d_ships, types, max_teu=1,
                   locked_containers=[{"type": "20GP", "destination": "DEDUI", "shipments": ["A"]},
                                      {"type": "20GP", "destination": "DEDUI", "shipments": ["B"]}])
    with pytest.raises(PlannerInputError) as err:
        solve(inst)
    assert err.value.field == "locked_containers"


def test_replan_keeps_locked_containers_untouched():
    ships = [ship(f"S{i}", v=8.0) for i in range(6)]
    inst = inst_of(ships)
    # a wasteful locked 20GP with a single shipment must survive the re-plan
    locked = [Container(type="20GP", destination="DEDUI", shipments=("S0",))]
    plan = planned(inst, locked=locked)
    assert plan.containers[0].type == "20GP" and plan.containers[0].shipments == ("S0",)
    assert sum(1 for c in plan.containers if "S0" in c.shipments) == 1
    # the other five 8-cbm shipments: a 40HC takes three (24 of 30 cbm), a 20GP one,
    # so the best is two 40HC (300); the bound (40 cbm -> 40HC + 20GP = 250) is not reachable
    assert plan.cost == 100 + 300 and plan.lower_bound == 100 + 250
    assert plan.lower_bound >= 100 and plan.cost >= plan.lower_bound
    # the same through the instance field
    inst2 = inst_of(ships, locked_containers=[{"type": "20GP", "destination": "DEDUI", "shipments": ["S0"]}])
    assert plan_to_dict(planned(inst2)) == plan_to_dict(plan)
    # locked shipments that don't exist are rejected
    with pytest.raises(PlannerInputError):
        solve(inst, locked=[Container(type="20GP", destination="DEDUI", shipments=("NOPE",))])


def test_empty_instance():
    plan = planned(inst_of([]))
    assert plan.containers == () and plan.cost == 0 and plan.lower_bound == 0


def test_determinism_on_a_mixed_instance():
    ships = [ship(f"S{i:02d}", dest=("DEDUI", "PLLOD")[i % 2], w=50 + 37 * i % 400, v=0.5 + (i * 7 % 13) / 2,
                  dg=("3", None, "5.1", None)[i % 4], stackable=i % 5 != 0, footprint=1.5 if i % 5 == 0 else None)
             for i in range(40)]
    inst = inst_of(ships)
    a = plan_to_dict(solve(inst))
    b = plan_to_dict(solve(inst_of(copy.deepcopy(ships))))
    assert a == b


def test_ffd_and_bound_helpers_agree_with_plan():
    ships = [ship(f"S{i}", v=3.0, w=300) for i in range(12)]
    inst = inst_of(ships)
    ffd = first_fit_decreasing(inst)
    assert check_plan(inst, ffd) == []
    plan = planned(inst)
    assert plan.cost <= ffd.cost
    assert lower_bound(inst) == plan.lower_bound <= plan.cost


def test_check_plan_catches_broken_plans():
    from dataclasses import replace

    inst = inst_of([ship("A", dg="3"), ship("B", dg="5.1"), ship("C")])
    plan = solve(inst)
    assert check_plan(inst, plan) == []
    merged = Container(type="40HC", destination="DEDUI", shipments=("A", "B", "C"), weight_kg=300, occupied_cbm=3)
    bad = replace(plan, containers=(merged,), cost=150)
    assert any("DG" in e for e in check_plan(inst, bad))
    dropped = replace(plan, containers=plan.containers[1:])
    assert any("neither" in e for e in check_plan(inst, dropped))
    wrong_cost = replace(plan, cost=plan.cost + 1)
    assert any("cost" in e for e in check_plan(inst, wrong_cost))
