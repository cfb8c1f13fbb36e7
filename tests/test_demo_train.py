"""The demo network carries China Railway's rules and station codes: after `make run`, two bookings and
one plan, a newcomer sees a train consist and a consignment note (the README's walk-through)."""

from app.demo import seed_demo
from tests.factories import booking_body, cargo_line

CUBES = cargo_line(packages=15, package_type="CRATE", length_cm=117, width_cm=117, height_cm=117, weight_kg=1000)


async def test_the_demo_shows_a_consist_and_a_consignment_note(app, client):
    async with app.state.sessionmaker() as session:
        keys = await seed_demo(session)
        await session.commit()
    operator = {"Authorization": f"Bearer {keys['operator']}"}
    exporter = {"Authorization": f"Bearer {keys['exporter']}"}
    service = (await client.get("/v1/services/WUH-DUI-AKL", headers=operator)).json()
    assert service["rail_rules"]["max_gross_kg_40"] == 25000 and "KZALA" in service["rail_rules"]["single_20_destinations"]
    departure = (await client.get("/v1/departures?destination=DEDUI&limit=1", headers=exporter)).json()["items"][0]
    for cargo in ([CUBES], [CUBES, cargo_line(description="Cordless drills", hs_code="846721", dangerous_goods={
            "un_number": "3481", "class": "9", "packing_group": "II", "special_provisions": [188]})]):
        response = await client.post("/v1/bookings", json=booking_body(departure["id"], cargo=cargo), headers=exporter)
        assert response.status_code == 201, response.text
    plan = await client.post(f"/v1/departures/{departure['id']}/plan", headers=operator)
    assert plan.status_code == 201, plan.text
    consist = await client.post(f"/v1/departures/{departure['id']}/consist", headers=operator)
    assert consist.status_code == 201, consist.text
    assert consist.json()["wagons"][0]["wagon_type"] == "X70"
    container_id = plan.json()["containers"][0]["id"]
    note = (await client.get(f"/v1/containers/{container_id}/consignment-note", headers=operator)).json()
    assert note["departure_station"]["railway_station_code"].startswith("DEMO")
    assert [s["hub"] for s in note["border_stations"]] == ["CNAKL", "KZDOS", "BYBQT", "PLMAA"]
    assert note["consignor"]["name"] == "Han'ou Consolidation Hub" and note["dangerous_goods"] == []
    pdf = await client.get(f"/v1/containers/{container_id}/consignment-note.pdf", headers=operator)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
