"""The solver: every plan it returns keeps every rule; the LCL samples are placed whole."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.stuffing import assign_steps, build_plan, check_stuffing, instance_from_dict, plan_to_dict, solve

from .helpers import SAMPLES, instance, load_sample, piece

SIDES = ["length", "width", "height"]


@st.composite
def instances(draw):
    n = draw(st.integers(1, 5))
    length = draw(st.integers(60, 240))
    width = draw(st.integers(40, 120))
    height = draw(st.integers(40, 120))
    pieces = []
    for i in range(n):
        vertical = draw(st.lists(st.sampled_from(SIDES), min_size=1, max_size=3, unique=True))
        dims = [draw(st.floats(5, 60, allow_nan=False).map(lambda x: round(x, 1))) for _ in range(3)]
        fits = any(d <= height for side, d in zip(SIDES, dims) if side in vertical)
        if not fits:
            vertical = [SIDES[dims.index(min(dims))]]
        pieces.append(piece(
            f"P{i}", count=draw(st.integers(1, 25)), l=dims[0], w=dims[1], h=dims[2],
            kg=draw(st.floats(0, 80, allow_nan=False).map(lambda x: round(x, 1))), vertical=vertical,
            stackable=draw(st.integers(0, 3)) > 0, group=f"G{draw(st.integers(0, 2))}",
        ))
    return instance(pieces, support_ratio=draw(st.sampled_from([0.5, 0.75, 1.0])), length=length, width=width,
                    height=height, payload=draw(st.sampled_from([300, 2000, 100_000])))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from([0.01, 0.05, 0.2]))
def test_every_plan_keeps_every_rule(document, limit):
    try:
        inst = instance_from_dict(document)
    except ValueError:
        return  # a random package too big for the random container: refused, tested in test_io
    plan = solve(inst, time_limit_s=limit)
    assert check_stuffing(inst, plan) == []
    assert sorted(p.step for p in plan.placements) == list(range(1, len(plan.placements) + 1))
    # and the document round-trips through the validator too
    assert check_stuffing(inst, plan_to_dict(plan)) == []


def test_everything_placed_when_it_fits_and_unplaced_listed_when_not():
    inst = instance_from_dict(instance([piece("A", count=8, l=50, w=50, h=50)]))
    plan = solve(inst, time_limit_s=1)
    assert len(plan.placements) == 8 and plan.unplaced == () and plan.volume_utilisation == pytest.approx(1.0)
    over = instance_from_dict(instance([piece("A", count=9, l=50, w=50, h=50)]))
    plan = solve(over, time_limit_s=0.2)
    assert check_stuffing(over, plan) == [] and [(u.id, u.count) for u in plan.unplaced] == [("A", 1)]


def test_orientation_rules_decide_what_fits():
    # 100 x 100 x 20 slabs in a 100 cm cube: flat they stack five high; "this way up" only if their height is 20.
    slab = dict(l=100, w=20, h=100)
    upright = instance_from_dict(instance([piece("S", count=5, vertical=("height",), **slab)]))
    assert len(solve(upright, 0.5).placements) == 5
    flat_only = instance_from_dict(instance([piece("S", count=5, vertical=("width",), **slab)]))
    plan = solve(flat_only, 0.5)
    assert len(plan.placements) == 5 and all(p.height_cm == 20 for p in plan.placements)


def test_non_stackable_packages_carry_nothing_and_payload_is_kept():
    inst = instance_from_dict(instance(
        [piece("PAL", count=4, l=50, w=50, h=40, kg=100, stackable=False), piece("BOX", count=8, l=50, w=50, h=50, kg=10)],
        payload=460))
    plan = solve(inst, 1)
    assert check_stuffing(inst, plan) == []
    assert plan.weight_kg <= 460
    # Pallets first would leave no room for boxes above them: the best is 8 boxes + 2 pallets... or fewer pallets.
    assert plan.volume_utilisation >= 0.9


def test_a_tiny_time_limit_still_returns_a_valid_plan():
    inst = instance_from_dict(load_sample("l106"))
    started = time.monotonic()
    plan = solve(inst, time_limit_s=0.001)
    assert time.monotonic() - started < 3  # the first greedy build, ordering and the check
    assert check_stuffing(inst, plan) == []


def test_steps_load_front_wall_first_and_supporters_first():
    inst = instance_from_dict(instance([piece("A", count=8, l=50, w=50, h=50)]))
    plan = solve(inst, time_limit_s=0.5)
    first = min(plan.placements, key=lambda p: p.step)
    assert first.x_cm == 0 and first.z_cm == 0
    again = assign_steps(inst.container, list(reversed(plan.placements)))
    assert again is not None and check_stuffing(inst, build_plan(inst, again)) == []


@pytest.mark.parametrize("name", ["l106", "l107"])
def test_lcl_samples_place_every_package(name):
    # The solver stops once all is placed (about 0.1 s of CPU for these); the limit leaves room for a busy
    # host. How fast is the bench's business (bench/stuffing.py), not a test's.
    inst = instance_from_dict(load_sample(name))
    plan = solve(inst, time_limit_s=10)
    assert check_stuffing(inst, plan) == []
    assert plan.unplaced == (), f"{name}: {plan.unplaced}"


@pytest.mark.parametrize("name", ["l105", "l108"])
def test_hard_lcl_samples_leave_at_most_a_few_packages(name):
    # Known shortfall (README): within 2 s the solver leaves 1 (l105) and 3 (l108) packages out.
    # l105 is completed with more time; l108 asks for 95.7 % of the floor under non-stackable
    # packages, which must then nearly all stand on the cartons.
    inst = instance_from_dict(load_sample(name))
    plan = solve(inst, time_limit_s=2)
    assert check_stuffing(inst, plan) == []
    assert sum(u.count for u in plan.unplaced) <= 5


def test_samples_are_copied_in():
    assert sorted(p.stem for p in SAMPLES.glob("*.json")) == [
        "g101", "g102", "g103", "g104", "l105", "l106", "l107", "l108"]


def test_a_short_load_is_moved_to_bring_its_centre_of_gravity_to_the_middle():
    inst = instance_from_dict(instance([piece("A", count=4, l=50, w=50, h=50, kg=30)], length=400, width=100))
    plan = solve(inst, time_limit_s=0.5)
    assert check_stuffing(inst, plan) == [] and plan.unplaced == ()
    gx, gy, _ = plan.centre_of_gravity_cm
    assert abs(gx - 200) <= 1 and abs(gy - 50) <= 1


def test_non_stackable_crates_go_on_top_where_the_floor_is_short():
    # The floor takes 4 crates or 4 columns of cartons; everything fits only with the crates on top.
    inst = instance_from_dict(instance(
        [piece("CRATE", count=4, l=50, w=50, h=40, kg=50, stackable=False),
         piece("CARTON", count=8, l=50, w=50, h=30, kg=10)], support_ratio=1.0))
    plan = solve(inst, time_limit_s=1)
    assert check_stuffing(inst, plan) == [] and plan.unplaced == ()
    assert all(p.z_cm == 60 for p in plan.placements if p.id == "CRATE")
