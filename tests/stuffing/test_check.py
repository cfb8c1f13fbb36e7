"""check_stuffing: one test per rule, each failing when its rule is not checked."""

import pytest

from app.stuffing import check_stuffing, instance_from_dict

from .helpers import instance, piece, place, plan

INST = instance_from_dict(instance(
    [piece("A", count=2, l=50, w=50, h=50, kg=10), piece("B", count=1, l=50, w=40, h=30, kg=5, stackable=False)],
    support_ratio=0.75,
))


def good() -> dict:
    return plan([
        place("A", 0, 0, 0, 50, 50, 50, 1),
        place("A", 0, 0, 50, 50, 50, 50, 2),
        place("B", 50, 50, 0, 50, 40, 30, 3),
    ])


def rules_broken(document, inst=INST) -> set[int]:
    errors = check_stuffing(inst, document)
    return {int(e.rsplit("(rule ", 1)[1].rstrip(")")) for e in errors}


def test_the_baseline_is_valid():
    assert check_stuffing(INST, good()) == []


def test_touching_faces_and_decimals_are_fine():
    inst = instance_from_dict(instance([piece("A", count=3, l=33.3, w=100, h=100)]))
    doc = plan([place("A", round(i * 33.3, 1), 0, 0, 33.3, 100, 100, i + 1) for i in range(3)])
    assert check_stuffing(inst, doc) == []


@pytest.mark.parametrize("where", [(51, 0, 0), (0, 61, 0), (0, 0, -1)])
def test_rule_1_inside_the_container(where):
    doc = good()
    x, y, z = where
    doc["placements"][2].update(x_cm=x, y_cm=y, z_cm=z)
    assert 1 in rules_broken(doc)


def test_rule_2_no_overlap():
    doc = good()
    doc["placements"][2]["x_cm"] = 45
    doc["placements"][2]["y_cm"] = 45
    assert 2 in rules_broken(doc)  # (and 5: the A on top now also stands over B)
    two = plan([place("A", 0, 0, 0, 50, 50, 50, 1), place("A", 49.5, 0, 0, 50, 50, 50, 2)])
    one_b = instance_from_dict(instance([piece("A", count=2, l=50, w=50, h=50)]))
    assert rules_broken(two, one_b) == {2}


def test_rule_3_dimensions_are_the_package_s():
    doc = good()
    doc["placements"][2].update(length_cm=45)
    assert rules_broken(doc) == {3}


def test_rule_3_upright_side_must_be_allowed():
    doc = good()
    # B laid on its side: 30 along x, 40 across, 50 up; B may only stand on its base.
    doc["placements"][2].update(length_cm=30, width_cm=40, height_cm=50)
    assert rules_broken(doc) == {3}
    turned = good()
    turned["placements"][2].update(length_cm=40, width_cm=50, height_cm=30)  # turned about the vertical: fine
    assert check_stuffing(INST, turned) == []


def test_rule_4_support():
    doc = good()
    doc["placements"][1]["x_cm"] = 20  # 30 of 50 cm over A: 60 % supported < 75 %
    doc["placements"][1]["y_cm"] = 0
    assert rules_broken(doc) == {4}
    doc["placements"][1]["x_cm"] = 10  # 80 % supported: fine at 0.75
    assert check_stuffing(INST, doc) == []
    floating = good()
    floating["placements"][1]["z_cm"] = 60  # hovering above A
    assert 4 in rules_broken(floating)


def test_rule_4_support_counts_only_tops_at_exactly_its_z():
    inst = instance_from_dict(instance([piece("A", count=3, l=50, w=50, h=50)], support_ratio=1.0))
    doc = plan([place("A", 0, 0, 0, 50, 50, 50, 1), place("A", 50, 0, 0, 50, 50, 50, 2),
                place("A", 25, 0, 50, 50, 50, 50, 3)])
    assert check_stuffing(inst, doc) == []  # resting on two at once
    doc["placements"][1]["height_cm"] = 49.9
    doc["placements"][1]["length_cm"] = 50
    assert 4 in rules_broken(doc, inst)


def test_rule_5_nothing_above_a_non_stackable_package():
    inst = instance_from_dict(instance([piece("A", count=1, l=50, w=50, h=50),
                                        piece("B", count=1, l=50, w=50, h=30, stackable=False)],
                                       support_ratio=0.5))
    doc = plan([place("B", 0, 0, 0, 50, 50, 30, 1), place("A", 0, 0, 30, 50, 50, 50, 2)])
    assert rules_broken(doc, inst) == {5}
    # Above it but not over its footprint is fine.
    doc = plan([place("B", 0, 0, 0, 50, 50, 30, 1), place("A", 50, 0, 0, 50, 50, 50, 2)])
    assert check_stuffing(inst, doc) == []


def test_rule_5_also_far_above():
    inst = instance_from_dict(instance([piece("A", count=2, l=50, w=50, h=30),
                                        piece("B", count=1, l=50, w=50, h=30, stackable=False)],
                                       support_ratio=0.5))
    # B on the floor, A standing on a neighbour and reaching over B at 60 cm: still above B.
    doc = plan([place("B", 0, 0, 0, 50, 50, 30, 1), place("A", 50, 0, 0, 50, 50, 30, 2),
                place("A", 25, 0, 30, 50, 50, 30, 3)])
    assert rules_broken(doc, inst) == {5}


def test_rule_6_supporters_first():
    doc = good()
    doc["placements"][0]["step"], doc["placements"][1]["step"] = 2, 1
    assert rules_broken(doc) == {6}


def test_rule_6_nothing_earlier_between_a_package_and_the_door():
    doc = good()
    # B (at the door side, x 50..100) loaded before A at the front wall, overlapping across y and z.
    doc["placements"][2]["y_cm"] = 10
    doc["placements"][0]["step"], doc["placements"][1]["step"], doc["placements"][2]["step"] = 2, 3, 1
    assert rules_broken(doc) == {6}


def test_rule_6_steps_are_not_shared():
    doc = good()
    doc["placements"][2]["step"] = 2
    assert rules_broken(doc) == {6}


def test_rule_7_payload():
    heavy = instance_from_dict(instance(
        [piece("A", count=2, l=50, w=50, h=50, kg=10), piece("B", count=1, l=50, w=40, h=30, kg=5, stackable=False)],
        payload=24.5))
    assert rules_broken(good(), heavy) == {7}


def test_rule_8_every_package_accounted_for():
    doc = good()
    doc["placements"].pop(2)
    assert rules_broken(doc) == {8}
    doc["unplaced"] = [{"id": "B", "count": 1}]
    assert check_stuffing(INST, doc) == []
    doc["unplaced"] = [{"id": "B", "count": 2}]
    assert rules_broken(doc) == {8}
    doc["unplaced"] = [{"id": "B", "count": 1}, {"id": "Z", "count": 1}]
    assert rules_broken(doc) == {8}
    extra = good()
    extra["placements"].append(place("C", 50, 0, 0, 10, 10, 10, 4))
    assert rules_broken(extra) == {8}


def test_messages_name_the_placement():
    doc = good()
    doc["placements"][2].update(x_cm=-1)
    (message,) = check_stuffing(INST, doc)
    assert message.startswith("placements[2] (B, step 3):")


def test_a_malformed_plan_is_reported_not_raised():
    assert check_stuffing(INST, {"placements": [{"id": "A"}]})[0].startswith("malformed plan: placements[0].x_cm")
