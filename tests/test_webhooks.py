"""Webhooks: subscriptions, the outbox written with the change, signed delivery with retries,
a worker killed mid-batch, and two workers sharing the outbox on PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.webhooks import signing
from app.webhooks.deliveries import backoff_seconds
from app.webhooks.models import WebhookDelivery, WebhookSubscription
from app.webhooks.signing import sign
from app.webhooks.worker import Worker, delivery_client
from tests.conftest import postgres_only
from tests.factories import booking_body
from tests.live import LiveServer
from tests.webhook_receiver import Receiver, verify

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def allow_private(app, monkeypatch):
    """Loopback callback URLs are allowed (the receivers below run on 127.0.0.1)."""
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_allow_private_urls": True}))


def fast_settings(database_url: str, **overrides) -> Settings:
    values = dict(database_url=database_url, webhook_allow_private_urls=True, webhook_require_https=False,
                  webhook_retry_base_seconds=0.02,
                  webhook_retry_max_seconds=0.1, webhook_poll_seconds=0.02, webhook_timeout_seconds=5)
    return Settings(**(values | overrides))


@pytest.fixture
def receiver_server():
    servers = []

    def start(receiver: Receiver) -> LiveServer:
        server = LiveServer(receiver).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


async def subscribe(client, headers, url: str, event_types=("SHIPMENT", "TRANSPORT")) -> dict:
    response = await client.post("/v1/webhook-subscriptions", json={"url": url, "event_types": list(event_types)},
                                 headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def deliveries(client, headers, subscription_id: int) -> list[dict]:
    response = await client.get(f"/v1/webhook-subscriptions/{subscription_id}/deliveries", params={"limit": 100},
                                headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def pending(app) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "PENDING")
        )


async def drain(app, worker: Worker, deadline_s: float = 30) -> None:
    """Run worker rounds until nothing is pending (the deadline only guards against a hang)."""
    deadline = time.monotonic() + deadline_s
    while await pending(app):
        assert time.monotonic() < deadline, "deliveries still pending"
        if not await worker.run_once():
            await asyncio.sleep(0.02)


async def book_many(client, headers, departure_id: int, count: int) -> list[str]:
    references = []
    for _ in range(count):
        response = await client.post("/v1/bookings", json=booking_body(departure_id), headers=headers)
        assert response.status_code == 201, response.text
        references.append(response.json()["reference"])
    return references


# --- signing ----------------------------------------------------------------------------

def test_signature_follows_standard_webhooks():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    # The Standard Webhooks reference test vector.
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_backoff_grows_with_jitter_and_a_cap():
    for attempt in range(1, 12):
        delay = backoff_seconds(attempt, 10, 3600)
        ceiling = min(3600, 10 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


# --- subscriptions --------------------------------------------------------------------------

async def test_subscription_lifecycle(client, exporter, other_exporter, allow_private):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+=*", created["secret"])
    assert len(base64.b64decode(created["secret"][6:])) == 32
    listed = (await client.get("/v1/webhook-subscriptions", headers=exporter)).json()["items"]
    assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]
    assert (await client.get(f"/v1/webhook-subscriptions/{created['id']}", headers=other_exporter)).status_code == 404
    assert (await client.delete(f"/v1/webhook-subscriptions/{created['id']}", headers=other_exporter)).status_code == 404
    assert (await client.delete(f"/v1/webhook-subscriptions/{created['id']}", headers=exporter)).status_code == 204
    assert (await client.get(f"/v1/webhook-subscriptions/{created['id']}", headers=exporter)).status_code == 404
    assert (await client.get("/v1/webhook-subscriptions", headers=exporter)).json()["items"] == []


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook", "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data", "http://192.168.1.1/", "http://0.0.0.0/", "http://nonexistent.invalid/",
    "ftp://example.com/hook", "not a url",
])
async def test_private_and_bad_callback_urls_are_refused(client, app, exporter, url):
    response = await client.post("/v1/webhook-subscriptions", json={"url": url, "event_types": ["SHIPMENT"]},
                                 headers=exporter)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["url"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


# --- the public address rule and IPv6 forms that carry an IPv4 address ---------------------------

# IPv6 addresses the public address rule refuses, each with what its refusal says: forms judged by
# the IPv4 address they carry (IPv4-mapped, NAT64, 6to4) carrying a private one, forms refused
# whatever they carry (IPv4-compatible, NAT64 local-use, Teredo), then IETF-reserved space (here
# SIIT's ::ffff:0:0:0/96) and fec0::/10, which Python 3.11.7 calls global. ``CALLED_IPV6``: judged
# forms carrying a public IPv4 address, which are called.
REFUSED_IPV6 = [
    pytest.param("::ffff:10.0.0.1", "IPv4-mapped for 10.0.0.1", id="mapped-private"),
    pytest.param("::127.0.0.1", "IPv4-compatible", id="compatible-loopback"),
    pytest.param("::8.8.8.8", "IPv4-compatible", id="compatible-public"),
    pytest.param("64:ff9b::7f00:1", "NAT64 for 127.0.0.1", id="nat64-loopback"),
    pytest.param("64:ff9b::a9fe:a9fe", "NAT64 for 169.254.169.254", id="nat64-link-local"),
    pytest.param("64:ff9b::a00:1", "NAT64 for 10.0.0.1", id="nat64-private"),
    pytest.param("64:ff9b:1::808:808", "NAT64 local-use", id="nat64-local-use"),
    pytest.param("2002:7f00:1::1", "6to4 for 127.0.0.1", id="6to4-loopback"),
    pytest.param("2002:c0a8:101::1", "6to4 for 192.168.1.1", id="6to4-private"),
    pytest.param("2002:a9fe:a9fe::1", "6to4 for 169.254.169.254", id="6to4-link-local"),
    pytest.param("2001:0:808:808::80ff:fffe", "Teredo", id="teredo-loopback-client"),
    pytest.param("2001:0:808:808::f7f7:fbfb", "Teredo", id="teredo-public"),  # server 8.8.8.8, client 8.8.4.4
    pytest.param("::ffff:0:7f00:1", "reserved address", id="siit-translated"),
    pytest.param("fec0::1", "reserved address", id="site-local"),
]
CALLED_IPV6 = ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.fixture
async def fake_dns(monkeypatch) -> dict[str, str]:
    """The event loop's resolver, but a name put in the returned dict answers the address it maps to
    (what a partner's DNS server says); every other name resolves as usual."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    answers: dict[str, str] = {}

    async def getaddrinfo(host, port, *, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return await real(host, port, family=family, type=type, proto=proto, flags=flags)
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answers[name], int(port), 0, 0))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return answers


async def assert_url_refused(client, app, exporter, url: str, *says: str) -> None:
    """The subscription is answered 422 problem+json naming ``url``, with ``says`` in the message, and not stored."""
    response = await client.post("/v1/webhook-subscriptions", json={"url": url, "event_types": ["SHIPMENT"]},
                                 headers=exporter)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["field"] == "url" and all(part in error["message"] for part in says), error
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


@pytest.mark.parametrize("address, refusal", REFUSED_IPV6)
async def test_ipv6_literals_that_may_reach_a_private_address_are_refused(
    client, app, exporter, address, refusal
):
    await assert_url_refused(client, app, exporter, f"http://[{address}]:8080/hook", refusal)


@pytest.mark.parametrize("address, refusal", REFUSED_IPV6)
async def test_names_resolving_to_ipv6_that_may_reach_a_private_address_are_refused(
    client, app, exporter, fake_dns, address, refusal
):
    fake_dns["hooks.caravan.test"] = address
    await assert_url_refused(client, app, exporter, "https://hooks.caravan.test/hook", "hooks.caravan.test", refusal)


@pytest.mark.parametrize("address", CALLED_IPV6)
async def test_ipv6_forms_carrying_a_public_ipv4_are_accepted(client, exporter, fake_dns, address):
    """Judged by the IPv4 address they carry, not refused whole (behind DNS64 every IPv4-only
    receiver resolves into 64:ff9b::/96)."""
    fake_dns["hooks.caravan.test"] = address
    await subscribe(client, exporter, "https://hooks.caravan.test/hook")
    await subscribe(client, exporter, f"http://[{address}]/hook")


async def test_bad_event_types_are_422(client, exporter, allow_private):
    for event_types in ([], ["PARCEL"], None):
        response = await client.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1/", "event_types": event_types},
                                     headers=exporter)
        assert response.status_code == 422 and response.json()["errors"][0]["field"].startswith("event_types")


# --- the outbox --------------------------------------------------------------------------------

async def test_outbox_rows_are_written_with_the_change_for_whoever_may_see_it(
    client, operator, exporter, other_exporter, network, allow_private
):
    everything = await subscribe(client, operator, "http://127.0.0.1:9/ops")
    mine = await subscribe(client, exporter, "http://127.0.0.1:9/mine")
    theirs = await subscribe(client, other_exporter, "http://127.0.0.1:9/theirs")
    transport_only = await subscribe(client, exporter, "http://127.0.0.1:9/trains", ["TRANSPORT"])
    departure_id = network["departure_id"]
    [reference] = await book_many(client, exporter, departure_id, 1)
    when = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    event = {"event_type": "TRANSPORT", "event_classifier": "EST", "code": "DEPA", "location": "CNWUH-WJS",
             "event_datetime": when, "departure_id": departure_id}
    assert (await client.post("/v1/events", json=event, headers=operator)).status_code == 201
    # A refused event writes neither an event nor an outbox row.
    assert (await client.post("/v1/events", json=event | {"code": "STUF"}, headers=operator)).status_code == 422

    assert len(await deliveries(client, operator, everything["id"])) == 2  # CONF + the train's EST
    assert len(await deliveries(client, exporter, mine["id"])) == 2
    assert len(await deliveries(client, exporter, transport_only["id"])) == 1
    assert await deliveries(client, other_exporter, theirs["id"]) == []  # not their booking, not their train
    assert (await client.get(f"/v1/webhook-subscriptions/{mine['id']}/deliveries", headers=other_exporter)).status_code == 404
    assert all(d["status"] == "PENDING" and d["webhook_id"] == f"msg_{d['id']}" for d in await deliveries(client, exporter, mine["id"]))
    assert reference


async def test_a_train_event_reaches_every_rider_and_the_operator_and_no_one_else(
    client, operator, exporter, other_exporter, partner, network, allow_private
):
    # Two organisations ride the train: the outbox reads the subscriptions of both (and the
    # operator's) in one query; a third organisation's subscription is not among them.
    everything = await subscribe(client, operator, "http://127.0.0.1:9/ops", ["TRANSPORT"])
    first = await subscribe(client, exporter, "http://127.0.0.1:9/first", ["TRANSPORT"])
    second = await subscribe(client, other_exporter, "http://127.0.0.1:9/second", ["TRANSPORT"])
    bystander = await subscribe(client, partner, "http://127.0.0.1:9/bystander", ["TRANSPORT"])
    departure_id = network["departure_id"]
    await book_many(client, exporter, departure_id, 1)
    await book_many(client, other_exporter, departure_id, 1)
    when = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    event = {"event_type": "TRANSPORT", "event_classifier": "ACT", "code": "DEPA", "location": "CNWUH-WJS",
             "event_datetime": when, "departure_id": departure_id}
    assert (await client.post("/v1/events", json=event, headers=operator)).status_code == 201

    assert len(await deliveries(client, operator, everything["id"])) == 1
    assert len(await deliveries(client, exporter, first["id"])) == 1
    assert len(await deliveries(client, other_exporter, second["id"])) == 1
    assert await deliveries(client, partner, bystander["id"]) == []


# --- delivery over real HTTP ------------------------------------------------------------------------

async def test_a_flaky_receiver_still_gets_every_event_once_signed(
    client, app, operator, exporter, network, database_url, receiver_server, allow_private
):
    receiver = Receiver(fail_first=2)
    server = receiver_server(receiver)
    subscription = await subscribe(client, exporter, f"{server.url}/hook", ["SHIPMENT"])
    receiver.secret = subscription["secret"]
    references = await book_many(client, exporter, network["departure_id"], 6)

    settings = fast_settings(database_url)
    async with delivery_client(settings) as http:
        await drain(app, Worker(app.state.sessionmaker, settings, http))

    log = await deliveries(client, exporter, subscription["id"])
    assert len(log) == 6 and all(d["status"] == "DELIVERED" for d in log)
    assert receiver.bad_signatures == 0
    assert set(receiver.processed) == {d["webhook_id"] for d in log}
    assert all(count == 1 for count in receiver.processed_count.values())
    assert all(receiver.tries[d["webhook_id"]] == 3 for d in log)  # two failures, then 200
    assert {body["data"]["booking_reference"] for body in receiver.processed.values()} == set(references)
    first = log[0]
    assert [a["status_code"] for a in first["attempt_log"]] == [500, 500, 200] and first["attempts"] == 3
    assert len(first["attempt_log"][0]["response_body"]) == 1000  # truncated
    assert all(a["latency_ms"] >= 0 for a in first["attempt_log"])
    body = receiver.processed[first["webhook_id"]]
    assert body["type"] == "SHIPMENT" and body["data"]["code"] == "CONF" and body["data"]["id"] == first["event_id"]


async def test_410_gone_disables_the_subscription(
    client, app, exporter, network, database_url, receiver_server, allow_private
):
    receiver = Receiver(gone=True)
    server = receiver_server(receiver)
    subscription = await subscribe(client, exporter, f"{server.url}/hook", ["SHIPMENT"])
    receiver.secret = subscription["secret"]
    await book_many(client, exporter, network["departure_id"], 3)
    settings = fast_settings(database_url, webhook_concurrency=1, webhook_batch_size=1)
    async with delivery_client(settings) as http:
        worker = Worker(app.state.sessionmaker, settings, http)
        await drain(app, worker)
    read = (await client.get(f"/v1/webhook-subscriptions/{subscription['id']}", headers=exporter)).json()
    assert read["disabled_at"] is not None and "410" in read["disabled_reason"]
    statuses = sorted(d["status"] for d in await deliveries(client, exporter, subscription["id"]))
    assert statuses == ["CANCELLED", "CANCELLED", "FAILED"] and sum(receiver.tries.values()) == 1


async def test_a_worker_killed_mid_batch_loses_nothing(
    client, app, exporter, network, database_url, receiver_server, allow_private
):
    receiver = Receiver(delay_s=0.2)
    server = receiver_server(receiver)
    subscription = await subscribe(client, exporter, f"{server.url}/hook", ["SHIPMENT"])
    receiver.secret = subscription["secret"]
    await book_many(client, exporter, network["departure_id"], 12)
    env = {**os.environ, "CARAVAN_DATABASE_URL": database_url, "CARAVAN_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
           "CARAVAN_WEBHOOK_LEASE_SECONDS": "1", "CARAVAN_WEBHOOK_BATCH_SIZE": "6", "CARAVAN_WEBHOOK_CONCURRENCY": "2",
           "CARAVAN_WEBHOOK_POLL_SECONDS": "0.05", "PYTHONPATH": ROOT}

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    first = start_worker()
    try:
        deadline = time.monotonic() + 30
        while sum(receiver.tries.values()) < 2:  # killed with a batch of 6 in flight
            assert time.monotonic() < deadline and first.poll() is None, "the worker did not start delivering"
            await asyncio.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert await pending(app) > 0
    second = start_worker()
    try:
        deadline = time.monotonic() + 60
        while await pending(app):
            assert time.monotonic() < deadline and second.poll() is None, "deliveries still pending"
            await asyncio.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    log = await deliveries(client, exporter, subscription["id"])
    assert len(log) == 12 and all(d["status"] == "DELIVERED" for d in log)
    assert set(receiver.processed) == {d["webhook_id"] for d in log}  # at least once: none lost
    assert receiver.bad_signatures == 0


@postgres_only
async def test_two_workers_on_postgresql_never_claim_the_same_delivery(
    client, app, exporter, network, database_url, receiver_server, allow_private
):
    receiver = Receiver(delay_s=0.01)
    server = receiver_server(receiver)
    subscription = await subscribe(client, exporter, f"{server.url}/hook", ["SHIPMENT"])
    receiver.secret = subscription["secret"]
    await book_many(client, exporter, network["departure_id"], 40)
    settings = fast_settings(database_url, webhook_batch_size=5, webhook_concurrency=5)
    engines = [make_engine(settings.async_database_url, pool_size=4) for _ in range(2)]
    stop = asyncio.Event()
    try:
        async with delivery_client(settings) as http:
            workers = [Worker(make_sessionmaker(engine), settings, http) for engine in engines]
            tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
            deadline = time.monotonic() + 60
            while await pending(app):
                assert time.monotonic() < deadline, "deliveries still pending"
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.gather(*tasks)
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(receiver.accepted) == 40
    assert set(receiver.accepted.values()) == {1}  # no delivery was sent twice
    log = await deliveries(client, exporter, subscription["id"])
    assert all(d["attempts"] == 1 and len(d["attempt_log"]) == 1 for d in log)


def test_the_receiver_check_is_strict():
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000"}
    good = sign(secret, "msg_1", 1700000000, b"{}")
    assert verify(secret, headers | {"webhook-signature": good}, b"{}")
    assert not verify(secret, headers | {"webhook-signature": good}, b"{ }")


# --- signing secrets at rest --------------------------------------------------------------------

def test_a_sealed_secret_opens_only_with_its_key():
    key, other = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    secret = signing.new_secret()
    sealed = signing.seal(secret, key)
    assert sealed.startswith(signing.SEALED_PREFIX) and secret not in sealed
    assert signing.seal(secret, key) != sealed  # a fresh nonce each time
    assert signing.unseal(sealed, key) == secret
    assert signing.unseal(secret, key) == secret  # rows written before a key was set still read
    assert signing.seal(secret, None) == secret
    with pytest.raises(Exception):
        signing.unseal(sealed, other)
    with pytest.raises(RuntimeError):
        signing.unseal(sealed, None)
    with pytest.raises(ValueError):
        Settings(webhook_secret_key=base64.b64encode(os.urandom(16)).decode())


async def test_with_a_key_secrets_are_stored_sealed_and_deliveries_still_verify(
    operator, exporter, network, database_url, receiver_server
):
    from app.main import create_app

    key = base64.b64encode(os.urandom(32)).decode()
    settings = fast_settings(database_url, webhook_secret_key=key)
    sealed_app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sealed_app), base_url="http://caravan.test") as c:
            receiver = Receiver()
            server = receiver_server(receiver)
            subscription = await subscribe(c, exporter, f"{server.url}/hook", ["SHIPMENT"])
            receiver.secret = subscription["secret"]
            async with sealed_app.state.sessionmaker() as session:
                stored = await session.scalar(
                    select(WebhookSubscription.secret).where(WebhookSubscription.id == subscription["id"])
                )
            assert stored.startswith(signing.SEALED_PREFIX) and subscription["secret"] not in stored
            await book_many(c, exporter, network["departure_id"], 2)
            async with delivery_client(settings) as http:
                await drain(sealed_app, Worker(sealed_app.state.sessionmaker, settings, http))
            log = await deliveries(c, exporter, subscription["id"])
        assert len(log) == 2 and all(d["status"] == "DELIVERED" for d in log)
        assert receiver.bad_signatures == 0 and len(receiver.processed) == 2
    finally:
        await sealed_app.state.engine.dispose()


async def test_with_a_key_a_replayable_answer_holding_a_secret_is_stored_sealed(operator, exporter, database_url):
    from app.idempotency import IdempotencyRecord
    from app.main import create_app

    key = new_key()
    sealed_app = create_app(fast_settings(database_url, webhook_secret_key=key))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sealed_app), base_url="http://caravan.test") as c:
            body = {"url": "http://127.0.0.1:9/hook", "event_types": ["SHIPMENT"]}
            headers = exporter | {"Idempotency-Key": "subscribe-once"}
            first = await c.post("/v1/webhook-subscriptions", json=body, headers=headers)
            assert first.status_code == 201, first.text
            again = await c.post("/v1/webhook-subscriptions", json=body, headers=headers)
            assert again.headers["idempotent-replayed"] == "true"
            assert again.json()["secret"] == first.json()["secret"]
            async with sealed_app.state.sessionmaker() as session:
                stored = await session.scalar(select(IdempotencyRecord.response_body))
            assert stored.startswith(signing.SEALED_PREFIX) and first.json()["secret"] not in stored

        # Without the key the stored answer cannot be read: it is not replayed as garbage.
        keyless_app = create_app(fast_settings(database_url))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=keyless_app), base_url="http://caravan.test") as c:
            lost = await c.post("/v1/webhook-subscriptions", json=body, headers=headers)
        await keyless_app.state.engine.dispose()
        assert lost.status_code == 409 and "new Idempotency-Key" in lost.json()["detail"]
    finally:
        await sealed_app.state.engine.dispose()


# --- sealing key rotation -----------------------------------------------------------------------

def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def sealed_v1(secret: str, key: str) -> str:
    """A secret as ``seal`` wrote it before sealed forms named their key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(base64.b64decode(key)).encrypt(nonce, secret.encode(), signing._SEALING_CONTEXT)
    return "sealed:v1:" + base64.b64encode(nonce + sealed).decode()


def test_a_secret_sealed_with_a_previous_key_opens_and_an_unknown_key_is_named(monkeypatch):
    old, new, stranger = new_key(), new_key(), new_key()
    secret = signing.new_secret()
    sealed = signing.seal(secret, old)
    assert sealed.startswith(f"sealed:v2:{signing.key_id(old)}:") and len(sealed) <= 200  # the column's size
    tried, aead = [], signing._aead
    monkeypatch.setattr(signing, "_aead", lambda key: tried.append(key) or aead(key))
    assert signing.unseal(sealed, new, [stranger, old]) == secret
    assert tried == [old]  # the key id points at the key: the others are not tried
    assert signing.unseal(signing.seal(secret, new), new, [old]) == secret
    with pytest.raises(signing.SealedSecretError) as raised:
        signing.unseal(sealed, new, [stranger])
    message = str(raised.value)
    assert signing.key_id(old) in message and signing.key_id(new) in message
    assert old not in message and new not in message and secret not in message
    with pytest.raises(signing.SealedSecretError, match="is not set"):
        signing.unseal(sealed, None)
    # The key id is only a shortcut: a tampered ciphertext under the right id is still refused.
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(signing.SealedSecretError):
        signing.unseal(tampered, old)
    for malformed in ("sealed:v9:abc", "sealed:v2:00000000:not base64!", "sealed:v1:", "sealed:v2:"):
        with pytest.raises(signing.SealedSecretError):
            signing.unseal(malformed, new, [old])


def test_a_secret_sealed_before_key_ids_still_opens_with_any_configured_key():
    old, new = new_key(), new_key()
    secret = signing.new_secret()
    assert signing.unseal(sealed_v1(secret, old), new, [old]) == secret
    assert signing.unseal(sealed_v1(secret, new), new, [old]) == secret
    with pytest.raises(signing.SealedSecretError, match="sealed:v1"):
        signing.unseal(sealed_v1(secret, old), new)


def test_previous_keys_are_checked_at_startup_and_named(monkeypatch):
    from pydantic import ValidationError

    current, old, older = new_key(), new_key(), new_key()
    monkeypatch.setenv("CARAVAN_WEBHOOK_SECRET_KEY", current)
    monkeypatch.setenv("CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS", f" {old}, {older} ,")
    assert Settings().previous_secret_keys == (old, older)
    short = base64.b64encode(os.urandom(16)).decode()
    monkeypatch.setenv("CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS", f"{old},{short}")
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS, key 2 of 2" in str(raised.value) and short not in str(raised.value)
    monkeypatch.setenv("CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS", "not a key")
    with pytest.raises(ValidationError, match="CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS"):
        Settings()
    monkeypatch.setenv("CARAVAN_WEBHOOK_SECRET_KEY", "not a key")
    monkeypatch.delenv("CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS")
    with pytest.raises(ValidationError, match="CARAVAN_WEBHOOK_SECRET_KEY: "):
        Settings()
    monkeypatch.delenv("CARAVAN_WEBHOOK_SECRET_KEY")
    monkeypatch.setenv("CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS", old)
    with pytest.raises(ValidationError, match="CARAVAN_WEBHOOK_SECRET_KEY is not"):
        Settings()
    monkeypatch.delenv("CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS")
    assert Settings().previous_secret_keys == ()


async def stored_secrets(app, ids) -> dict[int, str]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            select(WebhookSubscription.id, WebhookSubscription.secret).where(WebhookSubscription.id.in_(ids))
        )
        return dict(rows.all())


async def store_secrets(app, stored: dict[int, str]) -> None:
    """Overwrite stored secrets as a deployment of another time (or key) would have written them."""
    from sqlalchemy import update

    async with app.state.sessionmaker() as session:
        for subscription_id, value in stored.items():
            await session.execute(
                update(WebhookSubscription).where(WebhookSubscription.id == subscription_id).values(secret=value)
            )
        await session.commit()


async def subscriptions_in_every_form(client, app, exporter, old: str, new: str) -> tuple[dict, dict[int, str]]:
    """Subscriptions whose secrets are stored in every form a rotation meets, by name, and their secrets."""
    ids, secrets = {}, {}
    for name in ("old", "old_v1", "plain", "new", "stranger", "deleted"):
        created = await subscribe(client, exporter, f"http://127.0.0.1:9/{name}", ["SHIPMENT"])
        ids[name], secrets[created["id"]] = created["id"], created["secret"]
    stranger = new_key()
    forms = {"old": lambda s: signing.seal(s, old), "old_v1": lambda s: sealed_v1(s, old), "plain": lambda s: s,
             "new": lambda s: signing.seal(s, new), "stranger": lambda s: signing.seal(s, stranger),
             "deleted": lambda s: signing.seal(s, old)}
    await store_secrets(app, {ids[name]: form(secrets[ids[name]]) for name, form in forms.items()})
    assert (await client.delete(f"/v1/webhook-subscriptions/{ids['deleted']}", headers=exporter)).status_code == 204
    return ids, secrets


async def test_reseal_brings_every_secret_to_the_current_key_and_a_second_run_changes_nothing(
    client, app, exporter, allow_private
):
    old, new = new_key(), new_key()
    ids, secrets = await subscriptions_in_every_form(client, app, exporter, old, new)
    before = await stored_secrets(app, secrets)

    counts = await signing.reseal_secrets(app.state.sessionmaker, new, [old], batch=2)
    assert (counts.resealed, counts.current, counts.changed, counts.unopened) == (4, 1, 0, [ids["stranger"]])
    after = await stored_secrets(app, secrets)
    assert after[ids["new"]] == before[ids["new"]] and after[ids["stranger"]] == before[ids["stranger"]]
    for subscription_id, secret in secrets.items():
        if subscription_id != ids["stranger"]:
            assert signing.is_sealed_with(after[subscription_id], new)
            assert signing.unseal(after[subscription_id], new) == secret  # the previous key is no longer needed

    again = await signing.reseal_secrets(app.state.sessionmaker, new, [old], batch=2)
    assert (again.resealed, again.current, again.changed, again.unopened) == (0, 5, 0, [ids["stranger"]])
    assert await stored_secrets(app, secrets) == after


async def test_reseal_leaves_a_secret_changed_meanwhile_as_its_writer_stored_it(
    client, app, exporter, allow_private, monkeypatch
):
    old, new = new_key(), new_key()
    first = await subscribe(client, exporter, "http://127.0.0.1:9/first", ["SHIPMENT"])
    second = await subscribe(client, exporter, "http://127.0.0.1:9/second", ["SHIPMENT"])
    await store_secrets(app, {first["id"]: signing.seal(first["secret"], old),
                              second["id"]: signing.seal(second["secret"], old)})
    rotated_by_partner = signing.seal(signing.new_secret(), new)
    store = signing._store_unless_changed

    async def change_then_store(sessionmaker, changes, counts):
        await store_secrets(app, {first["id"]: rotated_by_partner})  # between reseal's read and its write
        await store(sessionmaker, changes, counts)

    monkeypatch.setattr(signing, "_store_unless_changed", change_then_store)
    counts = await signing.reseal_secrets(app.state.sessionmaker, new, [old])
    assert (counts.resealed, counts.changed) == (1, 1)
    stored = await stored_secrets(app, [first["id"], second["id"]])
    assert stored[first["id"]] == rotated_by_partner
    assert signing.unseal(stored[second["id"]], new) == second["secret"]


def reseal_command(database_url: str, **keys: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARAVAN_WEBHOOK_SECRET_KEY")}
    env |= {"CARAVAN_DATABASE_URL": database_url} | {f"CARAVAN_WEBHOOK_{k.upper()}": v for k, v in keys.items()}
    return subprocess.run([sys.executable, "-m", "app.cli", "admin", "reseal-secrets"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


async def test_the_reseal_command_refuses_without_a_key_and_reports_what_it_did(
    client, app, exporter, database_url, allow_private
):
    old, new = new_key(), new_key()
    ids, secrets = await subscriptions_in_every_form(client, app, exporter, old, new)
    before = await stored_secrets(app, secrets)

    refused = await asyncio.to_thread(reseal_command, database_url)
    assert refused.returncode == 2 and "CARAVAN_WEBHOOK_SECRET_KEY is not set" in refused.stderr
    assert await stored_secrets(app, secrets) == before

    done = await asyncio.to_thread(reseal_command, database_url, secret_key=new, secret_keys_previous=old)
    assert done.returncode == 1, done.stderr  # one secret no configured key opens
    assert f"resealed 4 webhook secrets with key {signing.key_id(new)}; skipped 1 already" in done.stdout
    assert f"of 1 subscriptions ({ids['stranger']})" in done.stderr and "KEYS_PREVIOUS" in done.stderr
    after = await stored_secrets(app, secrets)
    assert signing.unseal(after[ids["plain"]], new) == secrets[ids["plain"]]


async def test_a_rotated_key_delivers_after_reseal_and_an_unknown_one_is_held_not_fatal(
    client, app, exporter, network, database_url, receiver_server, allow_private, caplog, monkeypatch
):
    old, new = new_key(), new_key()
    only_new = fast_settings(database_url, webhook_secret_key=new)
    rotating = fast_settings(database_url, webhook_secret_key=new, webhook_secret_keys_previous=old)
    hooks = {}
    for name, key in (("rotated", old), ("current", new)):
        monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_secret_key": key}))
        receiver = Receiver()
        subscription = await subscribe(client, exporter, f"{receiver_server(receiver).url}/hook", ["SHIPMENT"])
        receiver.secret = subscription["secret"]
        hooks[name] = (subscription["id"], receiver)
    await book_many(client, exporter, network["departure_id"], 1)

    async with delivery_client(only_new) as http:
        # The old key not configured: its subscription's delivery is held, the other one in the batch delivered.
        assert await Worker(app.state.sessionmaker, only_new, http).run_once() == 2
        held = (await deliveries(client, exporter, hooks["rotated"][0]))[0]
        assert held["status"] == "PENDING" and held["attempt_log"][0]["error"].startswith("not sent:")
        assert signing.key_id(old) not in held["attempt_log"][0]["error"]
        assert any(signing.key_id(old) in r.getMessage() for r in caplog.records if r.name == "caravan.webhooks")
        assert (await deliveries(client, exporter, hooks["current"][0]))[0]["status"] == "DELIVERED"
        assert hooks["rotated"][1].tries.total() == 0

        await drain(app, Worker(app.state.sessionmaker, rotating, http))  # the old key as a previous one
        assert len(hooks["rotated"][1].processed) == 1

        counts = await signing.reseal_secrets(app.state.sessionmaker, new, [old])
        assert (counts.resealed, counts.current) == (1, 1)
        await book_many(client, exporter, network["departure_id"], 1)
        await drain(app, Worker(app.state.sessionmaker, only_new, http))  # the previous key dropped
    for subscription_id, receiver in hooks.values():
        assert [d["status"] for d in await deliveries(client, exporter, subscription_id)] == ["DELIVERED"] * 2
        assert receiver.bad_signatures == 0 and len(receiver.processed) == 2  # signed with the partner's secret


def test_the_reseal_command_takes_only_a_positive_batch_size(capsys):
    from app.cli import build_parser

    assert build_parser().parse_args(["admin", "reseal-secrets", "--batch-size", "50"]).batch_size == 50
    with pytest.raises(SystemExit):
        build_parser().parse_args(["admin", "reseal-secrets", "--batch-size", "0"])
    assert "at least 1" in capsys.readouterr().err


async def test_deliveries_over_for_longer_than_the_retention_are_purged_with_their_attempts(
    app, client, exporter, network, allow_private, database_url
):
    from app.webhooks.models import WebhookAttempt

    subscription = await subscribe(client, exporter, "http://127.0.0.1:9/hook", event_types=["SHIPMENT"])
    for _ in range(4):
        assert (await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=exporter)).status_code == 201
    long_ago = datetime.now(timezone.utc) - timedelta(days=31)
    async with app.state.sessionmaker() as session:
        rows = list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        assert len(rows) == 4
        # old and delivered, old and failed for good, old but still pending, delivered yesterday
        for row, status, created_at in zip(rows, ["DELIVERED", "FAILED", "PENDING", "DELIVERED"],
                                           [long_ago, long_ago, long_ago, long_ago + timedelta(days=30)]):
            row.status, row.created_at = status, created_at
            session.add(WebhookAttempt(delivery_id=row.id, status_code=500, latency_ms=3.0))
        await session.commit()
        kept_ids = [rows[2].id, rows[3].id]

    await Worker(app.state.sessionmaker, fast_settings(database_url)).purge()

    async with app.state.sessionmaker() as session:
        assert list(await session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id))) == kept_ids
        assert sorted(await session.scalars(select(WebhookAttempt.delivery_id))) == kept_ids
    assert [d["id"] for d in await deliveries(client, exporter, subscription["id"])] == kept_ids


async def test_an_organisation_has_at_most_25_subscriptions_even_when_they_race(app, client, exporter, allow_private):
    for i in range(24):
        await subscribe(client, exporter, f"http://127.0.0.1:9/hook/{i}")
    # Warm connections, as a running API process has them: the creations then truly overlap.
    await asyncio.gather(*(client.get("/v1/webhook-subscriptions", headers=exporter) for _ in range(10)))
    responses = await asyncio.gather(*(
        client.post("/v1/webhook-subscriptions", json={"url": f"http://127.0.0.1:9/race/{i}", "event_types": ["SHIPMENT"]},
                    headers=exporter)
        for i in range(10)
    ))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert "at most 25" in next(r for r in responses if r.status_code == 409).json()["detail"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookSubscription)) == 25
