"""The Pareto front drops only dominated options, and keeps one of equal ones."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.emissions import dominates, front

points = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)), max_size=25)


@given(points)
def test_the_front_drops_only_dominated_options(pts):
    kept = front(pts)
    kept_set = set(kept)
    for i, p in enumerate(pts):
        dominated = any(dominates(q, p) for q in pts)
        if i in kept_set:
            assert not dominated  # nothing kept is beaten on all three
        elif not dominated:
            assert any(tuple(pts[k]) == tuple(p) for k in kept)  # dropped only as a duplicate of one kept
    assert len({tuple(pts[k]) for k in kept}) == len(kept)
    assert kept == sorted(kept)


def test_a_worked_case():
    # (price, arrival day, kg CO2e): rail cheap and clean, air fast and dirty, a third worse than rail in all three.
    options = [(100, 20, 50), (900, 3, 2000), (150, 21, 60), (100, 20, 50)]
    assert front(options) == [0, 1]
    assert dominates((100, 20, 50), (150, 21, 60)) and not dominates((100, 20, 50), (100, 20, 50))
