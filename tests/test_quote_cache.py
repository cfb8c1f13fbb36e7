"""The quote's process cache (network, rate terms, departure snapshots) never serves rows older than the
database's: a rate card, a departure's change or a booking written by ANOTHER process (here: another
engine writing the rows directly, so nothing of this app's code runs for it) is seen by the next quote."""

import asyncio
from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.cargo import END_TERMS
from app.db import utcnow
from app.main import create_app
from app.network.models import Departure, Hub, Service
from app.routing.models import RateCard
from tests import factories
from tests.conftest import postgres_only
from tests.factories import line_of_cbm
from tests.test_quotes import quote

ZERO_TERMS = ("dg_surcharge_per_cbm", "reefer_surcharge_per_cbm", "non_stackable_surcharge_per_m2")


def rail_option(body: dict) -> dict:
    (option,) = [o for o in body["options"] if o["modes"] == ["RAIL"]]
    return option


async def test_a_rate_card_written_elsewhere_prices_the_next_quote(client, operator, exporter, elsewhere):
    await factories.small_network(client, operator)
    assert rail_option(await quote(client, exporter))["price"]["total"] == "150.00"  # the service's own minimum
    async with AsyncSession(elsewhere) as session:
        service_id = (await session.execute(Service.__table__.select())).first().id
        session.add(RateCard(service_id=service_id, version=1, currency="EUR", rate_per_cbm=Decimal("100.00"),
                             minimum_charge=Decimal("400.00"), valid_from=utcnow() - timedelta(days=1),
                             **{name: Decimal("0") for name in (*ZERO_TERMS, *END_TERMS)}))
        await session.commit()
    assert rail_option(await quote(client, exporter))["price"]["total"] == "400.00"


async def test_a_departure_closed_elsewhere_is_not_offered_by_the_next_quote(client, operator, exporter, elsewhere):
    network = await factories.small_network(client, operator)
    first, second = (d["id"] for d in network["departures"][:2])
    assert rail_option(await quote(client, exporter))["legs"][0]["departure_id"] == first
    async with AsyncSession(elsewhere) as session:
        await session.execute(update(Departure).where(Departure.id == first).values(status="CLOSED"))
        await session.commit()
    assert rail_option(await quote(client, exporter))["legs"][0]["departure_id"] == second


@postgres_only
async def test_an_update_committed_after_a_later_one_is_still_seen(client, operator, exporter, elsewhere):
    """Two departures updated in overlapping transactions: the one stamped EARLIER commits LAST. Its
    updated_at is below the max the cache already saw, so a max(updated_at) fingerprint would miss it."""
    network = await factories.small_network(client, operator)
    first, second, third = (d["id"] for d in network["departures"])
    stamped_first, stamped_later = utcnow(), utcnow() + timedelta(seconds=1)
    early, late = AsyncSession(elsewhere), AsyncSession(elsewhere)
    try:
        await early.execute(update(Departure).where(Departure.id == first).values(status="CLOSED", updated_at=stamped_first))
        await late.execute(update(Departure).where(Departure.id == third).values(capacity_teu=3, updated_at=stamped_later))
        await late.commit()
        assert rail_option(await quote(client, exporter))["legs"][0]["departure_id"] == first  # the cache is now built
        await early.commit()
    finally:
        await asyncio.gather(early.close(), late.close())
    assert rail_option(await quote(client, exporter))["legs"][0]["departure_id"] == second


async def test_space_booked_elsewhere_is_seen_by_the_next_quote(client, app, operator, exporter, other_exporter, settings):
    """Bookings are never cached: another app (its own engine and pool) fills the departure between two quotes."""
    network = await factories.small_network(client, operator)
    first, second = (d["id"] for d in network["departures"][:2])
    ten_cbm = factories.cargo_line(packages=100, length_cm=100, width_cm=100, height_cm=10, weight_kg=500)
    assert rail_option(await quote(client, exporter, cargo=[ten_cbm]))["legs"][0]["departure_id"] == first
    other = create_app(settings)  # a second API process
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other") as there:
            for cbm in (40, 20):  # 60 of 66 CBM taken
                booked = await there.post("/v1/bookings", json=factories.booking_body(first, cargo=[line_of_cbm(cbm)]),
                                          headers=other_exporter)
                assert booked.json()["status"] == "CONFIRMED", booked.text
    finally:
        await other.state.engine.dispose()
    body = await quote(client, exporter, cargo=[ten_cbm])
    assert rail_option(body)["legs"][0]["departure_id"] == second
    assert [(e["departure_id"], e["reason"]) for e in body["left_out"]] == [(first, "DEPARTURE_FULL")]


async def test_emission_figures_set_elsewhere_count_in_the_next_quote(client, operator, exporter, elsewhere):
    """The quote's emissions come with its cached network: a service's intensity or distances and a hub's
    coordinates changed in place (neither count nor max id moves) are seen all the same."""
    await factories.small_network(client, operator)
    assert rail_option(await quote(client, exporter))["co2e"]["legs"][0]["status"] == "NO_DISTANCE"
    response = await client.put("/v1/services/WUH-DUI/emissions", json={"distances_km": [4000, 5460, 1170]},
                                headers=operator)
    assert response.status_code == 200, response.text
    leg = rail_option(await quote(client, exporter))["co2e"]["legs"][0]
    assert leg["factor"]["id"] == "DESNZ-2025-RAIL-FREIGHT" and leg["distance_km"] == 10630
    async with AsyncSession(elsewhere) as session:
        await session.execute(update(Service).where(Service.code == "WUH-DUI")
                              .values(ttw_g_per_tkm=20.0, wtt_g_per_tkm=5.0, intensity_source="measured"))
        await session.commit()
    leg = rail_option(await quote(client, exporter))["co2e"]["legs"][0]
    assert leg["factor"]["id"] == "service:WUH-DUI" and leg["distance_km"] == 10630
    async with AsyncSession(elsewhere) as session:
        await session.execute(update(Service).where(Service.code == "WUH-DUI").values(leg_distances_km=[4000, 5460, 1000]))
        await session.commit()
    assert rail_option(await quote(client, exporter))["co2e"]["legs"][0]["distance_km"] == 10460
    async with AsyncSession(elsewhere) as session:
        await session.execute(update(Service).where(Service.code == "WUH-DUI").values(leg_distances_km=None))
        await session.execute(update(Hub).values(latitude=30.0, longitude=114.0))  # every hub in one place
        await session.commit()
    leg = rail_option(await quote(client, exporter))["co2e"]["legs"][0]
    assert leg["distance_basis"] == "GREAT_CIRCLE" and leg["distance_km"] == 0
