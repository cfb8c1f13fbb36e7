"""Sample-scale runs (s060, s300, s3000: tests/data/planner/samples) against docs/planner/REFERENCE.md's figures."""

import time

import pytest

from app.planner import (
    Container,
    check_plan,
    first_fit_decreasing,
    instance_from_dict,
    lower_bound,
    plan_to_dict,
    solve,
)

from .helpers import SAMPLES, load_sample


# REFERENCE.md: lower bound, first-fit decreasing, reference planner
REFERENCE = {
    "s060": (34_700, 34_700, 34_700),
    "s300": (140_200, 144_800, 141_500),
    "s3000": (1_118_300, 1_163_000, 1_155_200),
}


@pytest.fixture(scope="module")
def instances():
    return {name: instance_from_dict(load_sample(name)) for name in REFERENCE}


@pytest.fixture(scope="module")
def plans(instances):
    return {name: solve(inst) for name, inst in instances.items()}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_bound_and_baseline_reproduce_reference(instances, name):
    bound, ffd, _ = REFERENCE[name]
    inst = instances[name]
    assert lower_bound(inst) == bound
    base = first_fit_decreasing(inst)
    assert check_plan(inst, base) == []
    assert base.cost == ffd


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_planner_beats_reference_and_keeps_rules(plans, instances, name):
    bound, _, ref = REFERENCE[name]
    plan = plans[name]
    assert check_plan(instances[name], plan) == []
    assert plan.lower_bound == bound
    assert plan.cost <= ref
    if name in ("s060", "s300"):
        assert plan.cost <= 1.02 * bound
    else:
        assert plan.cost <= 1.01 * bound


def test_deterministic_on_s300(instances, plans):
    again = solve(instance_from_dict(load_sample("s300")))
    assert plan_to_dict(again) == plan_to_dict(plans["s300"])


def test_replan_s300_with_locked_containers(instances, plans):
    inst = instances["s300"]
    first = plans["s300"]
    locked = [c for k, c in enumerate(first.containers) if k % 3 == 0]
    plan = solve(inst, locked=locked)
    assert check_plan(inst, plan, locked) == []
    key = lambda c: (c.type, c.destination, c.shipments)  # noqa: E731
    assert [key(c) for c in plan.containers[: len(locked)]] == [key(c) for c in locked]
    # the locked set is respected even when it is poor: split one container in two
    big = max(first.containers, key=lambda c: len(c.shipments))
    half = big.shipments[: len(big.shipments) // 2]
    poor = [Container(type=big.type, destination=big.destination, shipments=half)]
    plan = solve(inst, locked=poor)
    assert check_plan(inst, plan, poor) == []
    assert plan.containers[0].shipments == half


def test_time_limit_is_respected_on_s3000(instances):
    inst = instances["s3000"]
    t0 = time.perf_counter()
    plan = solve(inst, time_limit_s=0.3)
    elapsed = time.perf_counter() - t0
    assert check_plan(inst, plan) == []
    assert elapsed < 1.5  # FFD fallback + bookkeeping on top of the 0.3 s budget
