"""Each tracking leg names the cut-off the cargo must meet for the departure it rides, where it boards
it (issue 12, item 2: the schema said "its tracking lists them", the legs had no cut-off)."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.network.models import Departure
from tests.factories import booking_body
from tests.test_tracking_quotes import book_road_and_rail, road_then_rail, tracking_of


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def book(client, headers, departure_id: int, **overrides) -> dict:
    response = await client.post("/v1/bookings", json=booking_body(departure_id, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_every_leg_of_a_train_has_the_cut_off_where_the_cargo_boards_it(client, exporter, network):
    departure = network["departures"][0]
    cutoff = at(departure["cutoff_at"])
    whole = await tracking_of(client, exporter, (await book(client, exporter, departure["id"]))["reference"])
    assert [at(leg["cutoff_at"]) for leg in whole["legs"]] == [cutoff, cutoff, cutoff]
    # Boarding at Alashankou, 96 h down the line: the stop's time minus the origin's four-day lead.
    later = await book(client, exporter, departure["id"], origin="CNAKL", destination="DEDUI")
    view = await tracking_of(client, exporter, later["reference"])
    assert [(leg["from_hub"], at(leg["cutoff_at"])) for leg in view["legs"]] == [
        ("CNAKL", cutoff + timedelta(hours=96)), ("PLMAA", cutoff + timedelta(hours=96))]


async def test_a_quoted_itinerary_lists_each_rides_cut_off(client, app, operator, exporter):
    network = await road_then_rail(client, operator)
    road, rail = network["road"], network["rail"]
    option, booking = await book_road_and_rail(client, exporter)
    # The quoted cut-offs are the booking's, even if the hub moves a cut-off later.
    async with app.state.sessionmaker() as session:
        (await session.get(Departure, rail["id"])).cutoff_at = at(rail["cutoff_at"]) + timedelta(hours=1)
        await session.commit()
    view = await tracking_of(client, exporter, booking["reference"])
    quoted = {leg["departure_id"]: at(leg["cutoff_at"]) for leg in option["legs"]}
    assert quoted == {road["id"]: at(road["cutoff_at"]), rail["id"]: at(rail["cutoff_at"])}
    assert [(leg["departure_id"], at(leg["cutoff_at"])) for leg in view["legs"]] == [
        (leg["departure_id"], quoted[leg["departure_id"]]) for leg in view["legs"]]
    assert view["legs"][0]["mode"] == "ROAD" and at(view["legs"][0]["cutoff_at"]) == at(road["cutoff_at"])
