"""Rate limits shared by API processes: on PostgreSQL a key's bucket is one database row, so two
processes (here two apps, each with its own engine and pool, as two processes would have) draw
on one limit; the embedded SQLite default keeps its buckets in memory and needs nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.main import create_app
from app.ratelimit import RateLimitBucket, SharedTokenBuckets, TokenBuckets
from tests.conftest import IS_POSTGRES, postgres_only

# A burst of 3 refilled so slowly that no token comes back during a test.
LIMITS = {"rate_limit_per_s": 0.001, "rate_limit_burst": 3, "rate_limit_auth_failures_per_s": 0}


@pytest.fixture
async def processes(settings) -> AsyncIterator[Callable[..., list[httpx.AsyncClient]]]:
    """``processes(n, **settings)``: clients of n separate apps on the test database."""
    apps: list[FastAPI] = []
    clients: list[httpx.AsyncClient] = []

    def make(n: int, **overrides) -> list[httpx.AsyncClient]:
        for _ in range(n):
            apps.append(create_app(settings.model_copy(update=LIMITS | overrides)))
            clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[-1]), base_url="http://caravan.test"))
        return clients[-n:]

    yield make
    for client in clients:
        await client.aclose()
    for app in apps:
        await app.state.engine.dispose()


@postgres_only
async def test_two_processes_share_one_key_limit(processes, exporter, other_exporter):
    first, second = processes(2)
    statuses = [(await client.get("/v1/bookings", headers=exporter)).status_code for client in (first, second) * 3]
    assert statuses == [200, 200, 200, 429, 429, 429]  # 3 for the key, not 3 per process
    refused = await second.get("/v1/bookings", headers=exporter)
    assert refused.headers["retry-after"] and refused.headers["ratelimit-remaining"] == "0"
    assert (await first.get("/v1/bookings", headers=other_exporter)).status_code == 200  # another key: its own bucket


@postgres_only
async def test_concurrent_requests_through_two_processes_get_exactly_the_burst(processes, exporter):
    clients = processes(2)
    responses = await asyncio.gather(*(clients[n % 2].get("/v1/bookings", headers=exporter) for n in range(12)))
    assert sorted(r.status_code for r in responses) == [200] * 3 + [429] * 9
    remaining = sorted(int(r.headers["ratelimit-remaining"]) for r in responses if r.status_code == 200)
    assert remaining == [0, 1, 2]  # each admitted request took its own token


@postgres_only
async def test_shared_buckets_can_be_turned_off_on_postgresql(processes, exporter):
    first, second = processes(2, rate_limit_shared=False)
    statuses = [(await client.get("/v1/bookings", headers=exporter)).status_code for client in (first, second) * 2]
    assert statuses == [200, 200, 200, 200]  # per process: 3 each


async def test_the_embedded_default_keeps_buckets_in_memory(processes, app, exporter):
    (client,) = processes(1)
    limiter = client._transport.app.state.rate_limiter  # type: ignore[attr-defined]
    assert isinstance(limiter.keys, SharedTokenBuckets if IS_POSTGRES else TokenBuckets)
    statuses = [(await client.get("/v1/bookings", headers=exporter)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    async with app.state.sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(RateLimitBucket))
    assert rows == (1 if IS_POSTGRES else 0)
