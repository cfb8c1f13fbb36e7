from tests import factories


async def test_hubs_services_departures_round_trip(client, operator, exporter, network):
    hubs = (await client.get("/v1/hubs", headers=exporter)).json()
    assert [h["code"] for h in hubs["items"]] == [h["code"] for h in factories.HUBS]
    assert hubs["items"][0]["country"] == "CN"
    service = (await client.get("/v1/services/WUH-DUI", headers=exporter)).json()
    assert [s["hub"] for s in service["stops"]] == ["CNAKL", "PLMAA"]
    departure = (await client.get(f"/v1/departures/{network['departure_id']}", headers=exporter)).json()
    assert departure["capacity_cbm"] == 66.0 and departure["available_cbm"] == 66.0
    assert [c["hub"] for c in departure["calls"]] == ["CNWUH-WJS", "CNAKL", "PLMAA", "DEDUI"]


async def test_departures_filter_by_place_and_window(client, operator, exporter, network):
    first, second, third = network["departures"]
    response = await client.get(
        "/v1/departures",
        params={"origin": "CNWUH", "destination": "DEDUI", "departs_after": second["departs_at"]},
        headers=exporter,
    )
    assert [d["id"] for d in response.json()["items"]] == [second["id"], third["id"]]
    response = await client.get(
        "/v1/departures", params={"departs_before": second["departs_at"]}, headers=exporter
    )
    assert [d["id"] for d in response.json()["items"]] == [first["id"]]
    response = await client.get("/v1/departures", params={"destination": "DEHAM"}, headers=exporter)
    assert response.json()["items"] == []


async def test_lists_page_with_a_stable_cursor(client, operator, exporter, network):
    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/departures", params=params, headers=exporter)).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [d["id"] for d in network["departures"]]
    bad = await client.get("/v1/departures", params={"cursor": "garbage!"}, headers=exporter)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


async def test_network_rules(client, operator, network):
    duplicate = await client.post("/v1/hubs", json=factories.HUBS[0], headers=operator)
    assert duplicate.status_code == 409
    mismatch = dict(factories.HUBS[0], code="CNSHA-YSH")
    assert (await client.post("/v1/hubs", json=mismatch, headers=operator)).status_code == 422
    bad_zone = dict(factories.HUBS[0], code="CNWUH-ABC", timezone="Mars/Olympus")
    response = await client.post("/v1/hubs", json=bad_zone, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "timezone"
    unknown_hub = factories.service_body("WUH-XXX", destination="DEHAM")
    response = await client.post("/v1/services", json=unknown_hub, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "destination"
    unknown_type = factories.service_body("WUH-YYY", container_types=["45XX"])
    response = await client.post("/v1/services", json=unknown_type, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "container_types.0"
    no_reefer_box = factories.service_body("WUH-ZZZ", container_types=["40HC"], reefer_allowed=True)
    response = await client.post("/v1/services", json=no_reefer_box, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reefer_allowed"
    backwards = factories.departure_body(days_out=40)
    backwards["arrives_at"], backwards["departs_at"] = backwards["departs_at"], backwards["arrives_at"]
    assert (await client.post("/v1/departures", json=backwards, headers=operator)).status_code == 422
    naive = factories.departure_body(days_out=41)
    naive["departs_at"] = naive["departs_at"][:19]
    response = await client.post("/v1/departures", json=naive, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "departs_at"
    twice = factories.departure_body(days_out=10)
    twice["departs_at"] = network["departures"][0]["departs_at"]
    assert (await client.post("/v1/departures", json=twice, headers=operator)).status_code == 409


async def test_departure_status_machine_and_capacity(client, operator, exporter, network):
    departure_id = network["departure_id"]
    booked = await client.post(
        "/v1/bookings", json=factories.booking_body(departure_id, cargo=[factories.line_of_cbm(40)]), headers=exporter
    )
    assert booked.json()["status"] == "CONFIRMED"
    shrink = await client.patch(f"/v1/departures/{departure_id}", json={"capacity_teu": 1}, headers=operator)
    assert shrink.status_code == 409
    closed = await client.patch(f"/v1/departures/{departure_id}", json={"status": "CLOSED"}, headers=operator)
    assert closed.json()["status"] == "CLOSED"
    arrived = await client.patch(f"/v1/departures/{departure_id}", json={"status": "ARRIVED"}, headers=operator)
    assert arrived.status_code == 409
    assert (await client.patch(f"/v1/departures/{departure_id}", json={"status": "OPEN"}, headers=exporter)).status_code == 403


async def test_capacity_cannot_drop_below_what_the_bookings_pack_into(client, operator, exporter, network):
    departure_id = network["departure_id"]  # 2 TEU
    for destination in ("DEDUI", "PLMAA"):  # 20 CBM in all, but two destinations: two containers
        body = factories.booking_body(departure_id, destination=destination, cargo=[factories.line_of_cbm(10)])
        assert (await client.post("/v1/bookings", json=body, headers=exporter)).json()["status"] == "CONFIRMED"
    one_box = await client.patch(f"/v1/departures/{departure_id}", json={"capacity_teu": 1}, headers=operator)
    assert one_box.status_code == 409  # 20 CBM would fit 33 CBM: a CBM rule would have allowed it
    assert (await client.get(f"/v1/departures/{departure_id}", headers=operator)).json()["capacity_teu"] == 2
    more = await client.patch(f"/v1/departures/{departure_id}", json={"capacity_teu": 4}, headers=operator)
    assert more.status_code == 200 and more.json()["capacity_teu"] == 4


async def test_cancelling_a_departure_settles_its_bookings(client, operator, exporter, network):
    first_id, second_id = network["departures"][0]["id"], network["departures"][1]["id"]

    async def book(**overrides):
        body = factories.booking_body(first_id, cargo=[factories.line_of_cbm(5)], **overrides)
        response = await client.post("/v1/bookings", json=body, headers=exporter)
        assert response.status_code == 201
        return response.json()["reference"]

    stays = await book()
    rolls = await book(allow_rollover=True)
    received = await book()
    assert (await client.post(f"/v1/bookings/{received}/receipt", json={"pieces": 1, "weight_kg": 10, "volume_cbm": 5},
                              headers=operator)).status_code == 200
    cancelled = await client.patch(f"/v1/departures/{first_id}", json={"status": "CANCELLED"}, headers=operator)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"

    async def get(reference):
        return (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()

    assert (await get(stays))["status"] == "CANCELLED" and "cancelled by the hub" in (await get(stays))["status_reason"]
    for reference, status in ((rolls, "CONFIRMED"), (received, "CARGO_RECEIVED")):
        moved = await get(reference)
        assert moved["status"] == status and moved["departure_id"] == second_id
        assert f"moved to departure {second_id}" in moved["status_reason"]
    tracking = (await client.get(f"/v1/bookings/{rolls}/tracking", headers=exporter)).json()
    assert {leg["departure_id"] for leg in tracking["legs"]} == {second_id}
    assert any("moved to departure" in (e.get("reason") or "") for e in tracking["events"])
    second = (await client.get(f"/v1/departures/{second_id}", headers=exporter)).json()
    assert second["booked_cbm"] == 10.0


async def test_a_service_as_api_md_lists_it_needs_no_name(client, operator, network):
    body = factories.service_body()
    body["code"] = "WUH-DUI-B"
    del body["name"]
    response = await client.post("/v1/services", json=body, headers=operator)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "WUH-DUI-B"


async def test_container_types_are_listed_in_pages_like_every_list(client, exporter, network):
    first = await client.get("/v1/container-types", params={"limit": 1}, headers=exporter)
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = (await client.get("/v1/container-types", params={"cursor": page["next_cursor"]}, headers=exporter)).json()
    codes = [page["items"][0]["code"], *(t["code"] for t in rest["items"])]
    assert len(codes) == len(set(codes)) == len(factories.CONTAINER_TYPES)


async def test_departures_are_found_from_and_to_any_call_of_the_line_in_order(client, exporter, network):
    async def ids(**params):
        response = await client.get("/v1/departures", params=params, headers=exporter)
        assert response.status_code == 200
        return {d["id"] for d in response.json()["items"]}

    every = await ids()
    assert every and await ids(origin="CNAKL") == every  # boarding at a stop on the line
    assert await ids(destination="PLMAA") == every  # leaving the train at a stop
    assert await ids(origin="CNAKL", destination="PLMAA") == every
    assert await ids(origin="CNWUH", destination="DEDUI") == every  # by UN/LOCODE
    assert await ids(origin="PLMAA", destination="CNAKL") == set()  # the line does not run backwards
    assert await ids(origin="DEDUI") == set()  # nothing boards at the terminus
    assert await ids(destination="CNWUH-WJS") == set()  # nor leaves at the origin


async def test_services_hubs_and_container_types_cannot_be_changed_once_created(app):
    """The booking path keeps services (with stops, hubs) and container types per process
    (app/network/service.py, app/consolidation/space.py), keyed by id and creation time:
    right only while the API offers no way to change them. Adding one means revisiting
    those caches. The emissions figures (PUT …/emissions: coordinates, distances, intensities) may
    change: nothing caches them, app/network/emissions.py reads them afresh per request."""
    immutable = ("/v1/services", "/v1/hubs", "/v1/container-types")
    paths = app.openapi()["paths"]
    assert "patch" in paths["/v1/departures/{departure_id}"]  # (departures do change: the check can see it)
    changing = [
        (method, path)
        for path, operations in paths.items()
        for method in operations
        if method in ("put", "patch", "delete") and path.startswith(immutable) and not path.endswith("/emissions")
    ]
    assert changing == []


async def test_places_are_named_by_hub_code_or_by_a_un_locode_that_names_one_hub(client, operator, exporter, network):
    """API.md: places by UN/LOCODE or hub code. A LOCODE several hubs share names none of them,
    except in a booking, where the departure's route tells which of them is meant."""
    assert (await client.get("/v1/hubs/CNWUH", headers=exporter)).json()["code"] == "CNWUH-WJS"
    body = factories.service_body()
    body |= {"code": "WUH-DUI-L", "origin": "CNWUH", "destination": "DEDUI"}
    response = await client.post("/v1/services", json=body, headers=operator)
    assert response.status_code == 201, response.text
    assert response.json()["origin"] == "CNWUH-WJS"
    twice = body | {"code": "WUH-DUI-T", "stops": [{"hub": "CNWUH-WJS", "offset_hours": 5}]}
    response = await client.post("/v1/services", json=twice, headers=operator)
    assert response.status_code == 422 and "each hub once" in response.json()["detail"]

    river_port = {"code": "CNWUH-YLO", "name": "Wuhan Yangluo", "kind": "RIVER_PORT", "un_locode": "CNWUH",
                  "timezone": "Asia/Shanghai", "handling_hours": 12}
    assert (await client.post("/v1/hubs", json=river_port, headers=operator)).status_code == 201
    shared = await client.get("/v1/hubs/CNWUH", headers=exporter)
    assert shared.status_code == 422 and "CNWUH-WJS, CNWUH-YLO" in shared.json()["detail"]
    body["code"] = "WUH-DUI-M"
    ambiguous = await client.post("/v1/services", json=body, headers=operator)
    assert ambiguous.status_code == 422 and ambiguous.json()["errors"][0]["field"] == "origin"

    # The route of the departure calls at one of Wuhan's hubs: CNWUH is that one.
    booking = factories.booking_body(network["departure_id"]) | {"origin": "CNWUH", "destination": "PLMAA"}
    response = await client.post("/v1/bookings", json=booking, headers=exporter)
    assert response.status_code == 201, response.text
    assert (response.json()["origin"], response.json()["destination"]) == ("CNWUH-WJS", "PLMAA")
    unknown = await client.post("/v1/bookings", json=booking | {"origin": "CNXXX"}, headers=exporter)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "origin"
