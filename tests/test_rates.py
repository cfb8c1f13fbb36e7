"""Rate cards: versions per service, read by any key, written by the operator; bookings priced by them."""

from tests import factories
from tests.factories import booking_body, cargo_line

CARD = {
    "currency": "EUR", "rate_per_cbm": "120.00", "minimum_charge": "200.00", "dg_surcharge_per_cbm": "40.00",
    "reefer_surcharge_per_cbm": "0.00", "non_stackable_surcharge_per_m2": "10.00",
}


async def test_operator_publishes_versions_anyone_reads_them(client, operator, exporter, network):
    denied = await client.post("/v1/services/WUH-DUI/rates", json=CARD, headers=exporter)
    assert denied.status_code == 403
    first = await client.post("/v1/services/WUH-DUI/rates", json=CARD, headers=operator)
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["rate_per_cbm"] == "120.00"
    second = await client.post("/v1/services/WUH-DUI/rates", json=CARD | {"rate_per_cbm": "130.00"}, headers=operator)
    assert second.json()["version"] == 2
    listed = await client.get("/v1/services/WUH-DUI/rates", headers=exporter)
    assert [c["version"] for c in listed.json()["items"]] == [1, 2]
    assert (await client.get("/v1/services/NOPE-1/rates", headers=exporter)).status_code == 404


async def test_bad_cards_are_422_naming_the_field(client, operator, network):
    for field, body in (
        ("rate_per_cbm", CARD | {"rate_per_cbm": "-1"}),
        ("currency", CARD | {"currency": "XXX"}),
        ("minimum_charge", CARD | {"minimum_charge": "1.001"}),
    ):
        response = await client.post("/v1/services/WUH-DUI/rates", json=body, headers=operator)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, response.text
    window = CARD | {"valid_from": factories.iso(factories.future(2)), "valid_to": factories.iso(factories.future(1))}
    assert (await client.post("/v1/services/WUH-DUI/rates", json=window, headers=operator)).status_code == 422


async def test_bookings_are_priced_by_the_card_covering_their_departure(client, operator, exporter, network):
    departures = network["departures"]  # days 10, 17, 24
    # Version 1 covers every departure; version 2 only those from day 15 on.
    await client.post("/v1/services/WUH-DUI/rates", json=CARD | {"valid_from": factories.iso(factories.future(-1))}, headers=operator)
    later = CARD | {"rate_per_cbm": "150.00", "valid_from": factories.iso(factories.future(15))}
    await client.post("/v1/services/WUH-DUI/rates", json=later, headers=operator)
    flammable = cargo_line(
        packages=20, weight_kg=300, dangerous_goods={"un_number": "1263", "class": "3", "packing_group": "II"}
    )  # 2.4 CBM
    early = await client.post("/v1/bookings", json=booking_body(departures[0]["id"], cargo=[flammable]), headers=exporter)
    assert early.json()["price"] == {"amount": "384.00", "currency": "EUR"}  # 2.4 × 120 + 2.4 × 40 DG
    late = await client.post("/v1/bookings", json=booking_body(departures[1]["id"], cargo=[flammable]), headers=exporter)
    assert late.json()["price"]["amount"] == "456.00"  # 2.4 × 150 + 2.4 × 40
    flat = cargo_line(packages=2, length_cm=120, width_cm=100, height_cm=100, weight_kg=100, stackable=False)
    pallet = await client.post("/v1/bookings", json=booking_body(departures[0]["id"], cargo=[flat]), headers=exporter)
    # 2 × 1.2 m² × 2.39 m = 5.736 CBM × 120 = 688.32, plus 2.4 m² × 10 = 24.00
    assert pallet.json()["price"]["amount"] == "712.32"


async def test_a_card_note_is_text_like_every_other(client, operator, network):
    for note in ("a\u0000b", "   ", "n" * 201):
        response = await client.post("/v1/services/WUH-DUI/rates", json=CARD | {"note": note}, headers=operator)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "note", response.text
    assert (await client.get("/v1/services/WUH-DUI/rates", headers=operator)).json()["items"] == []
