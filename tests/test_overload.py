"""Overload is a 503 with Retry-After, never a 500 and never a 30-second wait."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.config import ADMISSION_CPU_LIMIT, Settings
from app.main import create_app
from app.overload import GROWTH, MIN_LIMIT, TICK_S, Admission
from app.routing import quotes
from tests import factories
from tests.factories import cargo_line
from tests.live import LiveServer


def _asgi_call(path: str = "/v1/x") -> dict:
    return {"type": "http", "method": "GET", "path": path, "headers": []}


async def _collect(app, path: str = "/v1/x") -> tuple[int, dict, bytes]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    await app(_asgi_call(path), receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


async def test_a_request_that_finds_no_place_in_time_is_refused_with_503_and_retry_after():
    release = asyncio.Event()

    async def slow_app(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admission = Admission(slow_app, limit=1, wait_s=0.05)
    first = asyncio.create_task(_collect(admission))
    await asyncio.sleep(0.01)
    status, headers, body = await _collect(admission)  # the one place is taken
    assert status == 503 and headers[b"retry-after"] == b"1"
    assert headers[b"content-type"] == b"application/problem+json" and b"at capacity" in body
    release.set()
    assert (await first)[0] == 200
    assert admission.in_flight == 0
    assert (await _collect(admission))[0] == 200  # the place is free again


async def test_healthz_is_never_held_back():
    release = asyncio.Event()

    async def app(scope, receive, send):
        if scope["path"] != "/healthz":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admission = Admission(app, limit=1, wait_s=0.01)
    held = asyncio.create_task(_collect(admission, "/v1/bookings"))
    await asyncio.sleep(0.01)  # the one place is taken
    assert (await _collect(admission, "/healthz"))[0] == 200
    assert (await _collect(admission, "/v1/bookings"))[0] == 503
    release.set()
    assert (await held)[0] == 200


async def test_while_the_loop_runs_late_the_bound_shrinks_and_refusals_come_at_once():
    """A CPU that cannot keep up shows as timers firing late: the bound falls to the minimum, so a
    request past it is refused without waiting for work the CPU could not finish in time; when the
    loop keeps time again the bound grows back to the configured limit."""
    release = asyncio.Event()

    async def app(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admission = Admission(app, limit=16, wait_s=0.2)
    running = [asyncio.create_task(_collect(admission)) for _ in range(2)]
    await asyncio.sleep(0.05)
    short = True

    async def busy_cpu():  # holds the loop 0.1 s at a time: every tick fires late
        while short:
            time.sleep(0.1)
            await asyncio.sleep(0.001)

    hog = asyncio.create_task(busy_cpu())
    for _ in range(40):
        await asyncio.sleep(0.001)
        if admission.current_limit == MIN_LIMIT:
            break
    assert admission.current_limit == MIN_LIMIT and admission.in_flight == 2
    started = time.monotonic()
    assert (await _collect(admission))[0] == 503  # refused after its short wait, not queued behind the CPU
    assert time.monotonic() - started < 1.0
    short = False
    await hog
    release.set()
    assert [(await task)[0] for task in running] == [200, 200]
    await asyncio.sleep((16 - MIN_LIMIT) / GROWTH * TICK_S + 1.0)  # punctual again
    assert admission.current_limit == 16


async def test_a_client_that_leaves_while_waiting_gives_its_place_back():
    release = asyncio.Event()

    async def app(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admission = Admission(app, limit=1, wait_s=5, adaptive=False)
    first = asyncio.create_task(_collect(admission))
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(_collect(admission))
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    assert (await first)[0] == 200
    assert admission.in_flight == 0 and (await _collect(admission))[0] == 200


async def test_a_pool_timeout_that_escapes_the_app_is_a_503():
    async def starved(scope, receive, send):
        raise PoolTimeout("QueuePool limit of size 1 overflow 0 reached, connection timed out")

    status, headers, _ = await _collect(Admission(starved, limit=4, wait_s=0.1))
    assert status == 503 and headers[b"retry-after"] == b"1"


async def test_a_pool_timeout_inside_a_request_is_a_503_problem(client, exporter, network, monkeypatch):
    async def starved(*args, **kwargs):
        raise PoolTimeout("QueuePool limit of size 10 overflow 20 reached, connection timed out, timeout 30.00")

    monkeypatch.setattr(quotes, "create_quote", starved)
    response = await client.post("/v1/quotes", headers=exporter, json={
        "origin": "CNWUH", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)), "cargo": [cargo_line()]})
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1" and response.json()["status"] == 503


async def test_503_is_declared_in_openapi(client):
    operation = (await client.get("/openapi.json")).json()["paths"]["/v1/quotes"]["post"]
    assert "Retry-After" in operation["responses"]["503"]["headers"]


@pytest.fixture
def crowded_server(settings):
    tight = Settings(**{**settings.model_dump(), "admission_limit": 2, "admission_wait_s": 0.05, "db_pool_size": 2})
    server = LiveServer(create_app(tight)).start()
    yield server
    server.stop()


async def test_a_server_driven_past_its_limit_answers_only_2xx_or_503(crowded_server, client, operator, exporter,
                                                                       network):
    body = {"origin": "CNWUH", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)),
            "cargo": [cargo_line()]}
    async with httpx.AsyncClient(base_url=crowded_server.url, timeout=10) as live:
        answers = await asyncio.gather(*(live.post("/v1/quotes", json=body, headers=exporter) for _ in range(40)))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 503}, statuses
    assert 201 in statuses and 503 in statuses, statuses
    refused = next(a for a in answers if a.status_code == 503)
    assert refused.headers["retry-after"] == "1" and refused.json()["type"] == "/problems/overloaded"


def test_the_bound_follows_the_pool_but_never_past_one_cores_worth():
    assert Settings(db_pool_size=2).requests_in_flight == 3  # a request and the short reads beside it
    assert Settings(db_pool_size=16).requests_in_flight == ADMISSION_CPU_LIMIT
    assert Settings(db_pool_size=16, admission_limit=20).requests_in_flight == 20  # as the operator sets it
