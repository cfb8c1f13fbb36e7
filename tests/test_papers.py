"""The papers: booking confirmation PDF, CIM/SMGS consignment note (JSON and PDF), the train list PDF.
Rendered with poppler-utils (pdftotext for the key text, pdftoppm for the pages)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests import factories
from tests.factories import booking_body, cargo_line
from tests.test_rail_rules import BATTERY_DOCS, CUBES, ruled_network

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftoppm", "pdftotext")),
    reason="poppler-utils not installed (apt-get install -y poppler-utils; .ci/run does)",
)

STATION_CODES = {"CNWUH-WJS": "558005", "CNAKL": "883602", "PLMAA": "8010181", "DEDUI": "8001615"}


def text_of(data: bytes, tmp_path: Path, name: str) -> str:
    assert data.startswith(b"%PDF-")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / name)], check=True, capture_output=True)
    pngs = sorted(tmp_path.glob(f"{name}*.png"))
    assert pngs and all(png.stat().st_size > 2000 for png in pngs)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


async def planned_container(client, operator, exporter) -> tuple[dict, dict, str]:
    """A ruled departure planned with a battery booking and a plain one; the consist built; numbered and sealed."""
    network = await ruled_network(client, operator)
    departure_id = network["ruled_departure_id"]
    battery = cargo_line(description="Power tools with batteries", hs_code="846721", weight_kg=400,
                         dangerous_goods={"un_number": "3481", "class": "9", "packing_group": "II",
                                          "documents": BATTERY_DOCS})
    body = booking_body(departure_id, cargo=[battery, CUBES],
                        references=[{"kind": "CUSTOMS_DECLARATION", "value": "420100-2026-E-0001"}])
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 201, response.text
    reference = response.json()["reference"]
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    container = next(c for c in plan["containers"] if reference in c["bookings"])
    patch = await client.patch(f"/v1/containers/{container['id']}", headers=operator,
                               json={"container_number": "CSQU3054383", "seal_number": "CN-SEAL-0042"})
    assert patch.status_code == 200, patch.text
    return network, container, reference


async def test_booking_confirmation_pdf_for_its_owner_and_the_operator(client, operator, exporter, other_exporter,
                                                                       tmp_path):
    network, _, reference = await planned_container(client, operator, exporter)
    response = await client.get(f"/v1/bookings/{reference}/confirmation.pdf", headers=exporter)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = text_of(response.content, tmp_path, "confirmation")
    for key in (reference, "Booking confirmation", "Rhein Deko GmbH", "Power tools with batteries", "846721",
                "UN3481", "CNWUH-WJS", "DEDUI", "Cut-off", "Total", "EUR", "Conditions", "chargeable",
                "Emissions (ISO 14083", "kg CO2e WTW", "NO_DISTANCE"):
        assert key in text, key
    assert (await client.get(f"/v1/bookings/{reference}/confirmation.pdf", headers=operator)).status_code == 200
    assert (await client.get(f"/v1/bookings/{reference}/confirmation.pdf", headers=other_exporter)).status_code == 404
    assert network


async def test_consignment_note_json_says_what_comes_from_where_and_what_to_fill(client, operator, exporter):
    _, container, reference = await planned_container(client, operator, exporter)
    note = (await client.get(f"/v1/containers/{container['id']}/consignment-note", headers=operator)).json()
    assert note["container"] == {"number": "CSQU3054383", "type": container["type"],
                                 "tare_kg": 3800 if container["type"].startswith("4") else 2200, "seals": ["CN-SEAL-0042"]}
    assert note["departure_station"]["hub"] == "CNWUH-WJS" and note["destination_station"]["hub"] == "DEDUI"
    assert [s["hub"] for s in note["border_stations"]] == ["CNAKL", "PLMAA"]
    assert note["consignee"]["name"] == "Rhein Deko GmbH"
    goods = note["cargo"][0]
    assert goods["booking"] == reference and goods["lines"][0]["hs_code"] == "846721" and goods["gross_weight_kg"] == 1400
    assert note["dangerous_goods"] == [{"booking": reference, "un_number": "3481", "class": "9", "packing_group": "II",
                                        "description": "Power tools with batteries", "documents": BATTERY_DOCS}]
    assert note["customs"]["export_declarations"] == [{"booking": reference, "reference": "420100-2026-E-0001"}]
    assert "wagon" in note["to_fill"] and "departure_station.railway_station_code" in note["to_fill"]
    assert set(note["languages"]) >= {"ru", "zh"}
    assert (await client.get(f"/v1/containers/{container['id']}/consignment-note", headers=exporter)).status_code == 403
    # once the train is built the note names the wagon
    assert (await client.post(f"/v1/departures/{container_departure(note)}/consist", headers=operator)).status_code == 201
    note = (await client.get(f"/v1/containers/{container['id']}/consignment-note", headers=operator)).json()
    assert note["wagon"]["wagon_type"] == "X70" and "wagon" not in note["to_fill"]


def container_departure(note: dict) -> int:
    return note["departure_id"]


async def test_station_codes_of_the_hubs_go_on_the_note(client, operator, exporter):
    for hub in factories.HUBS:
        body = {**hub, "railway_station_code": STATION_CODES[hub["code"]]}
        response = await client.post("/v1/hubs", json=body, headers=operator)
        assert response.status_code == 201 and response.json()["railway_station_code"] == STATION_CODES[hub["code"]]
    bad = {**factories.HUBS[0], "code": "CNWUH-HX", "railway_station_code": "55 80"}
    assert field_of(await client.post("/v1/hubs", json=bad, headers=operator)) == "railway_station_code"
    for container_type in factories.CONTAINER_TYPES:
        assert (await client.post("/v1/container-types", json=container_type, headers=operator)).status_code == 201
    service = factories.service_body("WUH-DUI-CR", rail_rules={})
    assert (await client.post("/v1/services", json=service, headers=operator)).status_code == 201
    departure = (await client.post("/v1/departures", json=factories.departure_body("WUH-DUI-CR"), headers=operator)).json()
    response = await client.post("/v1/bookings", json=booking_body(departure["id"], cargo=[CUBES]), headers=exporter)
    assert response.status_code == 201, response.text
    plan = (await client.post(f"/v1/departures/{departure['id']}/plan", headers=operator)).json()
    note = (await client.get(f"/v1/containers/{plan['containers'][0]['id']}/consignment-note", headers=operator)).json()
    assert note["departure_station"]["railway_station_code"] == "558005"
    assert note["destination_station"]["railway_station_code"] == "8001615"
    assert [s["railway_station_code"] for s in note["border_stations"]] == ["883602", "8010181"]
    assert not [f for f in note["to_fill"] if f.endswith("railway_station_code")]


def field_of(response) -> str:
    assert response.status_code == 422, response.text
    return response.json()["errors"][0]["field"]


async def test_consignment_note_and_train_list_pdfs(client, operator, exporter, tmp_path):
    _, container, reference = await planned_container(client, operator, exporter)
    note = (await client.get(f"/v1/containers/{container['id']}/consignment-note", headers=operator)).json()
    departure_id = note["departure_id"]
    assert (await client.get(f"/v1/departures/{departure_id}/consist.pdf", headers=operator)).status_code == 404
    assert (await client.post(f"/v1/departures/{departure_id}/consist", headers=operator)).status_code == 201
    response = await client.get(f"/v1/containers/{container['id']}/consignment-note.pdf", headers=operator)
    assert response.status_code == 200, response.text
    text = text_of(response.content, tmp_path, "note")
    for key in ("CIM/SMGS", "Consignor", "Consignee", "Rhein Deko GmbH", "Departure station", "Wuhan Wujiashan",
                "Alashankou", "CSQU3054383", "CN-SEAL-0042", reference, "846721", "UN38_3_TEST_SUMMARY",
                "420100-2026-E-0001", "to be filled by the operator", "X70"):
        assert key in text, key
    response = await client.get(f"/v1/departures/{departure_id}/consist.pdf", headers=operator)
    assert response.status_code == 200
    text = text_of(response.content, tmp_path, "train")
    for key in ("Train list", "CSQU3054383", "X70", "DEDUI", "wagons", "WUH-DUI-CR"):
        assert key in text, key
