"""Instance documents: what is accepted, and bad input named by its JSON path."""

import pytest

from app.stuffing import MAX_PACKAGES, StuffingInputError, instance_from_dict, instance_to_dict

from .helpers import container, instance, piece


def error_of(document) -> StuffingInputError:
    with pytest.raises(StuffingInputError) as info:
        instance_from_dict(document)
    return info.value


def test_a_good_instance_round_trips_with_defaults():
    doc = {"container": container(), "pieces": [{"id": "A", "count": 2, "length_cm": 10.5, "width_cm": 20,
                                                  "height_cm": 30, "weight_kg": 4}]}
    inst = instance_from_dict(doc)
    assert inst.support_ratio == 0.75
    p = inst.pieces[0]
    assert p.vertical == ("height",) and p.stackable and p.group is None and p.dims == (10.5, 20, 30)
    assert instance_from_dict(instance_to_dict(inst)) == inst


def test_orientations_respect_vertical():
    upright = instance_from_dict(instance([piece(l=10, w=20, h=30)])).pieces[0]
    assert sorted(upright.orientations()) == [(10, 20, 30), (20, 10, 30)]
    anyway = instance_from_dict(instance([piece(l=10, w=20, h=30, vertical=("length", "width", "height"))]))
    assert len(anyway.pieces[0].orientations()) == 6
    cube = instance_from_dict(instance([piece(l=10, w=10, h=10, vertical=("length", "width", "height"))]))
    assert cube.pieces[0].orientations() == [(10, 10, 10)]


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["pieces"][1].update(length_cm=-5), "pieces[1].length_cm"),
        (lambda d: d["pieces"][1].update(width_cm=0), "pieces[1].width_cm"),
        (lambda d: d["pieces"][0].update(height_cm="tall"), "pieces[0].height_cm"),
        (lambda d: d["pieces"][1].update(count=0), "pieces[1].count"),
        (lambda d: d["pieces"][1].update(count=MAX_PACKAGES + 1), "pieces[1].count"),
        (lambda d: d["pieces"][1].update(count=2.5), "pieces[1].count"),
        (lambda d: d["pieces"][1].update(weight_kg=-1), "pieces[1].weight_kg"),
        (lambda d: d["pieces"][1].update(vertical=["height", "top"]), "pieces[1].vertical[1]"),
        (lambda d: d["pieces"][1].update(vertical=[]), "pieces[1].vertical"),
        (lambda d: d["pieces"][1].update(stackable="no"), "pieces[1].stackable"),
        (lambda d: d["pieces"][1].update(id="A"), "pieces[1].id"),
        (lambda d: d["pieces"][1].pop("weight_kg"), "pieces[1].weight_kg"),
        (lambda d: d["pieces"][1].update(l=500), None),
        (lambda d: d.update(support_ratio=0), "support_ratio"),
        (lambda d: d.update(support_ratio=1.2), "support_ratio"),
        (lambda d: d.update(support_ratio=float("nan")), "support_ratio"),
        (lambda d: d["container"].update(length_cm=0), "container.length_cm"),
        (lambda d: d["container"].update(payload_kg=-3), "container.payload_kg"),
        (lambda d: d["container"].pop("height_cm"), "container.height_cm"),
        (lambda d: d.update(pieces={"id": "A"}), "pieces"),
        (lambda d: d.pop("container"), "container"),
    ],
)
def test_bad_values_name_their_path(mutate, field):
    doc = instance([piece("A"), piece("B")])
    mutate(doc)
    if field is None:  # an unknown key is ignored, like the planner's documents
        instance_from_dict(doc)
        return
    assert error_of(doc).field == field


def test_a_package_no_orientation_fits_is_refused():
    # 150 cm tall, may only stand on its base: a 100 cm high container cannot take it...
    error = error_of(instance([piece("A"), piece("TALL", l=50, w=50, h=150)]))
    assert error.field == "pieces[1]" and "none of its allowed orientations" in error.message
    # ...but laid on its side it fits.
    instance_from_dict(instance([piece("TALL", l=50, w=50, h=150, vertical=("length", "height"))],
                                length=200))


def test_too_many_packages_in_all_is_refused():
    doc = instance([piece(f"P{i}", count=MAX_PACKAGES // 2, l=1, w=1, h=1) for i in range(3)])
    assert error_of(doc).field == "pieces[2].count"


def test_not_an_object():
    assert error_of([1]).field == "body"
    assert error_of({"container": container()}).field == "pieces"
