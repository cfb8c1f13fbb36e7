"""An API key may be given an expiry when it is created (issue 12, item 19): it is refused with
401 from then on, everywhere a key is checked, and the key list shows when each key expires."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from app.accounts.models import ApiKey
from tests.factories import booking_body


async def _org(client, operator) -> int:
    response = await client.post("/v1/organizations", json={"name": "Rhein Forwarding", "role": "exporter"},
                                 headers=operator)
    return response.json()["id"]


async def test_a_key_with_an_expiry_works_until_then_and_is_listed_with_it(app, client, operator, network):
    org = await _org(client, operator)
    expires = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    body = {"scopes": ["bookings:read", "bookings:write", "events:read"], "expires_at": expires.isoformat()}
    created = await client.post(f"/v1/organizations/{org}/api-keys", json=body, headers=operator)
    assert created.status_code == 201, created.text
    assert datetime.fromisoformat(created.json()["expires_at"]) == expires
    forever = await client.post(f"/v1/organizations/{org}/api-keys", json={"scopes": ["bookings:read"]}, headers=operator)
    assert forever.json()["expires_at"] is None
    listed = (await client.get(f"/v1/organizations/{org}/api-keys", headers=operator)).json()["items"]
    assert [(k["id"], k["expires_at"] and datetime.fromisoformat(k["expires_at"])) for k in listed] == [
        (created.json()["id"], expires), (forever.json()["id"], None)]
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    assert (await client.get("/v1/bookings", headers=key)).status_code == 200

    async with app.state.sessionmaker() as session:  # time passes
        await session.execute(update(ApiKey).where(ApiKey.id == created.json()["id"])
                              .values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        await session.commit()
    response = await client.get("/v1/bookings", headers=key)
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    keyed = key | {"Idempotency-Key": "after-expiry"}  # the Idempotency-Key path checks keys on its own
    response = await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=keyed)
    assert response.status_code == 401, response.text
    assert (await client.get("/dcsa/tnt/v2/events", headers=key)).status_code == 401
    forever_key = {"Authorization": f"Bearer {forever.json()['key']}"}
    assert (await client.get("/v1/bookings", headers=forever_key)).status_code == 200


async def test_an_expiry_must_be_a_future_moment_with_a_time_zone(client, operator):
    org = await _org(client, operator)
    path = f"/v1/organizations/{org}/api-keys"
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    for expires_at in (past, "2027-01-01T00:00:00", "soon", 1800000000):
        response = await client.post(path, json={"scopes": ["bookings:read"], "expires_at": expires_at}, headers=operator)
        assert response.status_code == 422, (expires_at, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["expires_at"]
