"""A quote with no options says why; a quote from a hub's CFS finds the trains of its UN/LOCODE."""

from app.demo import seed_network
from tests import factories
from tests.factories import cargo_line
from tests.test_quotes import multimodal_network, quote

CFS = {"code": "CNWUH-HOC", "name": "Han'ou CFS warehouse", "kind": "CFS", "un_locode": "CNWUH",
       "timezone": "Asia/Shanghai", "handling_hours": 8}


async def test_a_quote_from_the_hubs_cfs_finds_the_trains_that_leave_from_the_hub(client, operator, exporter):
    network = await factories.small_network(client, operator)
    assert (await client.post("/v1/hubs", json=CFS, headers=operator)).status_code == 201
    body = await quote(client, exporter, origin="CNWUH-HOC")
    assert body["no_options_reason"] is None and body["origin"] == "CNWUH-HOC"
    first = body["options"][0]
    assert first["legs"][0]["from_hub"] == "CNWUH-WJS" and first["legs"][0]["departure_id"] == network["departure_id"]
    assert first["origin"] == "CNWUH-HOC"


async def test_no_service_between_the_places(client, operator, exporter):
    await factories.small_network(client, operator)
    body = await quote(client, exporter, origin="DEDUI", destination="CNWUH-WJS")
    assert body["options"] == [] and body["left_out"] == []
    assert body["no_options_reason"] == {
        "code": "NO_SERVICE", "detail": "no service, nor a chain of services, runs from DEDUI to CNWUH-WJS",
    }


async def test_every_itinerary_left_out_for_the_cargo(client, operator, exporter):
    await factories.small_network(client, operator)
    radioactive = cargo_line(dangerous_goods={"un_number": "2915", "class": "7", "packing_group": None})
    body = await quote(client, exporter, cargo=[radioactive])
    assert body["options"] == [] and [e["reason"] for e in body["left_out"]] == ["DG_CLASS_FORBIDDEN"]
    reason = body["no_options_reason"]
    assert reason["code"] == "ALL_LEFT_OUT" and "class 7" in reason["detail"]


async def test_more_legs_than_max_legs(client, operator, exporter):
    await multimodal_network(client, operator)
    body = await quote(client, exporter, origin="CNWUH-WUH", max_legs=1)  # the airport: fly, then truck
    assert body["options"] == []
    assert body["no_options_reason"]["code"] == "TOO_MANY_LEGS"
    assert "take 2 legs; max_legs is 1" in body["no_options_reason"]["detail"]


async def test_every_departure_closed(client, operator, exporter):
    network = await factories.small_network(client, operator)
    for departure in network["departures"]:
        closed = await client.patch(f"/v1/departures/{departure['id']}", json={"status": "CLOSED"}, headers=operator)
        assert closed.status_code == 200, closed.text
    body = await quote(client, exporter)
    assert body["options"] == [] and body["left_out"] == []
    reason = body["no_options_reason"]
    assert reason["code"] == "DEPARTURES_CLOSED"
    assert f"departure {network['departures'][0]['id']} of WUH-DUI closed at" in reason["detail"]


async def test_no_departure_in_the_window(client, operator, exporter):
    await factories.small_network(client, operator)  # departures on days 10, 17 and 24
    body = await quote(client, exporter, ready_at=factories.iso(factories.future(30)))
    assert body["options"] == [] and body["left_out"] == []
    assert body["no_options_reason"]["code"] == "NO_DEPARTURE_IN_WINDOW"


async def test_the_demo_quotes_from_the_hanou_cfs(app, client, exporter):
    async with app.state.sessionmaker() as session:
        assert await seed_network(session) is True
        await session.commit()
    body = await quote(client, exporter, origin="CNWUH-HOC", destination="DEDUI",
                       cargo=[cargo_line(packages=20, length_cm=100, width_cm=100, height_cm=50, weight_kg=900)])
    assert body["options"] and body["no_options_reason"] is None
    assert {option["legs"][0]["from_hub"] for option in body["options"]} <= {"CNWUH-HOC", "CNWUH-WJS", "CNWUH-WUH"}
