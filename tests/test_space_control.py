"""Space control backed by the planner: a booking is confirmed only if the departure still packs
within capacity_teu, and the packing it keeps (space_slots) is a valid plan."""

import asyncio
from collections import defaultdict

from sqlalchemy import select

from app import planner
from app.bookings.models import Booking
from app.consolidation import segregation, space
from app.consolidation.models import SpaceSlot
from app.consolidation.space import SPACE_HOLDING
from app.network.models import Departure, Hub
from tests.conftest import postgres_only
from tests.factories import booking_body, line_of_cbm

TYPES = (
    planner.ContainerType("20GP", 28000, 28.0, 2.393, 3500, False, 1),
    planner.ContainerType("40HC", 26500, 66.0, 2.698, 5600, False, 2),
    planner.ContainerType("40RH", 29000, 59.0, 2.554, 9000, True, 2),
)


async def book(client, headers, departure_id, **overrides):
    response = await client.post("/v1/bookings", json=booking_body(departure_id, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def dg_line(cbm: float, dg_class: str) -> dict:
    return line_of_cbm(cbm) | {"dangerous_goods": {"un_number": "1993", "class": dg_class, "packing_group": "III"}}


async def assert_projection_is_a_valid_plan(app, departure_id: int) -> int:
    """Rebuild the stored projection as a plan and check it against the planner's rules; returns its TEU."""
    async with app.state.sessionmaker() as session:
        departure = await session.get(Departure, departure_id)
        rows = (await session.execute(
            select(Booking, Hub.un_locode, SpaceSlot.slot, SpaceSlot.container_type, SpaceSlot.footprint_m2)
            .join(Hub, Hub.id == Booking.destination_hub_id)
            .outerjoin(SpaceSlot, SpaceSlot.booking_id == Booking.id)
            .where(Booking.departure_id == departure_id, Booking.status.in_(SPACE_HOLDING))
        )).all()
        shipments, slots = [], defaultdict(list)
        for booking, locode, slot, ctype, footprint in rows:
            assert slot is not None, f"{booking.reference} holds space but has no place in the projection"
            weight = booking.measured_weight_kg or booking.weight_kg
            volume = booking.measured_volume_cbm or booking.volume_cbm
            temp = (booking.temperature_min_c, booking.temperature_max_c) if booking.temperature_min_c is not None else None
            shipments.append(planner.Shipment(str(booking.id), locode, weight, volume, segregation.dg_key(booking.dg_classes),
                                              temp, footprint is None, footprint))
            slots[slot].append((ctype, locode, str(booking.id)))
        keys = {s.dg_class for s in shipments if s.dg_class}
        instance = planner.Instance(TYPES, tuple(shipments),
                                    frozenset(frozenset(p) for p in segregation.incompatible_pairs(keys)),
                                    max_payload_kg=departure.max_payload_kg)
        containers = []
        for members in slots.values():
            assert len({(t, d) for t, d, _ in members}) == 1
            containers.append(planner.Container(members[0][0], members[0][1], tuple(m[2] for m in members)))
        loaded = planner.validate_locked(instance, containers)  # raises on any broken rule
        cost = sum(instance.type_by_code(c.type).cost for c in loaded)
        assert planner.check_plan(instance, planner.Plan(loaded, (), cost, planner.lower_bound(instance))) == []
        teu = sum(instance.type_by_code(c.type).teu for c in containers)
        assert teu <= departure.capacity_teu
        return teu


async def test_dg_classes_split_containers(app, client, exporter, network):
    departure_id = network["departure_id"]  # 2 TEU: one 40HC, or two 20GP
    flammable = await book(client, exporter, departure_id, cargo=[dg_line(10, "3")])
    oxidiser = await book(client, exporter, departure_id, cargo=[dg_line(5, "5.1")])
    # Class 3 and 5.1 are "separated from": two 20GP — the space control replanned to find that.
    assert flammable["status"] == oxidiser["status"] == "CONFIRMED"
    # Class 4.3 must be kept from both, and no TEU is left, although 51 CBM of the 66 are free.
    water_reactive = await book(client, exporter, departure_id, cargo=[dg_line(2, "4.3")])
    assert water_reactive["status"] == "WAITLISTED" and "no room" in water_reactive["status_reason"]
    # Plain cargo still joins one of them.
    plain = await book(client, exporter, departure_id, cargo=[line_of_cbm(12)])
    assert plain["status"] == "CONFIRMED"
    assert await assert_projection_is_a_valid_plan(app, departure_id) == 2
    # Cancelling the oxidiser frees a container for the water-reactive cargo.
    await client.post(f"/v1/bookings/{oxidiser['reference']}/cancel", headers=exporter)
    promoted = (await client.get(f"/v1/bookings/{water_reactive['reference']}", headers=exporter)).json()
    assert promoted["status"] == "CONFIRMED"
    await assert_projection_is_a_valid_plan(app, departure_id)


async def test_destinations_and_reefers_split_containers(app, client, exporter, network):
    first, second = network["departures"][0]["id"], network["departures"][1]["id"]
    to_poland = await book(client, exporter, first, cargo=[line_of_cbm(5)], destination="PLMAA")
    to_duisburg = await book(client, exporter, first, cargo=[line_of_cbm(5)])
    to_kazakh_border = await book(client, exporter, first, cargo=[line_of_cbm(1)], destination="CNAKL")
    assert [b["status"] for b in (to_poland, to_duisburg, to_kazakh_border)] == ["CONFIRMED", "CONFIRMED", "WAITLISTED"]
    await assert_projection_is_a_valid_plan(app, first)

    chilled = await book(client, exporter, second, cargo=[line_of_cbm(3) | {"temperature_c": {"min_c": 2, "max_c": 8}}])
    frozen = await book(client, exporter, second, cargo=[line_of_cbm(3) | {"temperature_c": {"min_c": -25, "max_c": -18}}])
    dry = await book(client, exporter, second, cargo=[line_of_cbm(1)])
    assert chilled["status"] == "CONFIRMED"  # a 40RH takes both TEU
    assert frozen["status"] == "WAITLISTED" and dry["status"] == "WAITLISTED"
    await assert_projection_is_a_valid_plan(app, second)


async def test_mutually_incompatible_classes_in_one_booking_are_refused(client, exporter, network):
    response = await client.post(
        "/v1/bookings", json=booking_body(network["departure_id"], cargo=[dg_line(1, "3"), dg_line(1, "5.1")]),
        headers=exporter,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cargo"
    compatible = await book(client, exporter, network["departure_id"], cargo=[dg_line(1, "3"), dg_line(1, "8")])
    assert compatible["status"] == "CONFIRMED"


async def test_measured_cargo_is_placed_again_before_the_next_decision(app, client, operator, exporter, network):
    departure_id = network["departure_id"]
    received = await book(client, exporter, departure_id, cargo=[line_of_cbm(10)])
    await client.post(f"/v1/bookings/{received['reference']}/receipt",
                      json={"pieces": 1, "weight_kg": 10, "volume_cbm": 56}, headers=operator)
    small = await book(client, exporter, departure_id, cargo=[line_of_cbm(7)])
    # 56 measured (not 10 declared) + 7 > the 62.5 CBM of a 40HC that stuffs (cargo.stuffable_cbm),
    # and 2 TEU allow no more
    assert small["status"] == "WAITLISTED"
    fits = await book(client, exporter, departure_id, cargo=[line_of_cbm(6)])
    assert fits["status"] == "CONFIRMED"  # 56 + 6 = 62
    await assert_projection_is_a_valid_plan(app, departure_id)


async def test_amendments_are_checked_against_the_packing(app, client, exporter, network):
    departure_id = network["departure_id"]
    await book(client, exporter, departure_id, cargo=[dg_line(10, "3")])
    created = await client.post("/v1/bookings", json=booking_body(departure_id, cargo=[line_of_cbm(10)]), headers=exporter)
    reference, etag = created.json()["reference"], created.headers["etag"]
    # Turning the plain cargo into an oxidiser needs a second container: 20GP + 20GP still fit 2 TEU.
    ok = await client.patch(f"/v1/bookings/{reference}", json={"cargo": [dg_line(10, "5.1")]},
                            headers=exporter | {"If-Match": etag})
    assert ok.status_code == 200
    # 30 CBM of oxidiser no longer fits a 20GP, and a 40HC would leave no TEU for the class 3 cargo.
    too_big = await client.patch(f"/v1/bookings/{reference}", json={"cargo": [dg_line(30, "5.1")]},
                                 headers=exporter | {"If-Match": ok.headers["etag"]})
    assert too_big.status_code == 409 and "CBM" in too_big.json()["detail"]
    await assert_projection_is_a_valid_plan(app, departure_id)


async def test_concurrent_mixed_dg_bookings_never_oversell(app, client, exporter, network):
    """Racing bookings of classes 3 and 5.1 and plain cargo: whatever the order, the confirmed
    ones pack validly into 2 TEU (checked rule by rule on the stored packing)."""
    departure_id = network["departure_id"]
    bodies = [booking_body(departure_id, cargo=[dg_line(4, "3") if i % 3 == 0 else dg_line(4, "5.1") if i % 3 == 1
                                                else line_of_cbm(4)]) for i in range(30)]
    responses = await asyncio.gather(*(client.post("/v1/bookings", json=b, headers=exporter) for b in bodies))
    assert all(r.status_code == 201 for r in responses), {r.status_code for r in responses}
    statuses = [r.json()["status"] for r in responses]
    confirmed = statuses.count("CONFIRMED")
    assert statuses.count("WAITLISTED") == 30 - confirmed
    # 2 TEU hold at most 66 CBM (16 bookings of 4 CBM); two 20GP hold 7 + 7.
    assert 7 <= confirmed <= 16
    assert await assert_projection_is_a_valid_plan(app, departure_id) <= 2


@postgres_only
async def test_a_departures_riders_are_counted_by_index_in_a_new_database(app):
    """Every space decision first counts the departure's riders (the fingerprint). asyncpg prepares
    the statement once per connection and PostgreSQL soon plans it once for all parameters: a plan
    made while the tables were new and never analyzed must still reach the riders through indexes,
    not scan every booking on every decision until the statistics catch up."""
    sql, parameter_names, _, _ = space._FINGERPRINT._compile(app.state.engine.dialect)
    nulls = ", ".join("NULL" for _ in parameter_names)
    async with app.state.engine.connect() as connection:
        # The same tables, new and never analyzed, shadowing the real ones; all rolled back.
        await connection.exec_driver_sql("CREATE SCHEMA new_database")
        for table in ("bookings", "booking_legs"):
            await connection.exec_driver_sql(f"CREATE TABLE new_database.{table} (LIKE public.{table} INCLUDING ALL)")
        await connection.exec_driver_sql("SET LOCAL search_path = new_database, public")
        await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        await connection.exec_driver_sql(f"PREPARE riders AS {sql}")
        try:
            rows = await connection.exec_driver_sql(f"EXPLAIN EXECUTE riders({nulls})")
            plan = "\n".join(row[0] for row in rows)
        finally:
            await connection.exec_driver_sql("DEALLOCATE riders")
            await connection.rollback()
    assert "Seq Scan on bookings" not in plan, plan
