"""The booking and the quote say how the chargeable volume was reached, line by line."""

import pytest

from app import cargo as core
from app.bookings.schemas import CargoLineIn
from tests import factories
from tests.factories import cargo_line
from tests.test_quotes import quote

PALLETS = cargo_line(description="Glass panels", packages=2, package_type="PALLET", length_cm=120, width_cm=80,
                     height_cm=150, weight_kg=400, stackable=False)  # 2.88 CBM, blocks 1.92 m² × 2.39 m
STEEL = cargo_line(description="Steel fittings", packages=1, package_type="CRATE", length_cm=100, width_cm=100,
                   height_cm=50, weight_kg=1500)  # 0.5 CBM, 1500 kg ÷ 500 = 3 CBM by weight


def test_the_core_explains_each_figure_and_which_counted():
    explained = core.explain_chargeable([factories_line(PALLETS), factories_line(STEEL)], 500)
    pallets, steel = explained.lines
    assert (pallets.volume_cbm, pallets.footprint_m2, pallets.occupied_cbm, pallets.weight_cbm) == (2.88, 1.92, 4.589, 0.8)
    assert (pallets.chargeable_cbm, pallets.basis) == (4.589, "OCCUPIED_VOLUME")
    assert (steel.volume_cbm, steel.footprint_m2, steel.occupied_cbm, steel.weight_cbm) == (0.5, None, 0.5, 3.0)
    assert (steel.chargeable_cbm, steel.basis) == (3.0, "WEIGHT")
    # The booking: occupied 5.089 against 1,900 kg ÷ 500 = 3.8 CBM: the occupied volume counts.
    assert (explained.occupied_cbm, explained.weight_cbm, explained.chargeable_cbm) == (5.089, 3.8, 5.089)
    assert explained.basis == "OCCUPIED_VOLUME" and explained.minimum_cbm == 1.0
    assert explained.non_stackable_height_m == core.NON_STACKABLE_HEIGHT_M
    small = core.explain_chargeable([factories_line(cargo_line(packages=1, weight_kg=10))], 500)
    assert (small.volume_cbm, small.chargeable_cbm, small.basis, small.lines[0].basis) == (0.12, 1.0, "MINIMUM", "VOLUME")
    assert core.explain_chargeable([factories_line(PALLETS)], 500).chargeable_cbm == core.totals(
        [factories_line(PALLETS)], 500).chargeable_cbm


def factories_line(body: dict) -> CargoLineIn:
    return CargoLineIn.model_validate(body)


async def test_a_booking_says_how_its_chargeable_volume_was_reached(client, operator, exporter):
    network = await factories.small_network(client, operator)
    body = factories.booking_body(network["departure_id"], cargo=[PALLETS, STEEL])
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 201, response.text
    booking = response.json()
    explained = booking["chargeable_explained"]
    assert explained["chargeable_cbm"] == booking["declared_chargeable_cbm"] == 5.089
    assert explained["weight_per_cbm_kg"] == 500 and explained["basis"] == "OCCUPIED_VOLUME"
    assert [(line["line"], line["volume_cbm"], line["occupied_cbm"], line["weight_cbm"], line["basis"])
            for line in explained["lines"]] == [(0, 2.88, 4.589, 0.8, "OCCUPIED_VOLUME"), (1, 0.5, 0.5, 3.0, "WEIGHT")]
    again = (await client.get(f"/v1/bookings/{booking['reference']}", headers=exporter)).json()
    assert again["chargeable_explained"] == explained


async def test_each_quoted_leg_says_how_its_chargeable_volume_was_reached(client, operator, exporter):
    await factories.small_network(client, operator)
    body = await quote(client, exporter, cargo=[PALLETS])
    leg = body["options"][0]["legs"][0]
    explained = leg["chargeable_explained"]
    assert explained["chargeable_cbm"] == leg["chargeable_cbm"] == pytest.approx(4.589)
    assert explained["lines"][0]["basis"] == "OCCUPIED_VOLUME" and explained["lines"][0]["volume_cbm"] == 2.88
    stored = (await client.get(f"/v1/quote-options/{body['options'][0]['id']}", headers=exporter)).json()
    assert stored["legs"][0]["chargeable_explained"] == explained
