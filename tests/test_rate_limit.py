"""Rate limits: a token bucket per API key, and one per address that failed authentications drain.

Each test builds an app of its own with tiny limits and a clock it moves by hand (the
session's shared app has both limits off); the keys and the network are made through
the shared, unlimited app, on the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.bookings.models import Booking
from app.errors import PROBLEM_MEDIA_TYPE, TooManyRequests
from app.idempotency import IdempotencyRecord
from app.main import create_app
from app.ratelimit import RateLimiter, TokenBuckets
from tests.console_helpers import key_of, sign_in
from tests.factories import booking_body


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def limited_app(settings, clock) -> AsyncIterator[Callable[..., FastAPI]]:
    """``limited_app(**settings)``: a fresh app limited to 3 requests a key, refilled at 1 a second."""
    apps = []

    def make(**overrides) -> FastAPI:
        values = {"rate_limit_per_s": 1.0, "rate_limit_burst": 3, "rate_limit_auth_failures_per_s": 0} | overrides
        app = create_app(settings.model_copy(update=values))
        app.state.rate_limiter = RateLimiter(app.state.settings, clock=clock)
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.state.engine.dispose()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """``connect(app, address)``: a client of ``app`` that the app sees coming from ``address``."""
    clients = []

    def make(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://caravan.test"))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


async def count(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


def assert_throttled(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["type"] == "/problems/too-many-requests" and problem["status"] == 429
    assert problem["detail"].endswith(f"retry after {retry_after} s")
    assert response.headers["retry-after"] == str(retry_after)


async def test_a_burst_is_served_then_429_with_retry_after_as_a_problem(limited_app, connect, exporter):
    client = connect(limited_app())
    for remaining in (2, 1, 0):
        response = await client.get("/v1/bookings", headers=exporter)
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == str(remaining)
    response = await client.get("/v1/bookings", headers=exporter)
    assert_throttled(response, retry_after=1)
    assert "rate limit of 1 requests a second (bursts of 3)" in response.json()["detail"]
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-reset"] == "3"  # until the bucket is full again


async def test_the_bucket_refills_at_the_rate_and_never_past_the_burst(limited_app, connect, clock, exporter):
    client = connect(limited_app())
    for _ in range(3):
        assert (await client.get("/v1/bookings", headers=exporter)).status_code == 200
    clock.advance(0.5)
    assert_throttled(await client.get("/v1/bookings", headers=exporter), retry_after=1)  # half a token: rounded up
    clock.advance(0.5)
    assert (await client.get("/v1/bookings", headers=exporter)).status_code == 200
    assert (await client.get("/v1/bookings", headers=exporter)).status_code == 429
    clock.advance(3600)  # an hour idle buys the burst, not 3,600 requests
    statuses = [(await client.get("/v1/bookings", headers=exporter)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


async def test_each_key_has_its_own_bucket(limited_app, connect, exporter, other_exporter):
    client = connect(limited_app())
    statuses = [(await client.get("/v1/bookings", headers=exporter)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert (await client.get("/v1/bookings", headers=other_exporter)).status_code == 200


async def test_a_throttled_booking_writes_nothing_and_claims_no_idempotency_key(
    app, limited_app, connect, clock, exporter, network
):
    client = connect(limited_app())
    for _ in range(3):
        assert (await client.get("/v1/bookings", headers=exporter)).status_code == 200
    body = booking_body(network["departure_id"])
    assert_throttled(await client.post("/v1/bookings", json=body, headers=exporter), retry_after=1)
    keyed = exporter | {"Idempotency-Key": "order-1"}
    assert_throttled(await client.post("/v1/bookings", json=body, headers=keyed), retry_after=1)
    assert await count(app, Booking) == 0
    assert await count(app, IdempotencyRecord) == 0

    clock.advance(1)
    # The retry with the same Idempotency-Key runs (a stored 429 would be replayed instead).
    response = await client.post("/v1/bookings", json=body, headers=keyed)
    assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert await count(app, Booking) == 1


async def test_a_request_with_an_idempotency_key_counts_once(limited_app, connect, exporter, network):
    client = connect(limited_app())
    keyed = exporter | {"Idempotency-Key": "order-2"}
    first = await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=keyed)
    assert first.status_code == 201 and first.headers["ratelimit-remaining"] == "2"
    replay = await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=keyed)
    assert replay.headers["idempotent-replayed"] == "true" and replay.headers["ratelimit-remaining"] == "1"


async def test_only_authenticated_responses_carry_the_fields(limited_app, connect, exporter):
    client = connect(limited_app())
    assert "ratelimit-limit" not in (await client.get("/healthz")).headers
    assert "ratelimit-limit" not in (await client.get("/v1/bookings")).headers  # 401
    response = await client.get("/v1/bookings/CVN00000000", headers=exporter)  # an error after authentication
    assert response.status_code == 404 and response.headers["ratelimit-remaining"] == "2"


async def test_a_rate_of_zero_turns_the_limits_off(limited_app, connect, exporter):
    client = connect(limited_app(rate_limit_per_s=0, rate_limit_auth_failures_per_s=0))
    for _ in range(20):
        response = await client.get("/v1/bookings", headers=exporter)
        assert response.status_code == 200 and "ratelimit-limit" not in response.headers
    for _ in range(30):
        assert (await client.get("/v1/bookings", headers={"Authorization": "Bearer cvn_guess"})).status_code == 401


async def test_failed_authentications_are_limited_per_address(limited_app, connect, clock, exporter, network):
    failures = {"rate_limit_per_s": 0, "rate_limit_auth_failures_per_s": 0.1, "rate_limit_auth_failures_burst": 3}
    app = limited_app(**failures)
    guesser, neighbour = connect(app, "203.0.113.7"), connect(app, "198.51.100.2")
    guess = {"Authorization": "Bearer cvn_guess"}
    for _ in range(10):  # valid keys do not drain the address's bucket
        assert (await guesser.get("/v1/bookings", headers=exporter)).status_code == 200
    for _ in range(3):
        assert (await guesser.get("/v1/bookings", headers=guess)).status_code == 401
    assert_throttled(await guesser.get("/v1/bookings", headers=guess), retry_after=10)
    # A valid key from that address is refused too: 200 against 429 would confirm a guess.
    assert_throttled(await guesser.get("/v1/bookings", headers=exporter), retry_after=10)
    keyed = exporter | {"Idempotency-Key": "order-3"}
    response = await guesser.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=keyed)
    assert_throttled(response, retry_after=10)
    assert await count(app, IdempotencyRecord) == 0
    assert (await guesser.get("/v1/bookings")).status_code == 429  # nor is a missing key answered
    # Another address is not affected.
    assert (await neighbour.get("/v1/bookings", headers=guess)).status_code == 401
    assert (await neighbour.get("/v1/bookings", headers=exporter)).status_code == 200
    clock.advance(10)
    assert (await guesser.get("/v1/bookings", headers=guess)).status_code == 401
    assert (await guesser.get("/v1/bookings", headers=guess)).status_code == 429


def test_failures_that_passed_the_check_together_are_all_paid_for(settings, clock):
    """Concurrent guesses all pass the check before any fails; each still costs a token, into debt."""
    limiter = RateLimiter(settings.model_copy(update={"rate_limit_auth_failures_per_s": 1.0,
                                                      "rate_limit_auth_failures_burst": 3}), clock=clock)
    scope = {"type": "http", "client": ("203.0.113.7", 1)}
    for _ in range(6):
        limiter.check_address(scope)
    for _ in range(6):
        limiter.authentication_failed(scope)
    with pytest.raises(TooManyRequests) as refused:
        limiter.check_address(scope)
    assert refused.value.retry_after_s == 4  # from -3 back to 1 token at 1 a second


def test_the_table_of_buckets_is_bounded_and_drops_the_least_recently_used(clock):
    buckets = TokenBuckets(rate=1.0, burst=5, max_buckets=3, clock=clock)
    for key in range(10_000):
        buckets.take(key)
    assert len(buckets) == 3

    buckets = TokenBuckets(rate=1.0, burst=5, max_buckets=3, clock=clock)
    for key in "abc":
        buckets.take(key)
    buckets.take("a")  # used again: "b" is now the least recently used
    buckets.take("d")
    assert len(buckets) == 3
    assert buckets.level("a") == 3 and buckets.level("b") == 5 and buckets.level("c") == 4


def test_the_openapi_document_declares_429_on_authenticated_routes(app):
    paths = app.openapi()["paths"]
    response = paths["/v1/bookings"]["post"]["responses"]["429"]
    assert PROBLEM_MEDIA_TYPE in response["content"] and "Retry-After" in response["headers"]
    assert "429" in paths["/v1/bookings"]["get"]["responses"]
    assert "429" not in paths["/healthz"]["get"]["responses"]


async def test_console_pages_count_against_the_signed_in_keys_limit(limited_app, connect, exporter):
    """The console's pages draw on the same bucket as the key's API requests (its sign-in is not counted)."""
    app = limited_app()
    client = connect(app)
    signed = await sign_in(client, key_of(exporter))
    assert signed.status_code in (302, 303), signed.text
    client.cookies.update(signed.cookies)
    for _ in range(3):
        assert (await client.get("/console/bookings")).status_code == 200
    page = await client.get("/console/bookings")
    assert page.status_code == 429
    # The API and the console share the key's one bucket.
    assert_throttled(await client.get("/v1/bookings", headers=exporter), retry_after=1)
