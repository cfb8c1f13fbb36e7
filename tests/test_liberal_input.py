"""Liberal where the trade is (issue 12, items 8 and 9): the forms of codes, dates and ETags that
freight people write are taken and answered in canonical form; a booking's nested objects can be
patched in part (JSON Merge Patch)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

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


# --- PATCH with JSON Merge Patch (RFC 7396) ---------------------------------------------------

MERGE_PATCH = "application/merge-patch+json"


async def merge_patch(client, headers, reference: str, etag: str, patch) -> object:
    return await client.patch(f"/v1/bookings/{reference}", content=json.dumps(patch),
                              headers=headers | {"If-Match": etag, "Content-Type": MERGE_PATCH})


async def test_a_merge_patch_changes_one_member_of_the_consignee(client, exporter, network):
    created = await book(client, exporter, network["departure_id"])
    before = created.json()
    patched = await merge_patch(client, exporter, before["reference"], created.headers["etag"],
                                {"consignee": {"phone": "+49 203 123456"}})
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["consignee"] == before["consignee"] | {"phone": "+49 203 123456"}
    assert after["version"] == 2 and patched.headers["etag"] == f'"{before["reference"]}-v2"'
    for unchanged in ("cargo", "references", "allow_rollover", "price", "chargeable_cbm"):
        assert after[unchanged] == before[unchanged], unchanged
    removed = await merge_patch(client, exporter, before["reference"], patched.headers["etag"],
                                {"consignee": {"phone": None, "city": "Duisburg-Ruhrort"}, "references": None})
    assert removed.status_code == 200, removed.text
    assert removed.json()["consignee"] == before["consignee"] | {"phone": None, "city": "Duisburg-Ruhrort"}
    assert removed.json()["references"] == []


async def test_plain_json_still_replaces_the_consignee_whole(client, exporter, network):
    created = await book(client, exporter, network["departure_id"])
    reference, etag = created.json()["reference"], created.headers["etag"]
    partial = await client.patch(f"/v1/bookings/{reference}", json={"consignee": {"phone": "+49 203 123456"}},
                                 headers=exporter | {"If-Match": etag})
    assert partial.status_code == 422
    assert {e["field"] for e in partial.json()["errors"]} == {"consignee.name", "consignee.address", "consignee.city",
                                                             "consignee.country"}


@pytest.mark.parametrize(("patch", "field"), [
    ({"consignee": {"name": None}}, "consignee.name"),
    ({"consignee": {"country": None, "phone": "+49 1"}}, "consignee.country"),
    ({"consignee": None}, "consignee"),
    ({"cargo": None}, "cargo"),
    ({"consignee": {"phone": "call me"}}, "consignee.phone"),
    ({"consignee": {"fax": "+49 1"}}, "consignee.fax"),
    ({"cargo": [{"hs_code": "950510"}]}, "cargo.0.description"),
    ({"allow_rollover": "yes"}, "allow_rollover"),
    ({}, "body"),
])
async def test_a_merge_patch_must_leave_a_valid_booking(client, exporter, network, patch, field):
    created = await book(client, exporter, network["departure_id"])
    reference = created.json()["reference"]
    refused = await merge_patch(client, exporter, reference, created.headers["etag"], patch)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in refused.json()["errors"]], refused.text
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json() == created.json()


async def test_a_merge_patch_needs_if_match_like_any_amendment(client, exporter, network):
    created = await book(client, exporter, network["departure_id"])
    reference = created.json()["reference"]
    bare = await client.patch(f"/v1/bookings/{reference}", content=json.dumps({"allow_rollover": True}),
                              headers=exporter | {"Content-Type": MERGE_PATCH})
    assert bare.status_code == 428
    stale = await merge_patch(client, exporter, reference, f"{reference}-v0", {"allow_rollover": True})
    assert stale.status_code == 412


async def test_the_schema_documents_both_kinds_of_patch(client):
    document = (await client.get("/openapi.json")).json()
    content = document["paths"]["/v1/bookings/{reference}"]["patch"]["requestBody"]["content"]
    assert set(content) == {"application/json", MERGE_PATCH}
    assert content[MERGE_PATCH]["schema"] == {"$ref": "#/components/schemas/BookingMergePatch"}
    consignee = document["components"]["schemas"]["ConsigneePatch"]
    assert not consignee.get("required")
    assert content["application/json"]["schema"]["properties"]["consignee"]["anyOf"][0]["required"] == [
        "name", "address", "city", "country"]
