"""A good API key is looked up once per process for a short, stated time; a revocation here takes effect at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import update

from app.accounts.models import ApiKey
from app.config import Settings
from app.db import utcnow
from app.main import create_app
from tests import factories


@pytest.fixture
async def cached_client(settings):
    cached = create_app(Settings(**{**settings.model_dump(), "api_key_cache_s": 0.5}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cached), base_url="http://cached.test") as c:
        yield c
    await cached.state.engine.dispose()


async def new_key(client, operator) -> tuple[int, dict]:
    org = (await client.post("/v1/organizations", json={"name": "Cache Test Exports", "role": "exporter"},
                             headers=operator)).json()["id"]
    created = (await client.post(f"/v1/organizations/{org}/api-keys", json={"scopes": ["bookings:read"]},
                                 headers=operator)).json()
    return created["id"], {"Authorization": f"Bearer {created['key']}"}


async def test_a_key_revoked_in_this_process_is_refused_at_once(cached_client, operator):
    key_id, key = await new_key(cached_client, operator)
    assert (await cached_client.get("/v1/bookings", headers=key)).status_code == 200  # now cached
    revoked = await cached_client.delete(f"/v1/api-keys/{key_id}", headers=operator)
    assert revoked.status_code in (200, 204), revoked.text
    assert (await cached_client.get("/v1/bookings", headers=key)).status_code == 401


async def test_a_key_revoked_elsewhere_is_refused_once_the_stated_time_has_passed(app, cached_client, operator):
    key_id, key = await new_key(cached_client, operator)
    assert (await cached_client.get("/v1/bookings", headers=key)).status_code == 200
    async with app.state.sessionmaker() as session:  # another process (a worker, the CLI) revokes it
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
        await session.commit()
    assert (await cached_client.get("/v1/bookings", headers=key)).status_code == 200  # within the 0.5 s
    await asyncio.sleep(0.6)
    assert (await cached_client.get("/v1/bookings", headers=key)).status_code == 401
