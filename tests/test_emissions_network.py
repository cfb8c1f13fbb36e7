"""Hubs' coordinates and handling figures, services' distances and own intensities: set by the operator only."""

from __future__ import annotations

from sqlalchemy import select

from app.demo import seed_demo
from app.emissions import Intensity
from app.network.emissions import EmissionsNetwork, HubFigures, Ride, ServiceFigures
from app.network.models import Hub, Service
from tests import factories

WUHAN = {"latitude": 30.6537, "longitude": 114.2431}


async def test_the_operator_sets_a_services_distances_and_intensity(client, operator, exporter, network):
    body = {"distances_km": [3400, 5100, 1100], "intensity": {"ttw_g_per_tkm": 18.5, "wtt_g_per_tkm": 4.2,
                                                                "source": "operator's 2025 energy report"}}
    response = await client.put("/v1/services/WUH-DUI/emissions", json=body, headers=operator)
    assert response.status_code == 200, response.text
    read = (await client.get("/v1/services/WUH-DUI", headers=exporter)).json()
    assert read["distances_km"] == [3400, 5100, 1100]
    assert read["intensity"] == {"ttw_g_per_tkm": 18.5, "wtt_g_per_tkm": 4.2, "source": "operator's 2025 energy report"}
    cleared = await client.put("/v1/services/WUH-DUI/emissions", json={}, headers=operator)
    assert cleared.json()["distances_km"] is None and cleared.json()["intensity"] is None


async def test_service_emissions_refuse_bad_input_and_exporters(client, operator, exporter, network):
    wrong_count = await client.put("/v1/services/WUH-DUI/emissions", json={"distances_km": [1, 2]}, headers=operator)
    assert wrong_count.status_code == 422 and wrong_count.json()["errors"][0]["field"] == "distances_km"
    negative = await client.put("/v1/services/WUH-DUI/emissions", json={"distances_km": [1, -2, 3]}, headers=operator)
    assert negative.status_code == 422 and negative.json()["errors"][0]["field"].startswith("distances_km.1")
    huge = {"intensity": {"ttw_g_per_tkm": 1e9, "wtt_g_per_tkm": 1, "source": "x"}}
    response = await client.put("/v1/services/WUH-DUI/emissions", json=huge, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "intensity.ttw_g_per_tkm"
    assert (await client.put("/v1/services/WUH-DUI/emissions", json={}, headers=exporter)).status_code == 403
    assert (await client.put("/v1/services/NOPE-1/emissions", json={}, headers=operator)).status_code == 404
    created = factories.service_body("WUH-DUI-2", distances_km=[10, 20])
    response = await client.post("/v1/services", json=created, headers=operator)
    assert response.status_code == 422


async def test_a_service_can_be_created_with_its_distances(client, operator, network):
    body = factories.service_body("WUH-DUI-3", distances_km=[3400, None, 1100])
    response = await client.post("/v1/services", json=body, headers=operator)
    assert response.status_code == 201, response.text
    assert response.json()["distances_km"] == [3400, None, 1100]


async def test_hubs_carry_coordinates_and_handling(client, operator, exporter, network):
    response = await client.put("/v1/hubs/CNWUH-WJS/emissions",
                                json=WUHAN | {"handling_ttw_kg_per_t": 0.5, "handling_wtt_kg_per_t": 0.1},
                                headers=operator)
    assert response.status_code == 200, response.text
    hub = (await client.get("/v1/hubs/CNWUH-WJS", headers=exporter)).json()
    assert (hub["latitude"], hub["longitude"], hub["handling_ttw_kg_per_t"]) == (30.6537, 114.2431, 0.5)
    half = await client.put("/v1/hubs/CNWUH-WJS/emissions", json={"latitude": 30.6}, headers=operator)
    assert half.status_code == 422
    half = await client.put("/v1/hubs/CNWUH-WJS/emissions", json={"handling_ttw_kg_per_t": 0.5}, headers=operator)
    assert half.status_code == 422
    off_earth = await client.put("/v1/hubs/CNWUH-WJS/emissions", json={"latitude": 95, "longitude": 0},
                                 headers=operator)
    assert off_earth.status_code == 422 and off_earth.json()["errors"][0]["field"] == "latitude"
    assert (await client.put("/v1/hubs/CNWUH-WJS/emissions", json=WUHAN, headers=exporter)).status_code == 403
    new_hub = dict(factories.HUBS[0], code="CNWUH-NEW", latitude=30.6, longitude=114.3)
    response = await client.post("/v1/hubs", json=new_hub, headers=operator)
    assert response.status_code == 201 and response.json()["latitude"] == 30.6


async def test_the_demo_seeds_real_coordinates_and_line_distances(app):
    async with app.state.sessionmaker() as session:
        await seed_demo(session)
        await session.commit()
        hubs = {h.code: h for h in await session.scalars(select(Hub))}
        services = {s.code: s for s in await session.scalars(select(Service))}
    assert all(h.latitude is not None and h.longitude is not None for h in hubs.values())
    assert (round(hubs["DEDUI"].latitude), round(hubs["DEDUI"].longitude)) == (51, 7)  # Duisburg
    assert (round(hubs["CNWUH-WJS"].latitude), round(hubs["CNWUH-WJS"].longitude)) == (31, 114)  # Wuhan
    # Wuhan – Duisburg via Alashankou, Dostyk, Brest and Małaszewicze: some 10 600 km of track.
    assert sum(services["WUH-DUI-AKL"].leg_distances_km) == 4000 + 12 + 5450 + 10 + 1170
    assert services["WUH-FRA-AIR"].leg_distances_km is None  # air: great circle + 95 km


def test_a_ride_between_hubs_off_the_services_calls_uses_their_great_circle():
    network = EmissionsNetwork(
        {"CNWUH-HOC": HubFigures((30.66, 114.14), None), "CNWUH-WJS": HubFigures((30.66, 114.14), None),
         "DEDUI": HubFigures((51.43, 6.75), None)},
        {"WUH-DUI": ServiceFigures("RAIL", ("CNWUH-WJS", "DEDUI"), (10_630.0,), Intensity("x", 27.8, 6.91))},
    )
    on_calls = network.leg(Ride("WUH-DUI", "CNWUH-WJS", "DEDUI", {}), 1.0)
    assert (on_calls.distance_km, on_calls.distance_basis) == (10_630.0, "OPERATOR")
    off_calls = network.leg(Ride("WUH-DUI", "CNWUH-HOC", "DEDUI", {}), 1.0)  # a CFS standing for its terminal
    assert off_calls.distance_basis == "GREAT_CIRCLE" and 9_000 < off_calls.distance_km < 11_000
    fp = network.footprint([Ride("WUH-DUI", "CNWUH-HOC", "DEDUI", {})], 500)
    assert fp.complete and [h.call.hub for h in fp.hubs] == ["CNWUH-HOC", "DEDUI"]
