"""China Railway's 20' pairs and train cargo weight, as the planner keeps them (pure)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.planner import (
    REASON_ROLLED_WEIGHT,
    Container,
    ContainerType,
    Instance,
    Plan,
    PlannerInputError,
    Shipment,
    check_plan,
    instance_from_dict,
    instance_to_dict,
    solve,
)

TWENTY = ContainerType(code="20GP", payload_kg=21800, usable_cbm=28.0, inner_height_m=2.39, cost=3500, reefer=False, teu=1)
FORTY = ContainerType(code="40HC", payload_kg=21200, usable_cbm=66.0, inner_height_m=2.69, cost=5600, reefer=False, teu=2)


def ship(sid: str, cbm: float, kg: float, destination: str = "DEDUI") -> Shipment:
    return Shipment(id=sid, destination=destination, weight_kg=kg, volume_cbm=cbm)


def twenties(plan: Plan, destination: str | None = None) -> list[Container]:
    return [c for c in plan.containers if c.type == "20GP" and destination in (None, c.destination)]


def test_an_odd_20_is_replaced_by_a_40_and_the_cost_counts_it():
    shipments = (ship("A", 25, 1000), ship("B", 25, 1000), ship("C", 25, 1000))
    free = solve(Instance(container_types=(TWENTY, FORTY), shipments=shipments))
    assert len(twenties(free)) % 2 == 1  # unpaired, the cheapest plan leaves one 20' alone on its wagon
    paired = Instance(container_types=(TWENTY, FORTY), shipments=shipments, pair_20=True)
    plan = solve(paired)
    assert check_plan(paired, plan) == []
    assert len(twenties(plan)) % 2 == 0
    assert plan.cost == sum(paired.type_by_code(c.type).cost for c in plan.containers) > free.cost
    assert check_plan(paired, free) != []  # the validator knows the rule too


def test_a_lone_20_is_split_over_two_when_a_40_costs_more():
    dear_forty = ContainerType(code="40HC", payload_kg=21200, usable_cbm=66.0, inner_height_m=2.69, cost=9000,
                               reefer=False, teu=2)
    instance = Instance(container_types=(TWENTY, dear_forty), shipments=(ship("A", 5, 800), ship("B", 5, 900)),
                        pair_20=True)
    plan = solve(instance)
    assert [c.type for c in plan.containers] == ["20GP", "20GP"] and plan.cost == 7000
    assert check_plan(instance, plan) == []


def test_a_single_20_is_kept_where_the_station_accepts_it():
    shipments = (ship("A", 5, 800, "KZALA"),)
    instance = Instance(container_types=(TWENTY, FORTY), shipments=shipments, pair_20=True,
                        single_20_destinations=frozenset({"KZALA"}))
    plan = solve(instance)
    assert [c.type for c in plan.containers] == ["20GP"] and check_plan(instance, plan) == []


def test_pairs_are_per_destination():
    shipments = (ship("A", 5, 800, "DEDUI"), ship("B", 5, 800, "PLLOD"))
    instance = Instance(container_types=(TWENTY, FORTY), shipments=shipments, pair_20=True)
    plan = solve(instance)
    assert check_plan(instance, plan) == []
    for destination in ("DEDUI", "PLLOD"):
        assert len(twenties(plan, destination)) % 2 == 0


def test_a_pair_is_balanced_within_the_weight_difference():
    shipments = (ship("H", 20, 15000), ship("L", 20, 1000), *(ship(f"S{i}", 1, 2500) for i in range(4)))
    instance = Instance(container_types=(TWENTY,), shipments=shipments, pair_20=True, pair_max_difference_kg=5000)
    plan = solve(instance)
    assert check_plan(instance, plan) == []
    a, b = sorted(c.weight_kg for c in plan.containers)
    assert b - a < 5000
    lopsided = Plan(containers=(
        Container("20GP", "DEDUI", ("H", "S0", "S1"), 20000, 22), Container("20GP", "DEDUI", ("L", "S2", "S3"), 6000, 22),
    ), unassigned=(), cost=7000, lower_bound=0)
    problems = check_plan(Instance(container_types=(TWENTY,), shipments=shipments[:4] + (), pair_20=True), lopsided)
    assert any("differ" in p for p in problems)


def test_cargo_above_the_train_weight_limit_rolls_over():
    shipments = tuple(ship(f"S{i}", 10, 10000) for i in range(6))
    instance = Instance(container_types=(FORTY,), shipments=shipments, max_weight_kg=35000)
    plan = solve(instance)
    assert sum(c.weight_kg for c in plan.containers) <= 35000
    assert [u.reason for u in plan.unassigned] == [REASON_ROLLED_WEIGHT] * 3
    assert check_plan(instance, plan) == []
    unlimited = solve(Instance(container_types=(FORTY,), shipments=shipments))
    assert not unlimited.unassigned


@st.composite
def small_instances(draw):
    """Shipments a 40' or two 20' can always take, to two destinations, one of which takes a single 20'."""
    n = draw(st.integers(min_value=1, max_value=14))
    shipments = tuple(
        ship(f"S{i}", draw(st.floats(min_value=0.5, max_value=12)), draw(st.floats(min_value=50, max_value=2400)),
             draw(st.sampled_from(("DEDUI", "KZALA", "PLLOD"))))
        for i in range(n)
    )
    return Instance(container_types=(TWENTY, FORTY), shipments=shipments, pair_20=True,
                    single_20_destinations=frozenset({"KZALA"}))


@settings(max_examples=60, deadline=None)
@given(small_instances())
def test_paired_plans_keep_every_rule(instance):
    plan = solve(instance)
    assert check_plan(instance, plan) == []
    assert not plan.unassigned
    assert plan.cost == sum(instance.type_by_code(c.type).cost for c in plan.containers)


def test_the_rail_settings_read_and_write_as_instance_documents():
    instance = Instance(container_types=(TWENTY, FORTY), shipments=(ship("A", 5, 800, "KZALA"),), pair_20=True,
                        pair_max_difference_kg=6000, single_20_destinations=frozenset({"KZALA"}), max_weight_kg=9e5)
    again = instance_from_dict(instance_to_dict(instance))
    assert (again.pair_20, again.pair_max_difference_kg, again.single_20_destinations, again.max_weight_kg) == (
        True, 6000, frozenset({"KZALA"}), 9e5)
    with pytest.raises(PlannerInputError) as error:
        instance_from_dict({**instance_to_dict(instance), "pair_max_difference_kg": -1})
    assert error.value.field == "pair_max_difference_kg"
    assert not instance_from_dict({**instance_to_dict(instance), "pair_20": False}).pair_20
