"""Prices beyond the freight: origin CFS handling, destination terminal handling, pickup and delivery as lines of
their own from the rate card; the Incoterms 2020 rule a booking is sold under."""

from decimal import Decimal

from sqlalchemy import select

from app.bookings.models import Booking
from app.cargo import END_TERMS, CargoFigures, Ends, PriceBreakdown, RateTerms, price
from app.demo import seed_multimodal, seed_network
from tests import factories
from tests.factories import booking_body, cargo_line
from tests.test_quotes import book_option, by_modes, multimodal_network, quote

# --- the pure pricing ----------------------------------------------------------------------

TERMS = RateTerms(
    "EUR", Decimal("100.00"), origin_handling_per_cbm=Decimal("12.35"), origin_handling_minimum=Decimal("20.00"),
    destination_handling_per_cbm=Decimal("8.25"), destination_handling_minimum=Decimal("50.00"),
    pickup_per_cbm=Decimal("10.05"), delivery_per_cbm=Decimal("7.77"), delivery_minimum=Decimal("30.00"),
)


def test_the_ends_are_lines_of_their_own_rounded_to_the_cent_and_the_total_is_their_sum():
    cargo = CargoFigures(chargeable_cbm=3.333)
    freight_only = price(TERMS, cargo)
    assert freight_only.total == Decimal("333.30")  # no ends: the freight alone, as before
    every_end = price(TERMS, cargo, Ends(True, True, True, True))
    assert every_end.origin_handling == Decimal("41.16")  # 12.35 × 3.333 = 41.16255
    assert every_end.destination_handling == Decimal("50.00")  # 27.49725, lifted to the minimum
    assert every_end.pickup == Decimal("33.50")  # 10.05 × 3.333 = 33.49665
    assert every_end.delivery == Decimal("30.00")  # 25.89741, lifted to the minimum
    assert every_end.total == Decimal("333.30") + Decimal("41.16") + Decimal("50.00") + Decimal("33.50") + Decimal("30.00")
    assert Decimal(every_end.as_json()["total"]) == sum(
        Decimal(value) for key, value in every_end.as_json().items() if key not in ("currency", "total")
    )
    summed = price(TERMS, cargo, Ends(origin_handling=True)) + price(TERMS, cargo, Ends(destination_handling=True))
    assert (summed.origin_handling, summed.destination_handling) == (Decimal("41.16"), Decimal("50.00"))
    assert PriceBreakdown.zero("EUR").total == 0


def test_which_leg_carries_which_end():
    assert Ends.of_leg(0, 1, pickup=True, delivery=True) == Ends(True, True, True, True)
    assert Ends.of_leg(0, 3, pickup=True, delivery=True) == Ends(True, False, True, False)
    assert Ends.of_leg(1, 3, pickup=True, delivery=True) == Ends()
    assert Ends.of_leg(2, 3, pickup=False, delivery=True) == Ends(False, True, False, True)


def test_terms_held_before_the_ends_were_priced_still_read_and_charge_nothing_for_them():
    held = {key: value for key, value in TERMS.as_json().items() if key not in END_TERMS}
    terms = RateTerms.from_json(held)
    assert all(getattr(terms, name) == 0 for name in END_TERMS)
    assert price(terms, CargoFigures(1.2), Ends(True, True, True, True)).total == Decimal("120.00")
    assert RateTerms.from_json(TERMS.as_json()) == TERMS


# --- rate cards and direct bookings --------------------------------------------------------

RAIL_CARD = {
    "rate_per_cbm": "120.00", "minimum_charge": "200.00", "origin_handling_per_cbm": "10.00",
    "origin_handling_minimum": "40.00", "destination_handling_per_cbm": "8.50", "pickup_per_cbm": "99.00",
    "delivery_minimum": "99.00",
}


async def test_a_card_prices_the_ends_and_a_booking_shows_each_line(client, operator, exporter, network):
    bad = await client.post("/v1/services/WUH-DUI/rates", json=RAIL_CARD | {"origin_handling_minimum": "-1"},
                            headers=operator)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "origin_handling_minimum"
    card = await client.post("/v1/services/WUH-DUI/rates", json=RAIL_CARD, headers=operator)
    assert card.status_code == 201, card.text
    assert card.json()["destination_handling_per_cbm"] == "8.50" and card.json()["delivery_per_cbm"] == "0.00"

    created = await client.post("/v1/bookings", json=booking_body(network["departure_id"], incoterm="FCA"),
                                headers=exporter)
    assert created.status_code == 201, created.text
    booking = created.json()
    # 1.2 CBM: 144.00 topped up to 200.00; origin handling 12.00 lifted to 40.00; destination 1.2 × 8.50.
    # A booking on a departure asks for no pickup or delivery: the card's prices for them are not charged.
    assert booking["price"] == {"amount": "250.20", "currency": "EUR"}
    assert booking["price_breakdown"] == {
        "currency": "EUR", "base": "144.00", "minimum_top_up": "56.00", "dg_surcharge": "0.00",
        "reefer_surcharge": "0.00", "non_stackable_surcharge": "0.00", "origin_handling": "40.00",
        "destination_handling": "10.20", "total": "250.20",
    }
    assert booking["incoterm"] == "FCA" and booking["pickup"] is False and booking["delivery"] is False

    reference, url = booking["reference"], f"/v1/bookings/{booking['reference']}"
    amended = await client.patch(url, json={"incoterm": "DAP", "cargo": [cargo_line(packages=20, weight_kg=360)]},
                                 headers=exporter | {"If-Match": "*"})
    assert amended.status_code == 200, amended.text
    assert amended.json()["incoterm"] == "DAP"
    assert amended.json()["price_breakdown"]["destination_handling"] == "20.40"  # 2.4 CBM × 8.50
    assert amended.json()["price"]["amount"] == amended.json()["price_breakdown"]["total"] == "348.40"
    cleared = await client.patch(url, json={"incoterm": None}, headers=exporter | {"If-Match": "*"})
    assert cleared.status_code == 200 and cleared.json()["incoterm"] is None
    assert (await client.get(url, headers=exporter)).json()["incoterm"] is None

    for body in (booking_body(network["departure_id"], incoterm="XYZ"), booking_body(network["departure_id"], incoterm=7)):
        refused = await client.post("/v1/bookings", json=body, headers=exporter)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "incoterm", refused.text
    bad_amendment = await client.patch(url, json={"incoterm": "FOB2"}, headers=exporter | {"If-Match": "*"})
    assert bad_amendment.status_code == 422 and bad_amendment.json()["errors"][0]["field"] == "incoterm"
    listed = (await client.get("/v1/bookings", headers=exporter)).json()["items"]
    assert [item["reference"] for item in listed] == [reference]  # the refused ones wrote nothing


# --- quotes: the first leg's card prices the origin's end, the last leg's the destination's -----------

AIR_CARD = {
    "rate_per_cbm": "900.00", "minimum_charge": "300.00", "origin_handling_per_cbm": "21.27",
    "origin_handling_minimum": "25.00", "pickup_per_cbm": "33.33", "pickup_minimum": "50.00",
    "destination_handling_per_cbm": "99.00", "delivery_per_cbm": "99.00",  # never charged: air is the first leg
}
ROAD_CARD = {
    "rate_per_cbm": "40.00", "minimum_charge": "60.00", "destination_handling_per_cbm": "18.75",
    "destination_handling_minimum": "35.00", "delivery_per_cbm": "20.05",
    "origin_handling_per_cbm": "77.00", "pickup_minimum": "77.00",  # never charged: road is the last leg
}


async def _carded_network(client, operator) -> dict:
    network = await multimodal_network(client, operator)
    for service, card in (("WUH-FRA-AIR", AIR_CARD), ("FRA-DUI-ROAD", ROAD_CARD)):
        response = await client.post(f"/v1/services/{service}/rates", json=card, headers=operator)
        assert response.status_code == 201, response.text
    return network


async def test_a_quote_shows_handling_pickup_and_delivery_and_a_booking_keeps_them(client, operator, exporter):
    await _carded_network(client, operator)
    body = await quote(client, exporter, pickup=True, incoterm="DAP")  # DAP: delivered at the buyer's end
    assert (body["pickup"], body["delivery"], body["incoterm"]) == (True, True, "DAP")
    options = by_modes(body)
    air, rail = options[("AIR", "ROAD")], options[("RAIL",)]
    first, last = air["legs"]
    # 1.2 CBM. Air: 1080.00 freight, origin handling 1.2 × 21.27 = 25.524, pickup 39.996 lifted to 50.00.
    assert (first["price"]["origin_handling"], first["price"]["pickup"], first["price"]["total"]) == (
        "25.52", "50.00", "1155.52")
    assert "destination_handling" not in first["price"] and "delivery" not in first["price"]
    # Road: 48.00 topped up to 60.00, destination handling 22.50 lifted to 35.00, delivery 1.2 × 20.05.
    assert (last["price"]["destination_handling"], last["price"]["delivery"], last["price"]["total"]) == (
        "35.00", "24.06", "119.06")
    assert "origin_handling" not in last["price"] and "pickup" not in last["price"]
    assert air["price"] == {
        "currency": "EUR", "base": "1128.00", "minimum_top_up": "12.00", "dg_surcharge": "0.00",
        "reefer_surcharge": "0.00", "non_stackable_surcharge": "0.00", "origin_handling": "25.52",
        "destination_handling": "35.00", "pickup": "50.00", "delivery": "24.06", "total": "1274.58",
    }
    # The rail service has no card: its price is the freight alone, as before.
    assert set(rail["price"]) == {"currency", "base", "minimum_top_up", "dg_surcharge", "reefer_surcharge",
                                  "non_stackable_surcharge", "total"}

    booked = await book_option(client, exporter, air["id"])
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["price"] == {"amount": "1274.58", "currency": "EUR"}
    assert booking["price_breakdown"] == air["price"]
    assert (booking["pickup"], booking["delivery"], booking["incoterm"]) == (True, True, "DAP")
    # The receipt prices the measured 3 CBM with the held terms, ends included:
    # air 2700.00 + 63.81 + 99.99, road 120.00 + 56.25 + 60.15.
    receipt = await client.post(f"/v1/bookings/{booking['reference']}/receipt",
                                json={"pieces": 10, "weight_kg": 180, "volume_cbm": 3}, headers=operator)
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["measured"]["price"] == {"amount": "3100.20", "currency": "EUR"}
    assert receipt.json()["price_breakdown"]["total"] == "1274.58"  # the booked price stays


async def test_what_a_quote_asks_for_decides_the_lines(client, operator, exporter):
    await _carded_network(client, operator)
    plain = by_modes(await quote(client, exporter))[("AIR", "ROAD")]
    # Handling at both ends always; no pickup or delivery unless asked for.
    assert plain["price"]["total"] == "1200.52"  # 1080.00 + 25.52 + 60.00 + 35.00
    assert "pickup" not in plain["price"] and "delivery" not in plain["price"]
    fca = await quote(client, exporter, incoterm="FCA")
    assert (fca["pickup"], fca["delivery"]) == (False, False)
    dap_without_delivery = await quote(client, exporter, incoterm="DAP", delivery=False)
    assert by_modes(dap_without_delivery)[("AIR", "ROAD")]["price"]["total"] == "1200.52"
    delivered = by_modes(await quote(client, exporter, delivery=True))[("AIR", "ROAD")]
    assert delivered["price"]["delivery"] == "24.06"
    booked = await book_option(client, exporter, delivered["id"], incoterm="CPT")
    assert booked.status_code == 201, booked.text
    assert (booked.json()["incoterm"], booked.json()["pickup"], booked.json()["delivery"]) == ("CPT", False, True)
    for field, value in (("incoterm", "dap"), ("pickup", "yes"), ("delivery", 1)):
        response = await client.post("/v1/quotes", json={
            "origin": "CNWUH", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
            "cargo": [cargo_line()], field: value}, headers=exporter)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, response.text


async def test_a_booking_written_before_the_lines_were_kept_reads_without_them(app, client, operator, exporter, network):
    reference = (await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=exporter)).json()[
        "reference"]
    async with app.state.sessionmaker() as session:
        booking = await session.scalar(select(Booking).where(Booking.reference == reference))
        booking.price_breakdown = None
        await session.commit()
    read = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert read["price_breakdown"] is None and read["price"] == {"amount": "150.00", "currency": "EUR"}


async def test_the_demo_prices_a_han_ou_journey_s_ends(app, client, exporter):
    async with app.state.sessionmaker() as session:
        assert await seed_network(session) is True
        assert await seed_multimodal(session) is True
        await session.commit()
    response = await client.post("/v1/quotes", headers=exporter, json={
        "origin": "CNWUH-WJS", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
        "cargo": [cargo_line(packages=100, length_cm=100, width_cm=100, height_cm=10, weight_kg=800)],  # 10 CBM
        "pickup": True, "incoterm": "DDP"})
    assert response.status_code == 201, response.text
    rail = next(option for option in response.json()["options"] if option["modes"] == ["RAIL"])
    assert (rail["price"]["origin_handling"], rail["price"]["destination_handling"]) == ("120.00", "190.00")
    assert (rail["price"]["pickup"], rail["price"]["delivery"]) == ("90.00", "280.00")


async def test_a_merge_patch_sets_and_clears_the_incoterm(client, exporter, network):
    created = await client.post("/v1/bookings", json=booking_body(network["departure_id"], incoterm="FCA"),
                                headers=exporter)
    url = f"/v1/bookings/{created.json()['reference']}"
    merge = exporter | {"If-Match": "*", "Content-Type": "application/merge-patch+json"}
    changed = await client.patch(url, content=b'{"incoterm": "DAP"}', headers=merge)
    assert changed.status_code == 200, changed.text
    assert changed.json()["incoterm"] == "DAP" and changed.json()["consignee"] == created.json()["consignee"]
    cleared = await client.patch(url, content=b'{"incoterm": null}', headers=merge)
    assert cleared.status_code == 200 and cleared.json()["incoterm"] is None
    bad = await client.patch(url, content=b'{"incoterm": "XYZ"}', headers=merge)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "incoterm"
