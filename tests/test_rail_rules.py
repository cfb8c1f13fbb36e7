"""China Railway's container rules on a rail service: stored settings, refusals at booking, quotes leaving
the service out, and the plan keeping them (payload caps, 20' pairs, train size)."""

import pytest

from tests import factories
from tests.factories import booking_body, cargo_line

RULED = "WUH-DUI-CR"
BATTERY_DOCS = [{"kind": "UN38_3_TEST_SUMMARY", "reference": "T-2026-118"}, {"kind": "MSDS", "reference": "MSDS-77"}]


# 15 cubes of 1.17 m: 24 CBM, which a 20GP holds (5 × 2 × 2 on its floor) and a 40HC twice.
CUBES = cargo_line(packages=15, package_type="CRATE", length_cm=117, width_cm=117, height_cm=117, weight_kg=1000)


def battery(un: str = "3481", **extra) -> dict:
    return {"un_number": un, "class": "9", "packing_group": "II", **extra}


async def ruled_network(client, operator, **rules) -> dict:
    """factories.small_network (WUH-DUI, no rail rules) and WUH-DUI-CR under China Railway's rules."""
    network = await factories.small_network(client, operator)
    body = factories.service_body(RULED, rail_rules=rules, forbidden_dg_classes=["1", "7"], rate_per_cbm="50.00",
                                  minimum_charge="50.00")
    response = await client.post("/v1/services", json=body, headers=operator)
    assert response.status_code == 201, response.text
    network["service"] = response.json()
    response = await client.post("/v1/departures", json=factories.departure_body(RULED, capacity_teu=110), headers=operator)
    assert response.status_code == 201, response.text
    network["ruled_departure_id"] = response.json()["id"]
    return network


async def book(client, headers, departure_id, cargo):
    return await client.post("/v1/bookings", json=booking_body(departure_id, cargo=cargo), headers=headers)


def field_of(response) -> str:
    assert response.status_code == 422, response.text
    return response.json()["errors"][0]["field"]


async def test_rules_are_stored_with_the_defaults_and_only_on_rail(client, operator):
    network = await ruled_network(client, operator, single_20_destinations=["KZALA"])
    rules = network["service"]["rail_rules"]
    assert rules["max_gross_kg_40"] == 25000 and rules["max_gross_kg_20"] == 24000
    assert rules["pair_max_difference_kg"] == 5000 and rules["single_20_destinations"] == ["KZALA"]
    assert rules["max_feu"] == 55 and rules["max_cargo_kg"] == 1_300_000 and rules["max_train_length_m"] is None
    assert rules["refused_un_numbers"] == ["3480", "3090"] and rules["wagon_types"][0]["code"] == "X70"
    road = factories.service_body("WUH-DUI-ROAD", mode="ROAD", rail_rules={})
    assert field_of(await client.post("/v1/services", json=road, headers=operator)) == "rail_rules"
    bad = factories.service_body("WUH-DUI-X", rail_rules={"pair_max_difference_kg": -1})
    assert field_of(await client.post("/v1/services", json=bad, headers=operator)) == "rail_rules.pair_max_difference_kg"


async def test_a_train_holds_at_most_55_feu(client, operator):
    await ruled_network(client, operator)
    too_long = factories.departure_body(RULED, days_out=30, capacity_teu=112)
    assert field_of(await client.post("/v1/departures", json=too_long, headers=operator)) == "capacity_teu"
    unruled = factories.departure_body("WUH-DUI", days_out=40, capacity_teu=112)
    assert (await client.post("/v1/departures", json=unruled, headers=operator)).status_code == 201
    departure = (await client.post("/v1/departures", headers=operator, json=factories.departure_body(
        RULED, days_out=31, capacity_teu=110, max_train_length_m=450))).json()
    assert departure["max_cargo_kg"] == 1_300_000 and departure["max_train_length_m"] == 450


async def test_lithium_batteries_shipped_alone_are_refused(client, operator, exporter):
    network = await ruled_network(client, operator)
    for un in ("3480", "3090"):
        line = cargo_line(dangerous_goods=battery(un, documents=BATTERY_DOCS))
        assert field_of(await book(client, exporter, network["ruled_departure_id"], [line])) == \
            "cargo.0.dangerous_goods.un_number"
    alone = cargo_line(dangerous_goods=battery("3480"))
    assert (await book(client, exporter, network["departure_id"], [alone])).status_code == 201  # no rules there


async def test_batteries_in_equipment_need_their_documents_declared(client, operator, exporter):
    network = await ruled_network(client, operator)
    bare = cargo_line(dangerous_goods=battery("3481"))
    assert field_of(await book(client, exporter, network["ruled_departure_id"], [bare])) == \
        "cargo.0.dangerous_goods.documents"
    half = cargo_line(dangerous_goods=battery("3091", documents=BATTERY_DOCS[:1]))
    response = await book(client, exporter, network["ruled_departure_id"], [cargo_line(), half])
    assert field_of(response) == "cargo.1.dangerous_goods.documents"
    assert "MSDS" in response.json()["errors"][0]["message"]
    documented = cargo_line(dangerous_goods=battery("3481", documents=BATTERY_DOCS))
    response = await book(client, exporter, network["ruled_departure_id"], [documented])
    assert response.status_code == 201, response.text
    seen = await client.get(f"/v1/bookings/{response.json()['reference']}", headers=operator)
    assert seen.json()["cargo"][0]["dangerous_goods"]["documents"] == BATTERY_DOCS  # the operator sees them


async def test_damaged_or_recycled_batteries_are_refused(client, operator, exporter):
    network = await ruled_network(client, operator)
    for condition in ("DAMAGED", "RECYCLED"):
        line = cargo_line(dangerous_goods=battery("3481", documents=BATTERY_DOCS, battery_condition=condition))
        assert field_of(await book(client, exporter, network["ruled_departure_id"], [line])) == \
            "cargo.0.dangerous_goods.battery_condition"
    used = cargo_line(dangerous_goods=battery("3481", documents=BATTERY_DOCS, battery_condition="USED"))
    assert (await book(client, exporter, network["ruled_departure_id"], [used])).status_code == 201


async def test_special_provision_188_is_not_dangerous_goods(client, operator, exporter):
    network = await ruled_network(client, operator)
    # A service that carries no class 9 at all still takes consumer goods with small cells.
    body = factories.service_body("WUH-DUI-NO9", rail_rules={}, forbidden_dg_classes=["9"])
    assert (await client.post("/v1/services", json=body, headers=operator)).status_code == 201
    departure = (await client.post("/v1/departures", json=factories.departure_body("WUH-DUI-NO9"),
                                   headers=operator)).json()
    small_cells = cargo_line(dangerous_goods=battery("3481", special_provisions=[188]))
    response = await book(client, exporter, departure["id"], [small_cells])
    assert response.status_code == 201, response.text
    assert response.json()["cargo"][0]["dangerous_goods"]["special_provisions"] == [188]
    assert field_of(await book(client, exporter, departure["id"], [cargo_line(dangerous_goods=battery(
        "3481", documents=BATTERY_DOCS))])) == "cargo.0.dangerous_goods.class"
    # and it needs no documents on the ruled line either
    assert (await book(client, exporter, network["ruled_departure_id"], [small_cells])).status_code == 201


async def test_cargo_heavier_than_a_container_may_carry_by_rail_is_refused(client, operator, exporter):
    network = await ruled_network(client, operator)
    # 20GP: 24 t gross less 2.2 t tare = 21.8 t of cargo; 40HC: 25 t less 3.8 t = 21.2 t.
    heavy = cargo_line(packages=20, weight_kg=22_000)
    assert field_of(await book(client, exporter, network["ruled_departure_id"], [heavy])) == "cargo.0.weight_kg"
    two = [cargo_line(packages=20, weight_kg=11_000), cargo_line(packages=20, weight_kg=11_000)]
    assert field_of(await book(client, exporter, network["ruled_departure_id"], two)) == "cargo"
    assert (await book(client, exporter, network["departure_id"], [heavy])).status_code == 201  # 28 t payload there
    fits = cargo_line(packages=20, weight_kg=21_800)
    assert (await book(client, exporter, network["ruled_departure_id"], [fits])).status_code == 201


async def test_quotes_leave_out_a_rail_service_that_refuses_the_cargo(client, operator, exporter):
    await ruled_network(client, operator)

    async def left_out(cargo):
        body = {"origin": "CNWUH", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)), "cargo": cargo}
        response = await client.post("/v1/quotes", json=body, headers=exporter)
        assert response.status_code == 201, response.text
        quoted = {leg["service"] for option in response.json()["options"] for leg in option["legs"]}
        return quoted, {(e["service"], e["reason"], e["field"]) for e in response.json()["left_out"]}

    quoted, out = await left_out([cargo_line(packages=20, weight_kg=22_000)])
    assert "WUH-DUI" in quoted and RULED not in quoted
    assert (RULED, "CARGO_TOO_HEAVY", "cargo.0.weight_kg") in out
    quoted, out = await left_out([cargo_line(dangerous_goods=battery("3480"))])
    assert (RULED, "DG_UN_REFUSED", "cargo.0.dangerous_goods.un_number") in out and RULED not in quoted
    quoted, out = await left_out([cargo_line(dangerous_goods=battery("3481"))])
    assert (RULED, "DG_DOCUMENTS_MISSING", "cargo.0.dangerous_goods.documents") in out
    quoted, out = await left_out([cargo_line(dangerous_goods=battery("3481", documents=BATTERY_DOCS))])
    assert RULED in quoted and not out


async def test_the_plan_caps_payloads_and_pairs_20s(client, operator, exporter):
    network = await ruled_network(client, operator)
    departure_id = network["ruled_departure_id"]
    # Three bookings of 24 CBM each: unruled, a 40HC takes two and a 20GP the third (one 20' alone on a wagon).
    for _ in range(3):
        response = await book(client, exporter, departure_id, [CUBES])
        assert response.status_code == 201, response.text
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    types = sorted(c["type"] for c in plan["containers"])
    assert types.count("20GP") % 2 == 0, types
    assert {c["type"]: c["fill"]["payload_kg"] for c in plan["containers"]}.get("40HC") == 21200
    assert not [w for w in plan["warnings"] if "20'" in w]
    unruled = (await client.post("/v1/departures", headers=operator, json=factories.departure_body(
        "WUH-DUI", days_out=40, capacity_teu=10))).json()["id"]
    for _ in range(3):
        assert (await book(client, exporter, unruled, [CUBES])).status_code == 201
    response = await client.post(f"/v1/departures/{unruled}/plan", headers=operator)
    assert not response.json()["unassigned"]
    assert sorted(c["type"] for c in response.json()["containers"]).count("20GP") == 1


@pytest.mark.parametrize("limit", [2])
async def test_the_plan_keeps_the_train_cargo_limit(client, operator, exporter, limit):
    network = await ruled_network(client, operator)
    departure = (await client.post("/v1/departures", headers=operator, json=factories.departure_body(
        RULED, days_out=33, capacity_teu=110, max_cargo_kg=30_000))).json()
    refs = []
    for _ in range(limit + 1):
        response = await book(client, exporter, departure["id"], [cargo_line(packages=20, weight_kg=14_000)])
        assert response.status_code == 201, response.text
        refs.append(response.json()["reference"])
    plan = (await client.post(f"/v1/departures/{departure['id']}/plan", headers=operator)).json()
    assert sum(c["fill"]["weight_kg"] for c in plan["containers"]) <= 30_000
    assert [u["reason"] for u in plan["unassigned"]] == ["rolled over: max_weight_kg exceeded"]
    assert network


async def test_the_plan_keeps_the_train_length(client, operator, exporter):
    await ruled_network(client, operator)
    # 33 m: two 16.3 m X70 wagons, 4 TEU, whatever the departure's capacity says.
    short = (await client.post("/v1/departures", headers=operator, json=factories.departure_body(
        RULED, days_out=34, capacity_teu=110, max_train_length_m=33))).json()
    for _ in range(5):  # 120 CBM: more than two 40' hold
        assert (await book(client, exporter, short["id"], [CUBES])).status_code == 201
    plan = (await client.post(f"/v1/departures/{short['id']}/plan", headers=operator)).json()
    assert plan["teu"] <= 4 and plan["unassigned"]
    assert {u["reason"] for u in plan["unassigned"]} == {"rolled over: max_teu exceeded"}
    consist = await client.post(f"/v1/departures/{short['id']}/consist", headers=operator)
    assert consist.status_code == 201 and consist.json()["totals"]["length_m"] <= 33
