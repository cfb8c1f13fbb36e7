"""Liberal where the trade is (issue 12, items 8 and 9): the forms of codes, dates and ETags that
freight people write are taken and answered in canonical form; a booking's nested objects can be
patched in part (JSON Merge Patch)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests import factories
from tests.factories import booking_body, cargo_line


async def book(client, headers, departure_id, **overrides):
    response = await client.post("/v1/bookings", json=booking_body(departure_id, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response


# --- If-Match: the ETag as clients send it ---------------------------------------------------

@pytest.mark.parametrize("form", ["unquoted", "weak", "listed"])
async def test_if_match_takes_the_unquoted_and_weak_forms_of_the_etag(client, exporter, network, form):
    created = await book(client, exporter, network["departure_id"])
    reference, etag = created.json()["reference"], created.headers["etag"]
    given = {"unquoted": etag.strip('"'), "weak": f"W/{etag}", "listed": f'"other", {etag.strip(chr(34))}'}[form]
    amended = await client.patch(f"/v1/bookings/{reference}", json={"allow_rollover": True},
                                 headers=exporter | {"If-Match": given})
    assert amended.status_code == 200, amended.text
    assert amended.json()["version"] == 2 and amended.json()["allow_rollover"] is True


async def test_a_412_says_the_booking_changed_only_when_it_did(client, exporter, network):
    created = await book(client, exporter, network["departure_id"])
    reference, etag = created.json()["reference"], created.headers["etag"]
    path = f"/v1/bookings/{reference}"
    foreign = await client.patch(path, json={"allow_rollover": True}, headers=exporter | {"If-Match": '"CVNAAAAAAAA-v1"'})
    assert foreign.status_code == 412
    assert "changed" not in foreign.json()["detail"] and etag in foreign.json()["detail"]
    ahead = await client.patch(path, json={"allow_rollover": True}, headers=exporter | {"If-Match": f"{reference}-v7"})
    assert ahead.status_code == 412 and "changed" not in ahead.json()["detail"]
    assert (await client.patch(path, json={"allow_rollover": True}, headers=exporter | {"If-Match": etag})).status_code == 200
    stale = await client.patch(path, json={"allow_rollover": False}, headers=exporter | {"If-Match": etag.strip('"')})
    assert stale.status_code == 412
    assert stale.json()["detail"] == f'the booking changed since version 1; its ETag is now "{reference}-v2"'
    assert (await client.get(path, headers=exporter)).json()["allow_rollover"] is True


# --- codes as the trade writes them --------------------------------------------------------

async def test_hs_codes_with_dots_or_spaces_and_lower_case_places_are_answered_canonical(client, exporter, network):
    cargo = [cargo_line(hs_code="9505.10"), cargo_line(hs_code="9505 10 00"), cargo_line(hs_code="8471.30.0100")]
    created = (await book(client, exporter, network["departure_id"], origin="cnwuh-wjs", destination="dedui",
                          cargo=cargo)).json()
    assert [line["hs_code"] for line in created["cargo"]] == ["950510", "95051000", "8471300100"]
    assert (created["origin"], created["destination"]) == ("CNWUH-WJS", "DEDUI")
    stored = (await client.get(f"/v1/bookings/{created['reference']}", headers=exporter)).json()
    assert [line["hs_code"] for line in stored["cargo"]] == ["950510", "95051000", "8471300100"]


@pytest.mark.parametrize("hs_code", ["9505", "95.05", "9505..10", "9505.10.", ".950510", "9505-10", "95051012345"])
async def test_an_hs_code_still_needs_six_to_ten_digits(client, exporter, network, hs_code):
    body = booking_body(network["departure_id"], cargo=[cargo_line(hs_code=hs_code)])
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["cargo.0.hs_code"]


async def test_place_codes_in_paths_and_filters_take_either_case(client, exporter, network):
    hub = await client.get("/v1/hubs/cnwuh-wjs", headers=exporter)
    assert hub.status_code == 200 and hub.json()["code"] == "CNWUH-WJS"
    upper = (await client.get("/v1/departures?destination=DEDUI&origin=CNWUH", headers=exporter)).json()["items"]
    lower = (await client.get("/v1/departures?destination=dedui&origin=cnwuh", headers=exporter)).json()["items"]
    assert upper and [d["id"] for d in lower] == [d["id"] for d in upper]
    bad = await client.get("/v1/departures?destination=de-dui", headers=exporter)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "destination"


async def test_container_numbers_with_spaces_or_lower_case_are_stored_canonical(client, operator, exporter, network):
    departure_id = network["departure_id"]
    await book(client, exporter, departure_id)
    plan = await client.post(f"/v1/departures/{departure_id}/plan", headers=operator)
    assert plan.status_code in (200, 201), plan.text
    container_id = plan.json()["containers"][0]["id"]
    numbered = await client.patch(f"/v1/containers/{container_id}", json={"container_number": "csqu 305438 3"},
                                  headers=operator)
    assert numbered.status_code == 200, numbered.text
    assert numbered.json()["container_number"] == "CSQU3054383"
    wrong = await client.patch(f"/v1/containers/{container_id}", json={"container_number": "CSQU 305438 4"},
                               headers=operator)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "container_number"
    found = await client.get("/v1/events", params={"container": "csqu-305438-3"}, headers=operator)
    assert found.status_code == 200, found.text


async def test_an_event_location_in_lower_case_is_answered_canonical(client, operator, network):
    departure = network["departures"][0]
    body = {"event_type": "TRANSPORT", "event_classifier": "EST", "code": "ARRI", "location": "dedui",
            "event_datetime": departure["arrives_at"], "departure_id": departure["id"]}
    response = await client.post("/v1/events", json=body, headers=operator)
    assert response.status_code == 201, response.text
    assert response.json()["location"] == "DEDUI"


# --- a date where a day is meant ------------------------------------------------------------

def midnight_utc(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


async def test_a_quote_ready_on_a_date_is_ready_from_its_start_in_utc(client, exporter, network):
    day = (factories.future(1)).date().isoformat()
    response = await client.post("/v1/quotes", headers=exporter, json={
        "origin": "cnwuh", "destination": "dedui", "ready_at": day, "cargo": [cargo_line(hs_code="9505.10")]})
    assert response.status_code == 201, response.text
    quote = response.json()
    assert datetime.fromisoformat(quote["ready_at"].replace("Z", "+00:00")) == midnight_utc(day)
    assert (quote["origin"], quote["destination"]) == ("CNWUH", "DEDUI")
    assert quote["options"], quote
    for bad in ("2026-02-30", "2026-12-5", "1999-12-05"):
        refused = await client.post("/v1/quotes", headers=exporter, json={
            "origin": "CNWUH", "destination": "DEDUI", "ready_at": bad, "cargo": [cargo_line()]})
        assert refused.status_code == 422, bad
        assert [e["field"] for e in refused.json()["errors"]] == ["ready_at"], refused.text


async def test_a_rate_card_s_dates_cover_whole_days(client, operator, network):
    card = {"rate_per_cbm": "120.00", "valid_from": "2026-12-01", "valid_to": "2026-12-31"}
    response = await client.post("/v1/services/WUH-DUI/rates", json=card, headers=operator)
    assert response.status_code == 201, response.text
    read = response.json()
    assert datetime.fromisoformat(read["valid_from"].replace("Z", "+00:00")) == midnight_utc("2026-12-01")
    # valid_to excludes its instant: a date alone is the last day covered.
    assert datetime.fromisoformat(read["valid_to"].replace("Z", "+00:00")) == midnight_utc("2027-01-01")
    one_day = await client.post("/v1/services/WUH-DUI/rates", headers=operator,
                                json={"rate_per_cbm": "1.00", "valid_from": "2026-12-01", "valid_to": "2026-12-01"})
    assert one_day.status_code == 201, one_day.text


async def test_departure_filters_take_a_date(client, exporter, network):
    departures = network["departures"]
    second_day = datetime.fromisoformat(departures[1]["departs_at"].replace("Z", "+00:00")).date()
    after = await client.get(f"/v1/departures?departs_after={second_day.isoformat()}", headers=exporter)
    assert after.status_code == 200, after.text
    assert [d["id"] for d in after.json()["items"]] == [d["id"] for d in departures[1:]]
    before = await client.get(f"/v1/departures?departs_before={second_day.isoformat()}", headers=exporter)
    assert [d["id"] for d in before.json()["items"]] == [departures[0]["id"]]


async def test_the_schema_shows_what_is_taken(client):
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    hs_code = schema["CargoLineIn"]["properties"]["hs_code"]
    assert hs_code["pattern"] == "^[0-9]+([. ][0-9]+)*$" and "dots" in hs_code["description"]
    ready_at = schema["QuoteRequest"]["properties"]["ready_at"]
    assert {"type": "string", "format": "date"} in ready_at["anyOf"]
    origin = schema["QuoteRequest"]["properties"]["origin"]
    assert origin["pattern"].startswith("^[A-Za-z]{2}")
