from app.accounts.service import hash_key
from tests import factories


async def test_missing_bad_and_revoked_keys_are_401(client, operator):
    assert (await client.get("/v1/hubs")).status_code == 401
    response = await client.get("/v1/hubs", headers={"Authorization": "Bearer cvn_not-a-key"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert (await client.get("/v1/hubs", headers={"Authorization": "Basic abc"})).status_code == 401
    assert (await client.get("/v1/hubs", headers=operator)).status_code == 200


async def test_key_is_shown_once_and_stored_hashed(app, client, operator):
    org = (await client.post("/v1/organizations", json={"name": "Acme", "role": "exporter"}, headers=operator)).json()
    created = await client.post(f"/v1/organizations/{org['id']}/api-keys", json={"scopes": ["bookings:read"]}, headers=operator)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("cvn_") and len(key) > 40
    listed = (await client.get(f"/v1/organizations/{org['id']}/api-keys", headers=operator)).json()["items"]
    assert listed and all("key" not in item for item in listed)
    from sqlalchemy import text

    async with app.state.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT key_hash FROM api_keys WHERE id = :id"), {"id": created.json()["id"]})).scalar()
    assert stored == hash_key(key) and key not in stored


async def test_revoked_key_stops_working(client, operator):
    headers = await factories.org_headers(client, operator, "Acme", "exporter")
    assert (await client.get("/v1/bookings", headers=headers)).status_code == 200
    org_keys = await client.get("/v1/organizations", headers=operator)
    org_id = org_keys.json()["items"][-1]["id"]
    key_id = (await client.get(f"/v1/organizations/{org_id}/api-keys", headers=operator)).json()["items"][0]["id"]
    assert (await client.delete(f"/v1/api-keys/{key_id}", headers=operator)).status_code == 204
    assert (await client.get("/v1/bookings", headers=headers)).status_code == 401


async def test_missing_scope_is_403(client, operator, network):
    read_only = await factories.org_headers(client, operator, "Reader", "exporter", scopes=["bookings:read"])
    response = await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=read_only)
    assert response.status_code == 403
    assert "bookings:write" in response.json()["detail"]


async def test_a_key_that_may_not_call_a_route_gets_403_before_its_input_is_judged(client, operator, exporter):
    """Scope and role are checked before validation: the answer does not depend on what was sent."""
    read_only = await factories.org_headers(client, operator, "Reader", "exporter", scopes=["bookings:read"])
    invalid_booking = {"departure_id": "soon", "cargo": [{"weight_kg": -5}]}
    response = await client.post("/v1/bookings", json=invalid_booking, headers=read_only)
    assert response.status_code == 403 and "bookings:write" in response.json()["detail"]
    # An exporter's key, an invalid hub and an invalid path parameter: still 403 (operator only).
    assert (await client.post("/v1/hubs", json={"code": 7}, headers=exporter)).status_code == 403
    response = await client.patch("/v1/departures/not-a-number", json={"capacity_teu": -1}, headers=exporter)
    assert response.status_code == 403
    # With the scope, the same invalid body is judged: 422 naming the field.
    response = await client.post("/v1/bookings", json=invalid_booking, headers=exporter)
    assert response.status_code == 422
    assert "departure_id" in {error["field"] for error in response.json()["errors"]}


async def test_exporter_cannot_write_the_network_or_hold_operator_scopes(client, operator, exporter):
    response = await client.post("/v1/hubs", json=factories.HUBS[0], headers=exporter)
    assert response.status_code == 403
    org = (await client.post("/v1/organizations", json={"name": "Acme", "role": "exporter"}, headers=operator)).json()
    response = await client.post(
        f"/v1/organizations/{org['id']}/api-keys", json={"scopes": ["bookings:read", "network:write"]}, headers=operator
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "scopes.1"


async def test_exporter_cannot_create_organisations_or_revoke_others_keys(client, operator, exporter, other_exporter):
    assert (await client.post("/v1/organizations", json={"name": "X", "role": "operator"}, headers=exporter)).status_code == 403
    # The operator's own key (id 1) is not the exporter's to revoke, and is not revealed.
    assert (await client.delete("/v1/api-keys/1", headers=exporter)).status_code == 404
    assert (await client.get("/v1/hubs", headers=operator)).status_code == 200


async def test_a_key_revokes_itself_but_not_its_organisations_other_keys(client, operator):
    org = (await client.post("/v1/organizations", json={"name": "Hubei Fitness", "role": "exporter"}, headers=operator)).json()

    async def new_key(scopes):
        created = await client.post(f"/v1/organizations/{org['id']}/api-keys", json={"scopes": scopes}, headers=operator)
        assert created.status_code == 201
        return created.json()["id"], {"Authorization": f"Bearer {created.json()['key']}"}

    writer_id, writer = await new_key(["bookings:read", "bookings:write"])
    reader_id, reader = await new_key(["bookings:read"])
    # A read-only key of the same organisation cannot take the booking key away.
    response = await client.delete(f"/v1/api-keys/{writer_id}", headers=reader)
    assert response.status_code == 403
    assert (await client.get("/v1/bookings", headers=writer)).status_code == 200
    # Any key may revoke itself; the operator revokes any key.
    assert (await client.delete(f"/v1/api-keys/{reader_id}", headers=reader)).status_code == 204
    assert (await client.get("/v1/bookings", headers=reader)).status_code == 401
    assert (await client.delete(f"/v1/api-keys/{writer_id}", headers=operator)).status_code == 204
    assert (await client.get("/v1/bookings", headers=writer)).status_code == 401


async def test_cli_bootstrap_prints_a_working_key(client, database_url):
    import asyncio
    import os
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "admin", "create-org", "--name", "Bootstrap Hub", "--role", "operator",
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "CARAVAN_DATABASE_URL": database_url},
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    key = next(line for line in out.decode().splitlines() if "cvn_" in line).split()[-1]
    response = await client.post(
        "/v1/hubs", json=factories.HUBS[0], headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201
