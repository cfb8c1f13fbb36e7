"""A departure's plan stuffs every container it plans; what does not stuff is repaired, never stored as if it fit."""

from __future__ import annotations

from sqlalchemy import select

from app import stuffing
from app.bookings.models import Booking
from app.consolidation.models import PlanContainer
from app.consolidation.stuffing import (
    MAX_TIME_S,
    MIN_TIME_S,
    RETRY_TIME_S,
    Budget,
    Stuffed,
    container_instance,
    stuff_all,
)
from tests import factories
from tests.factories import booking_body, cargo_line

# Crates that may lie on any side: the planner does not count them as tall columns (``cargo.tall_footprint_m2``),
# so only the stuffing finds that few fit.
CUBE = {"length_cm": 130, "width_cm": 130, "height_cm": 130, "package_type": "CRATE", "weight_kg": 400,
        "vertical": ["length", "width", "height"]}


async def book(client, headers, departure_id, lines, **overrides):
    response = await client.post("/v1/bookings", json=booking_body(departure_id, cargo=lines, **overrides),
                                 headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def plan(client, operator, departure_id):
    response = await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)
    assert response.status_code == 201, response.text
    return response.json()


async def stored_plan_is_valid(app, container_id: int) -> bool:
    """Rebuild the container's instance from the database and run the validator on its stored stuffing."""
    async with app.state.sessionmaker() as session:
        container = await session.get(PlanContainer, container_id)
        ids = [a.booking_id for a in container.assignments]
        bookings = list(await session.scalars(select(Booking).where(Booking.id.in_(ids)).order_by(Booking.id)))
        instance = stuffing.instance_from_dict(container_instance(container.container_type, bookings, None))
        return stuffing.check_stuffing(instance, container.stuffing) == [] and not container.stuffing["unplaced"]


async def test_every_planned_container_is_stuffed_and_the_crew_sees_each_package_in_order(
    app, client, operator, exporter, network
):
    departure_id = network["departure_id"]
    first = await book(client, exporter, departure_id, [cargo_line(packages=30), cargo_line(
        packages=4, package_type="PALLET", length_cm=120, width_cm=100, height_cm=140, weight_kg=1600)])
    second = await book(client, exporter, departure_id, [cargo_line(packages=12, length_cm=80, width_cm=60)])
    result = await plan(client, operator, departure_id)
    assert result["containers"] and all(c["stuffed"] for c in result["containers"])
    container = result["containers"][0]
    assert 0 < container["stuffing_utilisation"] < 1
    assert await stored_plan_is_valid(app, container["id"])

    response = await client.get(f"/v1/containers/{container['id']}/stuffing", headers=operator)
    assert response.status_code == 200, response.text
    document = response.json()
    placements = document["placements"]
    assert len(placements) == 30 + 4 + 12
    assert [p["step"] for p in placements] == sorted(p["step"] for p in placements)
    by_line = {(p["booking_reference"], p["line"]) for p in placements}
    assert by_line == {(first["reference"], 1), (first["reference"], 2), (second["reference"], 1)}
    packages = sorted(p["package"] for p in placements if p["booking_reference"] == second["reference"])
    assert packages == list(range(1, 13))
    pallets = [p for p in placements if p["booking_reference"] == first["reference"] and p["line"] == 2]
    assert all(p["height_cm"] == 140 for p in pallets)  # pallets stand upright by default
    assert document["type"] == container["type"] and document["length_cm"] > 500

    listing = (await client.get(f"/v1/containers/{container['id']}/loading-list", headers=operator)).json()
    firsts = [line["first_step"] for line in listing["lines"]]
    assert all(step is not None for step in firsts) and firsts == sorted(firsts)
    csv_text = (await client.get(f"/v1/containers/{container['id']}/loading-list?format=csv", headers=operator)).text
    assert csv_text.splitlines()[0].endswith("first_step,last_step")


async def test_a_container_whose_bookings_do_not_stuff_becomes_a_larger_type(app, client, operator, exporter, network):
    """Twelve 130 cm crates are 26.4 CBM, inside a 20GP's 28 usable CBM, but only four stand in it
    (two side by side need 260 cm of its 235, two stacked 260 cm of its 239): the planner's volume rule
    says one 20GP, the stuffing says no, and the plan makes it a 40HC, which takes them."""
    departure_id = network["departure_id"]
    for _ in range(3):
        await book(client, exporter, departure_id, [cargo_line(packages=4, **CUBE)])
    result = await plan(client, operator, departure_id)
    assert [c["type"] for c in result["containers"]] == ["40HC"]
    assert result["containers"][0]["stuffed"] and result["unassigned"] == []
    assert any("became a 40HC" in w for w in result["warnings"])
    assert await stored_plan_is_valid(app, result["containers"][0]["id"])


async def test_a_booking_that_stuffs_nowhere_is_left_out_and_said_so(client, operator, exporter, network):
    departure = (await client.post("/v1/departures", headers=operator,
                                   json=factories.departure_body(days_out=30, capacity_teu=1))).json()
    booking = await book(client, exporter, departure["id"], [cargo_line(packages=5, **CUBE)])
    assert booking["status"] == "CONFIRMED"  # by volume it fits one 20GP
    result = await plan(client, operator, departure["id"])
    assert result["containers"] == []
    assert result["unassigned"] == [{"booking": booking["reference"], "reason": result["unassigned"][0]["reason"]}]
    assert "does not stuff" in result["unassigned"][0]["reason"]
    assert any(booking["reference"] in w for w in result["warnings"])


async def test_only_the_operator_reads_a_stuffing_plan(client, operator, exporter, network):
    departure_id = network["departure_id"]
    await book(client, exporter, departure_id, [cargo_line()])
    container_id = (await plan(client, operator, departure_id))["containers"][0]["id"]
    assert (await client.get(f"/v1/containers/{container_id}/stuffing", headers=exporter)).status_code == 403
    assert (await client.get("/v1/containers/999999/stuffing", headers=operator)).status_code == 404


async def test_cargo_lines_say_which_way_up(client, exporter, network):
    departure_id = network["departure_id"]
    declared = await book(client, exporter, departure_id, [cargo_line(vertical=["height", "length"]), cargo_line(),
                                                           cargo_line(package_type="PALLET")])
    assert [line["vertical"] for line in declared["cargo"]] == [
        ["length", "height"], ["length", "width", "height"], ["height"]]
    for bad in (["top"], [], ["height", "height"], "height"):
        response = await client.post("/v1/bookings", headers=exporter,
                                     json=booking_body(departure_id, cargo=[cargo_line(vertical=bad)]))
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"].startswith("cargo.0.vertical")


async def test_the_stuffing_picture_and_the_printed_plan(client, operator, exporter, network, tmp_path):
    import shutil
    import subprocess
    import xml.etree.ElementTree as ET

    departure_id = network["departure_id"]
    booking = await book(client, exporter, departure_id, [cargo_line(packages=24, description="Lanterns <red>")])
    container = (await plan(client, operator, departure_id))["containers"][0]
    response = await client.get(f"/v1/containers/{container['id']}/stuffing.svg", headers=operator)
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)
    packages = [e for e in root.iter() if e.get("data-id")]
    assert len(packages) == 24 and {e.get("data-group") for e in packages} == {booking["reference"]}
    after_five = ET.fromstring((await client.get(f"/v1/containers/{container['id']}/stuffing.svg?step=5",
                                                 headers=operator)).text)
    assert len([e for e in after_five.iter() if e.get("data-id")]) == 5
    staged = await client.get(f"/v1/containers/{container['id']}/stuffing.svg?stages=true", headers=operator)
    assert staged.status_code == 200 and ET.fromstring(staged.text) is not None
    assert (await client.get(f"/v1/containers/{container['id']}/stuffing.svg?step=0",
                             headers=operator)).status_code == 422
    assert (await client.get(f"/v1/containers/{container['id']}/stuffing.svg", headers=exporter)).status_code == 403

    pdf = await client.get(f"/v1/containers/{container['id']}/stuffing.pdf", headers=operator)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        import pytest

        pytest.skip("poppler-utils is not installed (.ci/run installs it)")
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert booking["reference"] in text and container["type"] in text and "Lanterns <red>" in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))


def test_a_package_no_container_takes_blames_its_own_booking():
    from app.consolidation.stuffing import stuff

    piece = {"count": 1, "width_cm": 50, "height_cm": 50, "weight_kg": 10, "vertical": ["height"], "stackable": True}
    document = {"container": {"code": "20GP", "length_cm": 589, "width_cm": 235, "height_cm": 239, "payload_kg": 28000},
                "pieces": [piece | {"id": "CVNA/1", "length_cm": 50, "group": "CVNA"},
                           piece | {"id": "CVNB/1", "length_cm": 700, "group": "CVNB"}]}
    result = stuff(document, 0.3)
    assert result.plan is None and set(result.short) == {"CVNB"}


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_container_gets_its_share_of_what_is_left_of_the_budget():
    clock = _Clock()
    budget = Budget(12.0, clock)
    assert budget.share(8) == 1.5
    clock.now += 11.0  # the first containers took most of it
    assert budget.share(4) == MIN_TIME_S  # never less than the floor
    clock.now = 100.0
    assert budget.share(1) == MAX_TIME_S  # one container alone still stops at the ceiling
    assert budget.share(1, RETRY_TIME_S) == RETRY_TIME_S


def test_a_container_that_did_not_stuff_in_its_share_goes_again_with_what_the_others_left():
    clock = _Clock()
    calls: list[tuple[str, float, int]] = []

    def solver(document, limit_s, seed=0):
        calls.append((document["name"], limit_s, seed))
        clock.now += 0.1  # every container stuffs (or gives up) fast, leaving time over
        if document["name"] == "hard" and seed == 0:
            return Stuffed(None, {"B1": 1000.0})
        if document["name"] == "too large":
            return Stuffed(None, {"B2": float("inf")})
        return Stuffed({"placements": []})

    documents = [{"name": "hard"}, {"name": "easy"}, {"name": "too large"}]
    results = stuff_all(documents, Budget(12.0, clock), solver)
    assert [r.plan is not None for r in results] == [True, True, False]
    assert calls[:3] == [("hard", MAX_TIME_S, 0), ("easy", MAX_TIME_S, 0), ("too large", MAX_TIME_S, 0)]
    # Only the one that might stuff is tried again, with more time than its first share and another seed;
    # a package larger than the container is not.
    assert len(calls) == 4 and calls[3][0] == "hard" and calls[3][1] > MAX_TIME_S and calls[3][2] == 1


async def test_space_control_does_not_confirm_tall_pallets_onto_a_floor_they_do_not_fit(
    client, operator, exporter, network
):
    """Two bookings at 58 % of a 40HC's volume (under its 66 usable CBM by volume alone) whose pallets need
    29.2 m² of its 28.3 m² floor: the second is waitlisted, not confirmed into a container no plan stuffs."""
    departure = (await client.post("/v1/departures", headers=operator,
                                   json=factories.departure_body(days_out=30, capacity_teu=2))).json()
    first = await book(client, exporter, departure["id"], [
        cargo_line(packages=4, package_type="CRATE", length_cm=106, width_cm=127, height_cm=117, weight_kg=1556),
        cargo_line(packages=24, length_cm=49, width_cm=27, height_cm=44, weight_kg=459, vertical=["height"]),
        cargo_line(packages=11, package_type="PALLET", length_cm=120, width_cm=100, height_cm=118, weight_kg=2322,
                   stackable=False),
    ])
    tall = await book(client, exporter, departure["id"], [
        cargo_line(packages=11, package_type="PALLET", length_cm=110, width_cm=110, height_cm=159, weight_kg=8458)])
    assert first["status"] == "CONFIRMED"
    assert tall["status"] == "WAITLISTED"
    # Such pallets that may lie down (the exporter says so) are only volume: eight of them fit.
    lying = await book(client, exporter, departure["id"], [
        cargo_line(packages=8, package_type="PALLET", length_cm=110, width_cm=110, height_cm=159, weight_kg=6151,
                   vertical=["length", "width", "height"])])
    assert lying["status"] == "CONFIRMED"
    result = await plan(client, operator, departure["id"])
    assert result["unassigned"] == [] and all(c["stuffed"] for c in result["containers"])
