"""A booking shows where and by when the exporter hands the cargo over, its final destination, and every leg."""

from datetime import datetime

from tests import factories
from tests.test_tracking_quotes import book_road_and_rail, road_then_rail


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_booking_from_a_road_and_rail_quote_shows_the_first_legs_cutoff(client, operator, exporter):
    network = await road_then_rail(client, operator)
    road, rail = network["road"], network["rail"]
    _, booked = await book_road_and_rail(client, exporter)
    booking = (await client.get(f"/v1/bookings/{booked['reference']}", headers=exporter)).json()
    assert booking == {**booking, **{key: booked[key] for key in ("origin", "destination", "cutoff_at", "legs")}}
    # The truck closes before the train: that is the cut-off the exporter must meet, at the truck's depot.
    assert at(road["cutoff_at"]) < at(rail["cutoff_at"])
    assert booking["origin"] == booking["handover"]["hub"] == "CNCSX"
    assert at(booking["cutoff_at"]) == at(booking["handover"]["cutoff_at"]) == at(road["cutoff_at"])
    assert booking["destination"] == booking["final_destination"] == "DEDUI"
    assert at(booking["departs_at"]) == at(road["departs_at"]) and at(booking["arrives_at"]) == at(rail["arrives_at"])
    assert booking["departure_id"] == rail["id"] and booking["service"] == rail["service"]
    assert [
        (leg["sequence"], leg["main"], leg["mode"], leg["departure_id"], leg["from_hub"], leg["to_hub"])
        for leg in booking["legs"]
    ] == [(1, False, "ROAD", road["id"], "CNCSX", "CNWUH-WJS"), (2, True, "RAIL", rail["id"], "CNWUH-WJS", "DEDUI")]
    for leg, departure in zip(booking["legs"], (road, rail)):
        assert leg["service"] == departure["service"]
        for key in ("cutoff_at", "departs_at", "arrives_at"):
            assert at(leg[key]) == at(departure[key]), key
    listed = (await client.get("/v1/bookings", headers=exporter)).json()["items"]
    assert [b["legs"] for b in listed if b["reference"] == booking["reference"]] == [booking["legs"]]


async def test_a_booking_of_one_departure_has_one_leg(client, operator, exporter):
    network = await factories.small_network(client, operator)
    departure = network["departures"][0]
    response = await client.post("/v1/bookings", json=factories.booking_body(departure["id"]), headers=exporter)
    assert response.status_code == 201, response.text
    booking = response.json()
    assert (booking["origin"], booking["destination"]) == ("CNWUH-WJS", "DEDUI")
    assert booking["handover"] == {"hub": "CNWUH-WJS", "cutoff_at": booking["cutoff_at"]}
    assert booking["final_destination"] == "DEDUI"
    assert at(booking["cutoff_at"]) == at(departure["cutoff_at"])
    assert at(booking["departs_at"]) == at(departure["departs_at"])
    assert at(booking["arrives_at"]) == at(departure["arrives_at"])
    assert [(leg["sequence"], leg["main"], leg["mode"], leg["departure_id"], leg["from_hub"], leg["to_hub"])
            for leg in booking["legs"]] == [(1, True, "RAIL", departure["id"], "CNWUH-WJS", "DEDUI")]
    again = (await client.get(f"/v1/bookings/{booking['reference']}", headers=exporter)).json()
    assert again["legs"] == booking["legs"]
