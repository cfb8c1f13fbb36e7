"""Liberal where the trade is (issue 12, items 8 and 9): the forms of codes, dates and ETags that
freight people write are taken and answered in canonical form; a booking's nested objects can be
patched in part (JSON Merge Patch)."""

from __future__ import annotations

import pytest

from tests.factories import booking_body


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
