"""The consist builder (pure): every container on exactly one wagon, every wagon and the train within the rules."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.consist import Box, ConsistError, Rules, Wagon, build, check

X70 = Wagon(code="X70", payload_kg=70_000, tare_kg=23_800, length_m=16.3, feu_slots=1)
DESTINATIONS = ("DEDUI", "PLLOD", "KZALA")


def box(i: int, teu: int, cargo_kg: float, destination: str = "DEDUI", number: str | None = "X") -> Box:
    return Box(id=f"C{i}", type="20GP" if teu == 1 else "40HC", teu=teu, destination=destination, cargo_kg=cargo_kg,
               tare_kg=2200 if teu == 1 else 3800, number=number)


@st.composite
def boxes(draw):
    n = draw(st.integers(min_value=0, max_value=60))
    return [box(i, draw(st.sampled_from((1, 2))), draw(st.floats(min_value=0, max_value=22_000)),
                draw(st.sampled_from(DESTINATIONS))) for i in range(n)]


RULES = Rules(single_20_destinations=frozenset({"KZALA"}), max_train_length_m=None, max_feu=None, max_cargo_kg=None)


@settings(max_examples=200, deadline=None)
@given(boxes(), st.booleans())
def test_every_container_on_exactly_one_wagon_and_every_wagon_within_limits(items, off_ends):
    rules = Rules(**{**RULES.__dict__, "heavy_wagons_off_ends": off_ends})
    try:
        consist = build(items, [X70], rules)
    except ConsistError as error:
        assert error.problems  # refused, and says why
        return
    placed = [b.id for w in consist.wagons for b in w.boxes]
    assert sorted(placed) == sorted(b.id for b in items)
    for wagon in consist.wagons:
        assert wagon.boxes and sum(b.teu for b in wagon.boxes) <= 2
        assert wagon.load_kg <= X70.payload_kg
        assert all(b.gross_kg <= rules.max_gross_kg(b) for b in wagon.boxes)
        twenties = [b for b in wagon.boxes if b.teu == 1]
        if len(twenties) == 2:
            assert twenties[0].destination == twenties[1].destination
            assert abs(twenties[0].gross_kg - twenties[1].gross_kg) < rules.pair_max_difference_kg
        elif len(twenties) == 1:
            assert twenties[0].destination == "KZALA"
    assert check(consist, rules, items) == []
    assert [w.position for w in consist.wagons] == list(range(1, len(consist.wagons) + 1))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(DESTINATIONS[:2]), st.floats(min_value=0, max_value=21_000)), max_size=30))
def test_paired_20s_of_equal_weight_and_any_40s_always_make_a_train(forties):
    items = [box(i, 2, kg, destination) for i, (destination, kg) in enumerate(forties)]
    items += [box(100 + i, 1, 10_000, DESTINATIONS[i % 2]) for i in range(8)]
    consist = build(items, [X70], RULES)
    assert consist.totals()["wagons"] == len(forties) + 4


def test_a_lone_20_is_refused_unless_its_station_takes_it():
    with pytest.raises(ConsistError, match="no partner"):
        build([box(1, 1, 5000), box(2, 1, 5000), box(3, 1, 5000)], [X70], RULES)
    consist = build([box(1, 1, 5000, "KZALA")], [X70], RULES)
    assert len(consist.wagons) == 1
    assert len(build([box(1, 1, 5000)], [X70], Rules(pair_20=False)).wagons) == 1


def test_the_odd_20_left_alone_is_the_one_that_keeps_the_pairs_close():
    # 15, 12 and 9 t to Almaty: pairing 15+12 leaves 9 alone; 12+9 would leave 15, and 15 with 9 differ too much.
    consist = build([box(1, 1, 15_000, "KZALA"), box(2, 1, 12_000, "KZALA"), box(3, 1, 6_000, "KZALA")], [X70], RULES)
    sizes = sorted(len(w.boxes) for w in consist.wagons)
    assert sizes == [1, 2]


def test_a_pair_too_far_apart_is_refused():
    with pytest.raises(ConsistError, match="differ"):
        build([box(1, 1, 15_000), box(2, 1, 9_000)], [X70], RULES)
    assert build([box(1, 1, 15_000), box(2, 1, 10_001)], [X70], RULES)


def test_container_gross_weight_and_train_limits():
    with pytest.raises(ConsistError, match="gross"):
        build([box(1, 2, 21_500)], [X70], RULES)  # 21.5 t + 3.8 t tare > 25 t
    many = [box(i, 2, 20_000) for i in range(56)]
    with pytest.raises(ConsistError, match="FEU"):
        build(many, [X70], Rules(max_train_length_m=None))
    with pytest.raises(ConsistError, match="long"):
        build(many[:40], [X70], Rules(max_train_length_m=600))  # 40 × 16.3 m = 652 m > 600 m
    with pytest.raises(ConsistError, match="cargo"):
        build(many[:36], [X70], Rules(max_cargo_kg=700_000))
    assert build(many[:36], [X70], Rules()).totals()["feu"] == 36


def test_heavy_wagons_are_kept_off_the_ends_when_asked():
    items = [box(i, 2, 1000 * (i + 1)) for i in range(9)]
    plain = build(items, [X70], RULES)
    assert plain.wagons[0].load_kg == max(w.load_kg for w in plain.wagons)  # heaviest first by default
    balanced = build(items, [X70], Rules(**{**RULES.__dict__, "heavy_wagons_off_ends": True}))
    loads = [w.load_kg for w in balanced.wagons]
    assert max(loads) not in (loads[0], loads[-1]) and loads[0] <= sorted(loads)[4] and loads[-1] <= sorted(loads)[4]
    assert check(plain, Rules(**{**RULES.__dict__, "heavy_wagons_off_ends": True})) != []


def test_totals_and_a_warning_for_unnumbered_containers():
    consist = build([box(1, 2, 20_000, number=None), box(2, 1, 8000), box(3, 1, 9000)], [X70], RULES)
    assert consist.totals() == {"wagons": 2, "containers": 3, "teu": 4, "feu": 2.0, "length_m": 32.6,
                                "cargo_kg": 37_000, "containers_gross_kg": 45_200, "train_gross_kg": 92_800}
    assert "C1" in consist.warnings[0]
