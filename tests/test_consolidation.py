"""Departure plans: planning stored bookings, versions, locks, container numbers, loading lists."""

import csv
import io

import pytest

from app.consolidation.segregation import _HEAD, dg_key, incompatible, incompatible_pairs, segregation_code
from app.fields import iso6346_check_digit
from tests.conftest import postgres_only
from tests.factories import booking_body, cargo_line, line_of_cbm


async def book(client, headers, departure_id, **overrides):
    response = await client.post("/v1/bookings", json=booking_body(departure_id, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def dg_line(cbm: float, dg_class: str, un_number: str = "1263") -> dict:
    return line_of_cbm(cbm) | {"dangerous_goods": {"un_number": un_number, "class": dg_class, "packing_group": "II"}}


def containers_of(plan: dict) -> dict[str, dict]:
    """Booking reference -> the container holding it."""
    return {ref: c for c in plan["containers"] for ref in c["bookings"]}


# --- pure parts ---------------------------------------------------------------------------

def test_iso6346_check_digit_of_real_container_numbers():
    assert iso6346_check_digit("CSQU305438") == 3  # the standard's worked example, CSQU3054383
    assert iso6346_check_digit("MSKU907032") == 3  # MSKU9070323
    assert iso6346_check_digit("CSQU305439") != 3


def test_segregation_table_is_symmetric_and_matches_imdg():
    for a in _HEAD:
        for b in _HEAD:
            assert segregation_code(a, b) == segregation_code(b, a), (a, b)
    assert incompatible("3", "5.1") and incompatible("5.1", "3")  # flammable liquids vs oxidisers: separated from
    assert incompatible("4.3", "8") and incompatible("6.2", "3")
    assert not incompatible("3", "8") and not incompatible("3", "3") and not incompatible("2.2", "6.1")
    assert not any(incompatible("9", other) for other in _HEAD)
    assert incompatible("1.1", "1.4") and not incompatible("1.4", "1.4")


def test_a_multi_class_booking_conflicts_with_the_union_of_its_classes():
    key = dg_key(["8", "3"])
    assert key == "3+8"
    pairs = {tuple(p) for p in incompatible_pairs({key, "5.1", "9", "3"})}
    assert ("3+8", "5.1") in pairs  # 3 and 8 are each separated from 5.1
    assert ("3", "3+8") not in pairs and ("3+8", "3+8") not in pairs and ("3+8", "9") not in pairs
    assert ("3", "5.1") in pairs


# --- planning a departure -------------------------------------------------------------------

async def test_plan_places_bookings_by_cost_and_segregates_dg(client, operator, exporter, network):
    departure_id = network["departure_id"]
    flammable = await book(client, exporter, departure_id, cargo=[dg_line(20, "3")])
    oxidiser = await book(client, exporter, departure_id, cargo=[dg_line(5, "5.1", "1479")])
    plain = await book(client, exporter, departure_id, cargo=[line_of_cbm(10)])
    assert (await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)).status_code == 404

    response = await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["version"] == 1 and plan["unassigned"] == [] and plan["capacity_teu"] == 2
    where = containers_of(plan)
    assert where[flammable["reference"]]["id"] != where[oxidiser["reference"]]["id"]
    # {3} in one 20GP and {5.1 + plain} in another beats a 40HC for 3 + plain and a 20GP for 5.1.
    assert sorted(c["type"] for c in plan["containers"]) == ["20GP", "20GP"]
    assert float(plan["cost"]) == 7000 and float(plan["lower_bound"]) <= 7000 and plan["teu"] == 2
    shared = where[plain["reference"]]
    assert shared["fill"]["occupied_cbm"] == pytest.approx(15.0)
    assert shared["fill"]["volume_pct"] == pytest.approx(round(100 * 15 / 28, 1))
    assert shared["fill"]["weight_kg"] == pytest.approx(20) and shared["fill"]["payload_kg"] == 28000

    current = await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)
    assert current.json() == plan
    again = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert again["version"] == 2 and (await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)).json()["version"] == 2


async def test_measured_figures_override_declared_ones(client, operator, exporter, network):
    departure_id = network["departure_id"]
    booking = await book(client, exporter, departure_id, cargo=[line_of_cbm(10)])
    receipt = await client.post(f"/v1/bookings/{booking['reference']}/receipt",
                                json={"pieces": 1, "weight_kg": 1200, "volume_cbm": 30}, headers=operator)
    assert receipt.status_code == 200
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    (container,) = plan["containers"]
    assert container["type"] == "40HC"  # 30 CBM measured no longer fits a 20GP's 28
    assert container["fill"]["occupied_cbm"] == pytest.approx(30) and container["fill"]["weight_kg"] == pytest.approx(1200)


async def test_reefer_cargo_goes_in_a_reefer_and_waitlisted_cargo_is_not_planned(client, operator, exporter, network):
    departure_id = network["departure_id"]
    chilled = await book(client, exporter, departure_id,
                         cargo=[line_of_cbm(5) | {"temperature_c": {"min_c": 2, "max_c": 8}}])
    await book(client, exporter, departure_id, cargo=[line_of_cbm(52)])
    waiting = await book(client, exporter, departure_id, cargo=[line_of_cbm(40)])
    assert waiting["status"] == "WAITLISTED"
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert containers_of(plan)[chilled["reference"]]["type"] == "40RH"
    assert waiting["reference"] not in containers_of(plan)


async def test_plan_over_capacity_reports_rolled_over_bookings(client, operator, exporter, network):
    departure_id = network["departure_id"]  # 2 TEU
    # Two DG-incompatible bookings each need a container: two 20GP fill the 2 TEU.
    first = await book(client, exporter, departure_id, cargo=[dg_line(10, "3")])
    second = await book(client, exporter, departure_id, cargo=[dg_line(10, "5.1", "1479")])
    # The CFS measures the first at 50 CBM: it now needs a 40' box, and 2 TEU hold only that one.
    receipt = await client.post(
        f"/v1/bookings/{first['reference']}/receipt", json={"pieces": 1, "weight_kg": 400, "volume_cbm": 50},
        headers=operator,
    )
    assert receipt.status_code == 200
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert len(plan["containers"]) == 1 and plan["teu"] == 2
    (unassigned,) = plan["unassigned"]
    assert unassigned["booking"] == second["reference"] and "rolled over" in unassigned["reason"]
    assert containers_of(plan)[first["reference"]]


async def test_only_the_operator_plans_and_unknown_ids_are_404(client, operator, exporter, network):
    departure_id = network["departure_id"]
    await book(client, exporter, departure_id)
    assert (await client.post(f"/v1/departures/{departure_id}/plan", headers=exporter)).status_code == 403
    assert (await client.get(f"/v1/departures/{departure_id}/plan", headers=exporter)).status_code == 403
    assert (await client.post("/v1/departures/999999/plan", headers=operator)).status_code == 404
    assert (await client.get("/v1/departures/999999/plan", headers=operator)).status_code == 404
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    container_id = plan["containers"][0]["id"]
    for method, path, kwargs in (
        ("POST", f"/v1/departures/{departure_id}/plan/lock", {"json": {"all": True}}),
        ("PATCH", f"/v1/containers/{container_id}", {"json": {"seal_number": "CN1234567"}}),
        ("GET", f"/v1/containers/{container_id}/loading-list", {}),
    ):
        assert (await client.request(method, path, headers=exporter, **kwargs)).status_code == 403
    assert (await client.get("/v1/containers/999999/loading-list", headers=operator)).status_code == 404
    assert (await client.patch("/v1/containers/999999", json={"seal_number": "X1"}, headers=operator)).status_code == 404
    assert (await client.post("/v1/departures/999999/plan/lock", json={"all": True}, headers=operator)).status_code == 404


# --- locks -------------------------------------------------------------------------------------

async def test_locked_containers_survive_replanning_exactly(client, operator, exporter, network):
    departure_id = network["departure_id"]
    flammable = await book(client, exporter, departure_id, cargo=[dg_line(20, "3")])
    oxidiser = await book(client, exporter, departure_id, cargo=[dg_line(5, "5.1", "1479")])
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    target = containers_of(plan)[flammable["reference"]]
    bad_lock = await client.post(f"/v1/departures/{departure_id}/plan/lock", json={"containers": [999999]}, headers=operator)
    assert bad_lock.status_code == 422 and bad_lock.json()["errors"][0]["field"] == "containers.0"
    assert (await client.post(f"/v1/departures/{departure_id}/plan/lock", json={}, headers=operator)).status_code == 422
    locked = await client.post(f"/v1/departures/{departure_id}/plan/lock", json={"containers": [target["id"]]}, headers=operator)
    assert locked.status_code == 200
    assert [c["locked"] for c in locked.json()["containers"] if c["id"] == target["id"]] == [True]
    numbered = await client.patch(f"/v1/containers/{target['id']}",
                                  json={"container_number": "CSQU3054383", "seal_number": "CN 448812"}, headers=operator)
    assert numbered.status_code == 200 and numbered.json()["container_number"] == "CSQU3054383"

    # A new plain booking would be cheapest beside the flammable cargo, but that container is locked.
    plain = await book(client, exporter, departure_id, cargo=[line_of_cbm(4)])
    replanned = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    kept = containers_of(replanned)[flammable["reference"]]
    assert kept["locked"] and kept["bookings"] == [flammable["reference"]] and kept["type"] == target["type"]
    assert kept["container_number"] == "CSQU3054383" and kept["seal_number"] == "CN 448812"
    assert containers_of(replanned)[plain["reference"]]["id"] == containers_of(replanned)[oxidiser["reference"]]["id"]
    # The old version's container is superseded.
    stale = await client.patch(f"/v1/containers/{target['id']}", json={"seal_number": "X1"}, headers=operator)
    assert stale.status_code == 409


async def test_cancelled_booking_blocks_a_lock_and_leaves_a_locked_container_with_a_warning(
    client, operator, exporter, network
):
    departure_id = network["departure_id"]
    a = await book(client, exporter, departure_id, cargo=[line_of_cbm(5)])
    b = await book(client, exporter, departure_id, cargo=[line_of_cbm(6)])
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert len(plan["containers"]) == 1
    await client.post(f"/v1/bookings/{b['reference']}/cancel", headers=exporter)
    refused = await client.post(f"/v1/departures/{departure_id}/plan/lock", json={"all": True}, headers=operator)
    assert refused.status_code == 409 and b["reference"] in refused.json()["detail"]

    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert (await client.post(f"/v1/departures/{departure_id}/plan/lock", json={"all": True}, headers=operator)).status_code == 200
    c = await book(client, exporter, departure_id, cargo=[line_of_cbm(3)])
    await client.post(f"/v1/bookings/{a['reference']}/cancel", headers=exporter)
    replanned = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert any(a["reference"] in w for w in replanned["warnings"])
    assert containers_of(replanned)[c["reference"]]["locked"] is False
    assert a["reference"] not in containers_of(replanned)


# --- container numbers and loading lists -----------------------------------------------------------

async def test_container_number_check_digit_and_seal_are_validated(client, operator, exporter, network):
    departure_id = network["departure_id"]
    await book(client, exporter, departure_id)
    await book(client, exporter, departure_id, cargo=[dg_line(3, "5.1", "1479")], allow_rollover=False)
    await book(client, exporter, departure_id, cargo=[dg_line(3, "3")])
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    first, second = plan["containers"][0]["id"], plan["containers"][1]["id"]
    for bad in ("CSQU3054384", "CSQU305438", "CSQA3054383", "csqu3054384", "CSQU30543830"):
        response = await client.patch(f"/v1/containers/{first}", json={"container_number": bad}, headers=operator)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "container_number"
    for bad_seal in ("", "x" * 41, "=HYPERLINK(1)", "A\x00B"):
        response = await client.patch(f"/v1/containers/{first}", json={"seal_number": bad_seal}, headers=operator)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "seal_number"
    assert (await client.patch(f"/v1/containers/{first}", json={"unknown": 1}, headers=operator)).status_code == 422
    ok = await client.patch(f"/v1/containers/{first}", json={"container_number": "MSKU9070323"}, headers=operator)
    assert ok.status_code == 200 and ok.json()["seal_number"] is None
    clash = await client.patch(f"/v1/containers/{second}", json={"container_number": "MSKU9070323"}, headers=operator)
    assert clash.status_code == 409


async def test_loading_list_in_json_and_csv(client, operator, exporter, other_exporter, network):
    departure_id = network["departure_id"]
    mine = await book(client, exporter, departure_id, cargo=[dg_line(4, "3"), cargo_line(packages=2)])
    theirs = await book(client, other_exporter, departure_id, cargo=[line_of_cbm(6)],
                        consignee={"name": "=cmd|' /C calc'!A0", "address": "Rua 1", "city": "Łódź", "country": "PL"})
    await client.post(f"/v1/bookings/{theirs['reference']}/receipt",
                      json={"pieces": 1, "weight_kg": 12, "volume_cbm": 6.5}, headers=operator)
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    (container,) = plan["containers"]

    document = (await client.get(f"/v1/containers/{container['id']}/loading-list", headers=operator)).json()
    lines = {line["booking"]: line for line in document["lines"]}
    assert lines[mine["reference"]]["exporter"] == "Wuhan Festive Crafts"
    assert lines[mine["reference"]]["dangerous_goods"] == ["UN1263 class 3 PG II"]
    assert lines[mine["reference"]]["pieces"] == 3 and lines[mine["reference"]]["measured"] is False
    assert lines[theirs["reference"]]["exporter"] == "Hubei Fitness Gear"
    assert lines[theirs["reference"]]["volume_cbm"] == pytest.approx(6.5) and lines[theirs["reference"]]["measured"]
    assert document["total_pieces"] == 4 and document["type"] == container["type"]

    for kwargs in ({"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}):
        response = await client.get(f"/v1/containers/{container['id']}/loading-list",
                                    params=kwargs.get("params"), headers=operator | kwargs.get("headers", {}))
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert {row["booking"] for row in rows} == {mine["reference"], theirs["reference"]}
        row = next(r for r in rows if r["booking"] == theirs["reference"])
        assert row["consignee_name"].startswith("'=") and row["consignee_city"] == "Łódź"
    bad = await client.get(f"/v1/containers/{container['id']}/loading-list", params={"format": "xml"}, headers=operator)
    assert bad.status_code == 422


async def test_loading_list_names_the_container_seal_and_each_cargo_line(client, operator, exporter, network):
    departure_id = network["departure_id"]
    pallets = cargo_line(description="Treadmill frames", hs_code="950691", packages=2, package_type="PALLET",
                         length_cm=120, width_cm=80, height_cm=100, weight_kg=300, stackable=False)
    booking = await book(client, exporter, departure_id, cargo=[cargo_line(packages=4), pallets])
    (container,) = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()["containers"]
    numbered = await client.patch(f"/v1/containers/{container['id']}",
                                  json={"container_number": "CSQU3054383", "seal_number": "CN 889120"}, headers=operator)
    assert numbered.status_code == 200, numbered.text
    url = f"/v1/containers/{container['id']}/loading-list"

    document = (await client.get(url, headers=operator)).json()
    assert (document["container_number"], document["seal_number"]) == ("CSQU3054383", "CN 889120")
    (line,) = document["lines"]
    assert line["booking"] == booking["reference"] and line["stackable"] is False
    assert line["cargo"] == [
        {"description": "Festive decorations", "hs_code": "950510", "packages": 4, "package_type": "CARTON",
         "stackable": True},
        {"description": "Treadmill frames", "hs_code": "950691", "packages": 2, "package_type": "PALLET",
         "stackable": False},
    ]

    response = await client.get(url, params={"format": "csv"}, headers=operator)
    header, row = list(csv.reader(io.StringIO(response.text)))
    # The columns a spreadsheet already reads keep their places; the new ones come last.
    assert header[:14] == ["booking", "exporter", "status", "pieces", "weight_kg", "volume_cbm", "measured",
                           "dangerous_goods", "temperature_min_c", "temperature_max_c", "consignee_name",
                           "consignee_address", "consignee_city", "consignee_country"]
    assert dict(zip(header[14:], row[14:])) == {
        "container_number": "CSQU3054383", "seal_number": "CN 889120", "packages": "4; 2",
        "package_type": "CARTON; PALLET", "description": "Festive decorations; Treadmill frames",
        "hs_code": "950510; 950691", "stackable": "yes; no", "first_step": "1", "last_step": "6",
    }


@postgres_only  # SQLite has one writer: the replan would wait for the numbering request
async def test_a_container_superseded_while_its_number_waits_for_the_lock_is_not_numbered(
    client, operator, exporter, network, monkeypatch
):
    """The operator numbers a container while a replan of its departure commits: the number must
    not land on the superseded version, where equipment events would never find it."""
    from app.consolidation import service

    departure_id = network["departure_id"]
    booked = await book(client, exporter, departure_id, cargo=[line_of_cbm(4)])
    plan = (await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    target = containers_of(plan)[booked["reference"]]
    get_departure, replanned = service.get_departure, {}

    async def replanned_meanwhile(session, departure_id, **kwargs):
        if kwargs.get("lock") and not replanned:  # before the numbering request holds the lock
            replanned["answer"] = None  # the replan takes this lock too: it must not replan again
            replanned["answer"] = await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)
        return await get_departure(session, departure_id, **kwargs)

    monkeypatch.setattr(service, "get_departure", replanned_meanwhile)
    numbered = await client.patch(f"/v1/containers/{target['id']}", json={"container_number": "CSQU3054383"},
                                  headers=operator)
    assert replanned["answer"].status_code in (200, 201)
    assert numbered.status_code == 409 and "superseded" in numbered.json()["detail"]
