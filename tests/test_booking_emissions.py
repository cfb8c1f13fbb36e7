"""A booking's footprint (declared, then measured weight), and the emissions report: owners and operators only."""

from __future__ import annotations

import csv
import io

from app.bookings import emissions
from tests import factories

RAIL = {"distances_km": [4000, 5460, 1170], "intensity": {"ttw_g_per_tkm": 27.8, "wtt_g_per_tkm": 6.91,
                                                          "source": "test operator figure"}}
HANDLING = {"latitude": 51.43, "longitude": 6.75, "handling_ttw_kg_per_t": 1.5, "handling_wtt_kg_per_t": 0.5}


async def _booked(client, operator, exporter, network, weight_kg: float = 500) -> str:
    assert (await client.put("/v1/services/WUH-DUI/emissions", json=RAIL, headers=operator)).status_code == 200
    assert (await client.put("/v1/hubs/DEDUI/emissions", json=HANDLING, headers=operator)).status_code == 200
    body = factories.booking_body(network["departure_id"], cargo=[factories.cargo_line(weight_kg=weight_kg)])
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 201, response.text
    return response.json()["reference"]


async def test_a_bookings_footprint_follows_its_declared_then_measured_weight(client, operator, exporter, network):
    reference = await _booked(client, operator, exporter, network)
    response = await client.get(f"/v1/bookings/{reference}/emissions", headers=exporter)
    assert response.status_code == 200, response.text
    body = response.json()
    # 0.5 t × 10 630 km = 5 315 t·km: 147.757 kg TTW, 36.727 kg WTT; Duisburg handles 0.5 t: 0.75 + 0.25 kg.
    assert body["weight_basis"] == "DECLARED" and body["weight_kg"] == 500
    assert body["legs"][0]["co2e"] == {"ttw_kg": 147.757, "wtt_kg": 36.727, "wtw_kg": 184.484}
    assert body["legs"][0]["departure_id"] == network["departure_id"]
    hubs = {hub["hub"]: hub for hub in body["hubs"]}
    assert hubs["DEDUI"]["co2e"] == {"ttw_kg": 0.75, "wtt_kg": 0.25, "wtw_kg": 1.0}
    assert hubs["CNWUH-WJS"]["status"] == "NO_FACTOR" and hubs["CNWUH-WJS"]["co2e"] is None
    assert (body["ttw_kg"], body["wtt_kg"], body["wtw_kg"]) == (148.507, 36.977, 185.484)
    assert body["by_mode"] == {"RAIL": {"ttw_kg": 147.757, "wtt_kg": 36.727, "wtw_kg": 184.484}}
    # The CFS weighs 600 kg: the footprint follows (0.6 t × 10 630 km = 6 378 t·km).
    receipt = await client.post(f"/v1/bookings/{reference}/receipt",
                                json={"pieces": 10, "weight_kg": 600, "volume_cbm": 1.2}, headers=operator)
    assert receipt.status_code == 200, receipt.text
    body = (await client.get(f"/v1/bookings/{reference}/emissions", headers=exporter)).json()
    assert body["weight_basis"] == "MEASURED" and body["weight_kg"] == 600
    assert body["legs"][0]["tkm"] == 6378.0
    assert body["legs"][0]["co2e"] == {"ttw_kg": 177.308, "wtt_kg": 44.072, "wtw_kg": 221.38}


async def test_another_organisations_footprint_is_404(client, operator, exporter, other_exporter, network):
    reference = await _booked(client, operator, exporter, network)
    assert (await client.get(f"/v1/bookings/{reference}/emissions", headers=other_exporter)).status_code == 404
    assert (await client.get(f"/v1/bookings/{reference}/emissions", headers=operator)).status_code == 200
    assert (await client.get("/v1/bookings/CVN00000000/emissions", headers=exporter)).status_code == 404


def _window() -> dict:
    return {"from": factories.future(-1).date().isoformat(), "to": factories.future(60).date().isoformat()}


async def test_the_report_is_shaped_like_ileap_and_totals_per_mode(client, operator, exporter, network):
    reference = await _booked(client, operator, exporter, network)
    response = await client.get("/v1/emissions/report", params=_window(), headers=exporter)
    assert response.status_code == 200, response.text
    body = response.json()
    (shipment,) = body["shipments"]
    assert shipment["shipmentId"] == reference and shipment["mass"] == "500" and body["allocation"] == "MASS"
    origin, leg, destination = shipment["tces"]
    assert origin["hub"] == "CNWUH-WJS" and origin["co2eWTW"] is None and origin["status"] == "NO_FACTOR"
    assert leg["tocId"] == "service:WUH-DUI" and leg["prevTceIds"] == [origin["tceId"]]
    assert leg["distance"] == {"value": "10630", "dataSource": "Actual"} and leg["transportActivity"] == "5315"
    assert (leg["co2eWTW"], leg["co2eTTW"]) == ("184.484", "147.757")
    assert destination["hocId"] == "hub:DEDUI" and destination["co2eWTW"] == "1"
    assert body["totals_by_mode"] == {"RAIL": {"ttw_kg": 147.757, "wtt_kg": 36.727, "wtw_kg": 184.484}}
    assert body["total"] == {"ttw_kg": 148.507, "wtt_kg": 36.977, "wtw_kg": 185.484}
    as_csv = await client.get("/v1/emissions/report", params=_window() | {"format": "csv"}, headers=exporter)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["element"] for r in rows] == ["HUB", "TRANSPORT", "HUB", "MODE", "ALL"]
    assert rows[1]["co2e_wtw_kg"] == "184.484" and rows[-1]["co2e_wtw_kg"] == "185.484"


async def test_the_report_shows_nobody_another_organisations_bookings(
    client, operator, exporter, other_exporter, network
):
    reference = await _booked(client, operator, exporter, network)
    other = (await client.get("/v1/emissions/report", params=_window(), headers=other_exporter)).json()
    assert other["shipments"] == [] and other["total"]["wtw_kg"] == 0
    all_of_them = (await client.get("/v1/emissions/report", params=_window(), headers=operator)).json()
    assert [s["shipmentId"] for s in all_of_them["shipments"]] == [reference]
    org_id = all_of_them["shipments"][0]["organization_id"]
    mine = await client.get("/v1/emissions/report", params=_window() | {"organization_id": org_id}, headers=operator)
    assert [s["shipmentId"] for s in mine.json()["shipments"]] == [reference]
    elsewhere = await client.get("/v1/emissions/report", params=_window() | {"organization_id": org_id + 100},
                                 headers=operator)
    assert elsewhere.json()["shipments"] == []
    # An exporter naming another organisation still sees only its own: nothing.
    peek = await client.get("/v1/emissions/report", params=_window() | {"organization_id": org_id},
                            headers=other_exporter)
    assert peek.json()["shipments"] == []


async def test_bad_report_parameters_are_422_naming_the_field(client, exporter):
    cases = [
        ({"from": "yesterday", "to": "2027-01-01"}, "from"),
        ({"from": "2027-01-01", "to": "2027-13-01"}, "to"),
        ({"from": "2027-02-01", "to": "2027-01-01"}, "to"),
        ({"from": "2026-01-01", "to": "2027-06-01"}, "to"),
        ({"from": "2027-01-01", "to": "2027-02-01", "format": "xml"}, "format"),
        ({"to": "2027-02-01"}, "from"),
    ]
    for params, field in cases:
        response = await client.get("/v1/emissions/report", params=params, headers=exporter)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["errors"][0]["field"] == field, (params, response.json())


async def test_the_factor_table_is_published(client, exporter):
    body = (await client.get("/v1/emissions/factors", headers=exporter)).json()
    rail = next(f for f in body["factors"] if f["id"] == "DESNZ-2025-RAIL-FREIGHT")
    assert (rail["ttw_g_per_tkm"], rail["wtt_g_per_tkm"]) == (27.79, 6.91) and rail["usable"] is True
    assert rail["licence"] == "OGL-3.0" and body["version"].startswith("2026-12-07")
    ship = next(f for f in body["factors"] if f["mode"] == "WATER")
    assert ship["usable"] is False  # no inland-waterway row: a barge needs its operator's figure


async def test_a_cancelled_booking_leaves_the_report(client, operator, exporter, network):
    reference = await _booked(client, operator, exporter, network)
    assert (await client.post(f"/v1/bookings/{reference}/cancel", headers=exporter)).status_code == 200
    body = (await client.get("/v1/emissions/report", params=_window(), headers=exporter)).json()
    assert body["shipments"] == [] and body["totals_by_mode"] == {}


async def test_a_report_over_too_many_bookings_asks_for_a_narrower_window(client, operator, exporter, network,
                                                                          monkeypatch):
    await _booked(client, operator, exporter, network)
    monkeypatch.setattr(emissions, "MAX_REPORT_BOOKINGS", 0)
    response = await client.get("/v1/emissions/report", params=_window(), headers=exporter)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "to"
