"""POST/GET /v1/departures/{id}/consist: the train of the current plan, versioned and locked with it."""

import asyncio

from sqlalchemy import func, select

from app.consolidation.models import PlanConsist
from app.papers import consist as papers_consist
from tests import factories
from tests.conftest import postgres_only
from tests.factories import booking_body, cargo_line
from tests.test_rail_rules import CUBES, ruled_network


async def book(client, headers, departure_id, cargo):
    response = await client.post("/v1/bookings", json=booking_body(departure_id, cargo=cargo), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def planned(client, operator, exporter, **rules) -> int:
    network = await ruled_network(client, operator, **rules)
    departure_id = network["ruled_departure_id"]
    for _ in range(3):
        await book(client, exporter, departure_id, [CUBES])
    await book(client, exporter, departure_id, [cargo_line(packages=20, weight_kg=15_000)])
    response = await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)
    assert response.status_code == 201, response.text
    return departure_id


async def test_the_consist_puts_every_container_on_one_wagon(client, operator, exporter):
    departure_id = await planned(client, operator, exporter)
    plan = (await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert (await client.get(f"/v1/departures/{departure_id}/consist", headers=operator)).status_code == 404
    response = await client.post(f"/v1/departures/{departure_id}/consist", headers=operator)
    assert response.status_code == 201, response.text
    body = response.json()
    on_wagons = [c["id"] for w in body["wagons"] for c in w["containers"]]
    assert sorted(on_wagons) == sorted(c["id"] for c in plan["containers"])
    assert body["plan_version"] == plan["version"] and body["locked"] is False
    assert body["totals"]["teu"] == plan["teu"] and body["totals"]["wagons"] == len(body["wagons"])
    assert body["totals"]["cargo_kg"] == sum(c["fill"]["weight_kg"] for c in plan["containers"])
    forty = next(c for w in body["wagons"] for c in w["containers"] if c["type"] == "40HC")
    assert forty["tare_kg"] == 3800 and forty["gross_kg"] == forty["cargo_kg"] + 3800
    assert body["warnings"] and "no container number" in body["warnings"][0]
    assert (await client.get(f"/v1/departures/{departure_id}/consist", headers=operator)).json()["wagons"] == body["wagons"]
    assert (await client.get(f"/v1/departures/{departure_id}/consist", headers=exporter)).status_code == 403


async def test_a_new_plan_needs_a_new_consist_and_a_locked_plan_locks_it(client, operator, exporter):
    departure_id = await planned(client, operator, exporter)
    assert (await client.post(f"/v1/departures/{departure_id}/consist", headers=operator)).status_code == 201
    assert (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).status_code == 201
    assert (await client.get(f"/v1/departures/{departure_id}/consist", headers=operator)).status_code == 404
    assert (await client.post(f"/v1/departures/{departure_id}/consist", headers=operator)).status_code == 201
    locked = await client.post(f"/v1/departures/{departure_id}/plan/lock", json={"all": True}, headers=operator)
    assert locked.status_code == 200, locked.text
    assert (await client.get(f"/v1/departures/{departure_id}/consist", headers=operator)).json()["locked"] is True
    again = await client.post(f"/v1/departures/{departure_id}/consist", headers=operator)
    assert again.status_code == 409 and "locked" in again.json()["detail"]


async def test_a_plan_that_breaks_a_rule_gets_no_consist(client, operator, exporter):
    network = await ruled_network(client, operator)
    departure_id = network["ruled_departure_id"]
    # 21.5 t: only a 20GP carries it (21.8 t; a 40HC 21.2 t), and nothing pairs with it to Duisburg.
    await book(client, exporter, departure_id, [cargo_line(packages=20, weight_kg=21_500)])
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert [c["type"] for c in plan["containers"]] == ["20GP"]
    assert any("single 20'" in w for w in plan["warnings"])
    response = await client.post(f"/v1/departures/{departure_id}/consist", headers=operator)
    assert response.status_code == 409 and "no partner" in response.json()["detail"]
    assert (await client.get(f"/v1/departures/{departure_id}/consist", headers=operator)).status_code == 404
    # A service that takes a single 20' at Duisburg makes a train of the same cargo.
    body = factories.service_body("WUH-DUI-SINGLE", rail_rules={"single_20_destinations": ["DEDUI"]})
    assert (await client.post("/v1/services", json=body, headers=operator)).status_code == 201
    single = (await client.post("/v1/departures", json=factories.departure_body("WUH-DUI-SINGLE"),
                                headers=operator)).json()
    await book(client, exporter, single["id"], [cargo_line(packages=20, weight_kg=21_500)])
    assert (await client.post(f"/v1/departures/{single['id']}/plan", headers=operator)).status_code == 201
    response = await client.post(f"/v1/departures/{single['id']}/consist", headers=operator)
    assert response.status_code == 201, response.text
    assert [len(w["containers"]) for w in response.json()["wagons"]] == [1]


async def test_a_road_departure_has_no_train(client, operator, exporter, network):
    response = await client.post(f"/v1/departures/{network['departure_id']}/plan", headers=operator)
    assert response.status_code == 201
    body = factories.service_body("WUH-DUI-ROAD", mode="ROAD")
    assert (await client.post("/v1/services", json=body, headers=operator)).status_code == 201
    road = (await client.post("/v1/departures", json=factories.departure_body("WUH-DUI-ROAD"), headers=operator)).json()
    await book(client, exporter, road["id"], [cargo_line()])
    assert (await client.post(f"/v1/departures/{road['id']}/plan", headers=operator)).status_code == 201
    response = await client.post(f"/v1/departures/{road['id']}/consist", headers=operator)
    assert response.status_code == 409 and "not a rail departure" in response.json()["detail"]


@postgres_only  # SQLite has one writer: the two builds could not overlap
async def test_two_builds_at_once_store_one_consist(client, operator, exporter, app, monkeypatch):
    departure_id = await planned(client, operator, exporter)
    stored, calls = papers_consist._stored, []

    async def slow_first(session, plan):  # the first build looks, then dawdles while the second comes in
        found = await stored(session, plan)
        calls.append(found)
        if len(calls) == 1:
            await asyncio.sleep(0.5)
        return found

    monkeypatch.setattr(papers_consist, "_stored", slow_first)
    first, second = await asyncio.gather(
        client.post(f"/v1/departures/{departure_id}/consist", headers=operator),
        client.post(f"/v1/departures/{departure_id}/consist", headers=operator),
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PlanConsist)) == 1
    assert calls[0] is None and calls[1] is not None  # the second waited for the first's lock and saw its consist
