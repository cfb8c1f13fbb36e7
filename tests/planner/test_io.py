"""Parsing: malformed input raises PlannerInputError naming the field; plan documents."""

import copy

import pytest

from app.planner import (
    PlannerInputError,
    instance_from_dict,
    instance_to_dict,
    plan_from_dict,
    plan_to_dict,
    solve,
)

from .helpers import SMALL_TYPES, ship


def base():
    return {
        "container_types": copy.deepcopy(SMALL_TYPES),
        "dg_incompatible": [["3", "5.1"]],
        "max_teu": None,
        "shipments": [ship("A"), ship("B", v=2.0), ship("C", temp=(2, 8)), ship("D", dg="3")],
    }


def mutate(path, value):
    d = base()
    target = d
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


BAD = [
    (("shipments", 3, "weight_kg"), "heavy", "shipments[3].weight_kg"),
    (("shipments", 3, "weight_kg"), -1, "shipments[3].weight_kg"),
    (("shipments", 3, "weight_kg"), float("nan"), "shipments[3].weight_kg"),
    (("shipments", 3, "weight_kg"), True, "shipments[3].weight_kg"),
    (("shipments", 1, "volume_cbm"), KeyError, "shipments[1].volume_cbm"),
    (("shipments", 0, "id"), "", "shipments[0].id"),
    (("shipments", 1, "id"), "A", "shipments[1].id"),
    (("shipments", 0, "destination"), 7, "shipments[0].destination"),
    (("shipments", 2, "temp_range_c"), [8, 2], "shipments[2].temp_range_c"),
    (("shipments", 2, "temp_range_c"), [1], "shipments[2].temp_range_c"),
    (("shipments", 2, "temp_range_c"), [1, "x"], "shipments[2].temp_range_c[1]"),
    (("shipments", 0, "stackable"), "no", "shipments[0].stackable"),
    (("shipments", 0, "footprint_m2"), -2, "shipments[0].footprint_m2"),
    (("shipments", 0, "priority"), "high", "shipments[0].priority"),
    (("shipments", 0, "booked_at"), "yesterday", "shipments[0].booked_at"),
    (("shipments", 0, "dg_class"), 3, "shipments[0].dg_class"),
    (("shipments", 0), "S1", "shipments[0]"),
    (("shipments",), {}, "shipments"),
    (("shipments",), KeyError, "shipments"),
    (("container_types",), [], "container_types"),
    (("container_types", 1, "payload_kg"), 0, "container_types[1].payload_kg"),
    (("container_types", 1, "usable_cbm"), None, "container_types[1].usable_cbm"),
    (("container_types", 1, "cost"), "cheap", "container_types[1].cost"),
    (("container_types", 1, "reefer"), 1, "container_types[1].reefer"),
    (("container_types", 1, "code"), "20GP", "container_types[1].code"),
    (("container_types", 1, "code"), "HC40", "container_types[1].code"),
    (("container_types", 1, "teu"), 0, "container_types[1].teu"),
    (("dg_incompatible", 0), ["3"], "dg_incompatible[0]"),
    (("dg_incompatible",), "3,5.1", "dg_incompatible"),
    (("max_teu",), -1, "max_teu"),
    (("max_teu",), 2.5, "max_teu"),
    (("max_payload_kg",), 0, "max_payload_kg"),
]


@pytest.mark.parametrize("path,value,field", BAD)
def test_malformed_input_names_the_field(path, value, field):
    with pytest.raises(PlannerInputError) as err:
        instance_from_dict(mutate(path, value))
    assert err.value.field == field
    assert err.value.message
    assert field in str(err.value)


@pytest.mark.parametrize("doc", [None, [], "x", 3, {"shipments": []}])
def test_not_an_instance_at_all(doc):
    with pytest.raises(PlannerInputError):
        instance_from_dict(doc)


@pytest.mark.parametrize(
    "locked,field",
    [
        ([{"type": "ZZ", "destination": "DEDUI", "shipments": ["A"]}], "locked_containers[0].type"),
        ([{"type": "20GP", "destination": "DEDUI", "shipments": ["NOPE"]}], "locked_containers[0].shipments[0]"),
        ([{"type": "20GP", "destination": "PLLOD", "shipments": ["A"]}], "locked_containers[0].shipments[0]"),
        ([{"type": "20GP", "destination": "DEDUI", "shipments": ["C"]}], "locked_containers[0].shipments[0]"),
        ([{"type": "20GP", "destination": "DEDUI", "shipments": []}], "locked_containers[0].shipments"),
        ([{"type": "20GP", "destination": "DEDUI"}], "locked_containers[0].shipments"),
        (
            [
                {"type": "20GP", "destination": "DEDUI", "shipments": ["A"]},
                {"type": "40HC", "destination": "DEDUI", "shipments": ["A"]},
            ],
            "locked_containers[1].shipments[0]",
        ),
        ("20GP", "locked_containers"),
    ],
)
def test_bad_locked_containers(locked, field):
    d = base()
    d["locked_containers"] = locked
    with pytest.raises(PlannerInputError) as err:
        instance_from_dict(d)
    assert err.value.field == field


def test_locked_container_breaking_capacity_or_dg_is_rejected():
    d = base()
    d["shipments"].append(ship("E", dg="5.1"))
    d["shipments"].append(ship("F", w=950))
    d["locked_containers"] = [{"type": "20GP", "destination": "DEDUI", "shipments": ["D", "E"]}]
    with pytest.raises(PlannerInputError) as err:
        instance_from_dict(d)
    assert err.value.field == "locked_containers[0].shipments"
    d["locked_containers"] = [{"type": "20GP", "destination": "DEDUI", "shipments": ["A", "F"]}]
    with pytest.raises(PlannerInputError, match="payload"):
        instance_from_dict(d)


def test_optional_fields_and_extensions_parse():
    d = base()
    d["max_payload_kg"] = 21000
    d["container_types"].append({"code": "53HC", "payload_kg": 30000, "usable_cbm": 100, "inner_height_m": 2.9,
                                 "cost": 9000, "reefer": False, "teu": 3})
    d["shipments"][0].update(priority=2, booked_at="2026-11-20T08:00:00Z")
    for key in ("dg_class", "temp_range_c", "stackable", "footprint_m2"):
        del d["shipments"][1][key]
    inst = instance_from_dict(d)
    assert inst.max_payload_kg == 21000
    assert inst.type_by_code("53HC").teu == 3
    assert inst.type_by_code("20GP").teu == 1 and inst.type_by_code("40HC").teu == 2
    assert inst.shipment("A").priority == 2 and inst.shipment("A").booked_at.year == 2026
    assert inst.shipment("B").stackable is True
    # round trip
    again = instance_from_dict(instance_to_dict(inst))
    assert again.shipments == inst.shipments and again.container_types == inst.container_types


def test_plan_document_has_exactly_the_format_shape():
    inst = instance_from_dict(base())
    doc = plan_to_dict(solve(inst))
    assert set(doc) == {"containers", "unassigned", "cost", "lower_bound"}
    for c in doc["containers"]:
        assert set(c) == {"type", "destination", "shipments", "weight_kg", "occupied_cbm"}
        assert isinstance(c["shipments"], list)
    for u in doc["unassigned"]:
        assert set(u) == {"id", "reason"}
    assert isinstance(doc["cost"], int) and isinstance(doc["lower_bound"], int)
    assert plan_to_dict(plan_from_dict(doc)) == doc
