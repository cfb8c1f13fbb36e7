"""Quotes carry CO2e per option and leg, sort by price, arrival or CO2e, and offer only the front."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories

RAIL_FIGURE = {"ttw_g_per_tkm": 27.8, "wtt_g_per_tkm": 6.91, "source": "test operator figure"}
AIR_FIGURE = {"ttw_g_per_tkm": 531.0, "wtt_g_per_tkm": 135.0, "source": "test operator figure"}
# Rail Wuhan – Alashankou – Małaszewicze – Duisburg, km per leg between calls.
RAIL_KM = [4000, 5460, 1170]
COORDINATES = {"CNWUH-WJS": (30.66, 114.14), "CNAKL": (45.17, 82.57), "PLMAA": (52.03, 23.53),
               "DEDUI": (51.43, 6.75), "CNWUH-WUH": (30.78, 114.21), "DEDUI-AIR": (51.43, 6.75)}


async def _multimodal(client, operator, network) -> None:
    """Beside the small network's rail line: an air freighter Wuhan Tianhe – Duisburg, fast and dear."""
    for code, kind in (("CNWUH-WUH", "AIRPORT"), ("DEDUI-AIR", "ROAD_DEPOT")):
        hub = {"code": code, "name": code, "kind": kind, "un_locode": code[:5],
               "timezone": "Asia/Shanghai" if code.startswith("CN") else "Europe/Berlin", "handling_hours": 2}
        assert (await client.post("/v1/hubs", json=hub, headers=operator)).status_code == 201
    for code, (lat, lon) in COORDINATES.items():
        response = await client.put(f"/v1/hubs/{code}/emissions", json={"latitude": lat, "longitude": lon},
                                    headers=operator)
        assert response.status_code == 200, response.text
    air = factories.service_body("WUH-DUI-AIR", mode="AIR", origin="CNWUH-WUH", destination="DEDUI-AIR", stops=[],
                                 weight_per_cbm_kg=167, rate_per_cbm="900.00", minimum_charge="300.00",
                                 intensity=AIR_FIGURE)
    assert (await client.post("/v1/services", json=air, headers=operator)).status_code == 201
    departure = factories.departure_body("WUH-DUI-AIR", days_out=8)
    departure["cutoff_at"] = factories.iso(factories.future(8) - timedelta(hours=6))
    departure["arrives_at"] = factories.iso(factories.future(8) + timedelta(hours=14))
    response = await client.post("/v1/departures", json=departure, headers=operator)
    assert response.status_code == 201, response.text
    response = await client.put("/v1/services/WUH-DUI/emissions",
                                json={"distances_km": RAIL_KM, "intensity": RAIL_FIGURE}, headers=operator)
    assert response.status_code == 200, response.text


def _quote_body(**overrides) -> dict:
    body = {"origin": "CNWUH", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
            "cargo": [factories.cargo_line(weight_kg=500)]}
    return body | overrides


async def test_air_emits_more_than_rail_and_each_leg_says_why(client, operator, exporter, network):
    await _multimodal(client, operator, network)
    response = await client.post("/v1/quotes", json=_quote_body(), headers=exporter)
    assert response.status_code == 201, response.text
    options = response.json()["options"]
    by_mode = {option["modes"][0]: option for option in options}
    assert set(by_mode) == {"RAIL", "AIR"}
    rail, air = by_mode["RAIL"]["co2e"], by_mode["AIR"]["co2e"]
    # Rail, hand-computed: 0.5 t × 10 630 km = 5 315 t·km; × 27.8 g = 147.757 kg TTW; × 6.91 g = 36.72665 kg WTT.
    assert rail["complete"] and rail["allocation"] == "MASS"
    assert rail["legs"][0]["tkm"] == 5315.0 and rail["legs"][0]["distance_basis"] == "OPERATOR"
    assert (rail["ttw_kg"], rail["wtt_kg"], rail["wtw_kg"]) == (147.757, 36.727, 184.484)
    assert rail["legs"][0]["factor"]["id"] == "service:WUH-DUI"
    assert by_mode["RAIL"]["legs"][0]["co2e"] == {"ttw_kg": 147.757, "wtt_kg": 36.727, "wtw_kg": 184.484}
    # Air: no distance set, so the great circle between the hubs + 95 km.
    leg = air["legs"][0]
    assert leg["distance_basis"] == "GREAT_CIRCLE" and 8_300 < leg["distance_km"] < 8_600
    assert leg["co2e"]["wtw_kg"] == pytest.approx(0.5 * leg["distance_km"] * 666 / 1000, abs=0.03)  # distance_km is shown to 0.1 km
    assert air["wtw_kg"] > 10 * rail["wtw_kg"]
    # The option as stored reads the same.
    again = await client.get(f"/v1/quote-options/{by_mode['AIR']['id']}", headers=exporter)
    assert again.json()["co2e"] == air


@pytest.mark.parametrize(("sort", "first"), [("co2e", "RAIL"), ("price", "RAIL"), ("arrival", "AIR")])
async def test_options_sort_by_price_arrival_or_co2e(client, operator, exporter, network, sort, first):
    await _multimodal(client, operator, network)
    response = await client.post("/v1/quotes", json=_quote_body(sort=sort), headers=exporter)
    assert response.status_code == 201, response.text
    assert [o["modes"][0] for o in response.json()["options"]][0] == first


async def test_an_option_worse_in_price_arrival_and_co2e_is_not_offered(client, operator, exporter, network):
    await _multimodal(client, operator, network)
    # A second rail line on the same days, dearer and dirtier: beaten on all three by WUH-DUI.
    worse = factories.service_body("WUH-DUI-OLD", rate_per_cbm="150.00", minimum_charge="200.00",
                                   distances_km=RAIL_KM, intensity=RAIL_FIGURE | {"ttw_g_per_tkm": 40.0})
    assert (await client.post("/v1/services", json=worse, headers=operator)).status_code == 201
    body = factories.departure_body("WUH-DUI-OLD", days_out=10)
    assert (await client.post("/v1/departures", json=body, headers=operator)).status_code == 201
    response = await client.post("/v1/quotes", json=_quote_body(sort="co2e"), headers=exporter)
    services = [leg["service"] for o in response.json()["options"] for leg in o["legs"]]
    assert "WUH-DUI-OLD" not in services and "WUH-DUI" in services
    # A third, dearer and dirtier but a day faster: a trade-off, so it is offered.
    faster = factories.service_body("WUH-DUI-EXP", rate_per_cbm="150.00", minimum_charge="200.00",
                                    distances_km=RAIL_KM, intensity=RAIL_FIGURE | {"ttw_g_per_tkm": 40.0})
    assert (await client.post("/v1/services", json=faster, headers=operator)).status_code == 201
    body = factories.departure_body("WUH-DUI-EXP", days_out=10)
    body["arrives_at"] = factories.iso(factories.future(10).replace(microsecond=0) + timedelta(days=15))
    assert (await client.post("/v1/departures", json=body, headers=operator)).status_code == 201
    response = await client.post("/v1/quotes", json=_quote_body(sort="co2e"), headers=exporter)
    services = [o["legs"][0]["service"] for o in response.json()["options"]]
    assert services == ["WUH-DUI", "WUH-DUI-EXP", "WUH-DUI-AIR"]  # by well-to-wheel kg, cleanest first


async def test_without_a_factor_the_leg_says_so_and_the_quote_still_answers(client, operator, exporter, network):
    response = await client.post("/v1/quotes", json=_quote_body(), headers=exporter)
    assert response.status_code == 201, response.text
    co2e = response.json()["options"][0]["co2e"]
    assert co2e["complete"] is False and co2e["legs"][0]["status"] == "NO_DISTANCE"
    assert co2e["wtw_kg"] == 0.0


async def test_without_the_operators_figure_the_modes_published_factor_applies(client, operator, exporter, network):
    response = await client.put("/v1/services/WUH-DUI/emissions", json={"distances_km": RAIL_KM}, headers=operator)
    assert response.status_code == 200, response.text
    response = await client.post("/v1/quotes", json=_quote_body(), headers=exporter)
    co2e = response.json()["options"][0]["co2e"]
    # DESNZ 2025 freight train, 27.79 g TTW + 6.91 g WTT per t·km: 5 315 t·km -> 147.704 + 36.727 kg.
    assert co2e["complete"] and co2e["legs"][0]["factor"]["id"] == "DESNZ-2025-RAIL-FREIGHT"
    assert (co2e["ttw_kg"], co2e["wtt_kg"], co2e["wtw_kg"]) == (147.704, 36.727, 184.431)


async def test_an_unknown_sort_is_a_422_naming_the_field(client, exporter, network):
    response = await client.post("/v1/quotes", json=_quote_body(sort="greenest"), headers=exporter)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "sort"
