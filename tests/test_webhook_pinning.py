"""Webhook delivery connects only to addresses it has checked: a callback host whose DNS answers
a public address to the URL check and a loopback one to the connection (DNS rebinding) gets
nothing. Real HTTP over loopback; the DNS answers are faked at the event loop's resolver."""

from __future__ import annotations

import asyncio
import socket
import time

import httpcore
import httpx
import pytest

from app.webhooks import urls
from app.webhooks.worker import PinnedBackend, Worker, delivery_client, pinned_transport
from tests.live import LiveServer
from tests.test_webhooks import (  # noqa: F401 (fixtures)
    CALLED_IPV6,
    REFUSED_IPV6,
    allow_private,
    book_many,
    deliveries,
    fake_dns,
    fast_settings,
    pending,
    receiver_server,
    subscribe,
)
from tests.webhook_receiver import Receiver

PUBLIC = "93.184.215.14"
REBINDING_HOST = "rebind.caravan.test"


class Counting:
    """ASGI middleware: counts every HTTP request that reaches the receiver and keeps its Host header."""

    def __init__(self, app) -> None:
        self.app = app
        self.hosts: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.hosts.append(dict(scope["headers"]).get(b"host", b"").decode())
        await self.app(scope, receive, send)


@pytest.fixture
def live_receiver():
    servers = []

    def start(receiver: Receiver) -> tuple[Counting, LiveServer]:
        counting = Counting(receiver)
        servers.append(server := LiveServer(counting).start())
        return counting, server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
async def rebinding_dns(monkeypatch):
    """The event loop's resolver, but ``rebind.caravan.test`` answers a public address to the first
    lookup and 127.0.0.1 to every later one (what an attacker's DNS server with a zero TTL does)."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    answers: list[str] = []

    async def getaddrinfo(host, port, *, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name != REBINDING_HOST:
            return await real(host, port, family=family, type=type, proto=proto, flags=flags)
        answers.append(PUBLIC if not answers else "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answers[-1], int(port)))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return answers


async def run_worker(app, worker: Worker, deadline_s: float = 30) -> None:
    """Run the worker as ``caravan worker`` does (its own HTTP client) until nothing is pending."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        deadline = time.monotonic() + deadline_s
        while await pending(app):
            assert time.monotonic() < deadline and not task.done(), "deliveries still pending"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


# --- the rebinding attack ---------------------------------------------------------------------

async def test_a_host_rebinding_to_loopback_after_the_check_gets_no_request(
    client, app, exporter, network, database_url, live_receiver, allow_private, rebinding_dns
):
    receiver = Receiver()
    counting, server = live_receiver(receiver)
    # Subscribed while private URLs are allowed (so the subscription check makes no lookup).
    subscription = await subscribe(client, exporter, f"http://{REBINDING_HOST}:{server.port}/hook", ["SHIPMENT"])
    receiver.secret = subscription["secret"]
    await book_many(client, exporter, network["departure_id"], 1)

    settings = fast_settings(database_url, webhook_allow_private_urls=False, webhook_max_attempts=1)
    await run_worker(app, Worker(app.state.sessionmaker, settings))

    assert rebinding_dns[0] == PUBLIC  # the worker's URL check saw the public answer
    assert counting.hosts == [] and not receiver.tries and receiver.bad_signatures == 0
    [delivery] = await deliveries(client, exporter, subscription["id"])
    assert delivery["status"] == "FAILED"
    [attempt] = delivery["attempt_log"]
    assert attempt["status_code"] is None
    assert "127.0.0.1" in attempt["error"] and "refused" in attempt["error"], attempt["error"]


async def test_the_connection_is_checked_even_when_the_url_check_passed(
    client, app, exporter, network, database_url, live_receiver, allow_private, monkeypatch
):
    """The pre-check (cached for a minute) is not what keeps loopback out: the connection is."""
    receiver = Receiver()
    counting, server = live_receiver(receiver)
    subscription = await subscribe(client, exporter, f"{server.url}/hook", ["SHIPMENT"])
    receiver.secret = subscription["secret"]
    await book_many(client, exporter, network["departure_id"], 1)

    async def passed(self, url):
        return None

    monkeypatch.setattr(Worker, "_refusal", passed)
    settings = fast_settings(database_url, webhook_allow_private_urls=False, webhook_max_attempts=1)
    await run_worker(app, Worker(app.state.sessionmaker, settings))

    assert counting.hosts == [] and not receiver.tries
    [delivery] = await deliveries(client, exporter, subscription["id"])
    [attempt] = delivery["attempt_log"]
    assert delivery["status"] == "FAILED" and "127.0.0.1" in attempt["error"], attempt["error"]


async def test_with_private_urls_allowed_a_named_loopback_receiver_gets_its_signed_webhook(
    client, app, exporter, network, database_url, live_receiver, allow_private
):
    """``localhost`` (::1 and 127.0.0.1; the receiver listens on the latter) through the pinned client:
    the checked address is connected to, the Host header is still the name."""
    receiver = Receiver()
    counting, server = live_receiver(receiver)
    subscription = await subscribe(client, exporter, f"http://localhost:{server.port}/hook", ["SHIPMENT"])
    receiver.secret = subscription["secret"]
    [reference] = await book_many(client, exporter, network["departure_id"], 1)

    await run_worker(app, Worker(app.state.sessionmaker, fast_settings(database_url)))

    [delivery] = await deliveries(client, exporter, subscription["id"])
    assert delivery["status"] == "DELIVERED" and [a["status_code"] for a in delivery["attempt_log"]] == [200]
    assert receiver.bad_signatures == 0 and list(receiver.processed) == [delivery["webhook_id"]]
    assert receiver.processed[delivery["webhook_id"]]["data"]["booking_reference"] == reference
    assert counting.hosts == [f"localhost:{server.port}"]


# --- the backend's decision ---------------------------------------------------------------------

class Stream(httpcore.AsyncNetworkStream):
    def __init__(self, address: str) -> None:
        self.address = address
        self.server_hostname: str | None = None

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        self.server_hostname = server_hostname
        raise httpcore.ConnectError("no TLS in this test")

    async def aclose(self) -> None:
        pass


class Network(httpcore.AsyncNetworkBackend):
    """Stands in for the network behind PinnedBackend: records where it was asked to connect."""

    def __init__(self, unreachable: tuple[str, ...] = ()) -> None:
        self.unreachable = unreachable
        self.streams: list[Stream] = []
        self.tried: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.tried.append((host, port))
        if host in self.unreachable:
            raise httpcore.ConnectError(f"{host} is unreachable")
        self.streams.append(stream := Stream(host))
        return stream


@pytest.fixture
def dns(monkeypatch):
    """``urls.resolve`` answering what the test puts in ``answers``."""
    answers: list[str] = []

    async def resolve(host, port):
        return list(answers)

    monkeypatch.setattr(urls, "resolve", resolve)
    return answers


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", *CALLED_IPV6])
async def test_the_backend_connects_to_a_public_address_it_checked(dns, address):
    dns.append(address)
    network = Network()
    stream = await PinnedBackend(allow_private=False, inner=network).connect_tcp("hooks.example.com", 443, timeout=5)
    assert network.tried == [(address, 443)] and stream.address == address


@pytest.mark.parametrize("addresses, named", [
    (["10.0.0.1"], "10.0.0.1"),
    (["169.254.169.254"], "169.254.169.254"),
    (["::1"], "::1"),
    (["::ffff:127.0.0.1"], "::ffff:127.0.0.1, IPv4-mapped for 127.0.0.1"),
    (["0.0.0.0"], "0.0.0.0"),
    (["192.168.1.20"], "192.168.1.20"),
    (["93.184.215.14", "127.0.0.1"], "127.0.0.1"),  # one private answer refuses the host
])
async def test_the_backend_refuses_private_loopback_and_reserved_addresses(dns, addresses, named):
    dns.extend(addresses)
    network = Network()
    with pytest.raises(httpcore.ConnectError) as refused:
        await PinnedBackend(allow_private=False, inner=network).connect_tcp("hooks.example.com", 443, timeout=5)
    assert f"({named})" in str(refused.value) and "hooks.example.com" in str(refused.value)
    assert network.tried == []  # not even a connection attempt


@pytest.mark.parametrize("address, refusal", REFUSED_IPV6)
async def test_the_backend_refuses_ipv6_that_may_reach_a_private_address(dns, address, refusal):
    dns.append(address)
    network = Network()
    with pytest.raises(httpcore.ConnectError) as refused:
        await PinnedBackend(allow_private=False, inner=network).connect_tcp("hooks.example.com", 443, timeout=5)
    assert refusal in str(refused.value) and "hooks.example.com" in str(refused.value)
    assert network.tried == []


async def test_the_backend_allows_private_addresses_when_told_and_tries_each_checked_address(dns):
    dns.extend(["::1", "127.0.0.1"])
    network = Network(unreachable=("::1",))
    stream = await PinnedBackend(allow_private=True, inner=network).connect_tcp("localhost", 8080, timeout=5)
    assert network.tried == [("::1", 8080), ("127.0.0.1", 8080)] and stream.address == "127.0.0.1"


async def test_the_backend_refuses_a_host_that_does_not_resolve():
    with pytest.raises(httpcore.ConnectError, match="nonexistent.invalid does not resolve"):
        await PinnedBackend(allow_private=False, inner=Network()).connect_tcp("nonexistent.invalid", 80, timeout=5)


async def test_https_connects_to_the_checked_address_and_verifies_the_hostname(dns):
    """Through the worker's real transport: the socket goes to the checked IP, while TLS is started
    with the URL's host as server_hostname (SNI and certificate verification use the name)."""
    dns.append("93.184.215.14")
    network = Network()
    async with httpx.AsyncClient(transport=pinned_transport(PinnedBackend(False, inner=network))) as http:
        with pytest.raises(httpx.ConnectError, match="no TLS in this test"):
            await http.post("https://hooks.example.com/caravan", content=b"{}")
    assert network.tried == [("93.184.215.14", 443)]
    assert network.streams[0].server_hostname == "hooks.example.com"


async def test_the_delivery_client_keeps_the_worker_settings_and_refuses_loopback(database_url):
    settings = fast_settings(database_url, webhook_allow_private_urls=False)
    async with delivery_client(settings) as http:
        assert http.follow_redirects is False and http.trust_env is False
        with pytest.raises(httpx.ConnectError, match=r"refused to connect: .*\(127\.0\.0\.1\)"):
            await http.post("http://127.0.0.1:9/hook", content=b"{}")


@pytest.mark.parametrize("address, refusal", REFUSED_IPV6)
async def test_the_delivery_client_refuses_ipv6_literals_that_may_reach_a_private_address(
    database_url, address, refusal
):
    settings = fast_settings(database_url, webhook_allow_private_urls=False)
    async with delivery_client(settings) as http:
        with pytest.raises(httpx.ConnectError, match="refused to connect") as refused:
            await http.post(f"http://[{address}]:9/hook", content=b"{}")
    assert refusal in str(refused.value)


async def test_a_name_that_comes_to_resolve_to_nat64_loopback_gets_no_delivery(
    client, app, exporter, network, database_url, allow_private, fake_dns
):
    """Subscribed while private URLs were allowed; the worker, which does not allow them, refuses the
    name's NAT64 address for 127.0.0.1 and records why."""
    fake_dns["nat64.caravan.test"] = "64:ff9b::7f00:1"
    subscription = await subscribe(client, exporter, "http://nat64.caravan.test:9/hook", ["SHIPMENT"])
    await book_many(client, exporter, network["departure_id"], 1)

    settings = fast_settings(database_url, webhook_allow_private_urls=False, webhook_max_attempts=1)
    await run_worker(app, Worker(app.state.sessionmaker, settings))

    [delivery] = await deliveries(client, exporter, subscription["id"])
    [attempt] = delivery["attempt_log"]
    assert delivery["status"] == "FAILED" and attempt["status_code"] is None
    assert "refused" in attempt["error"] and "NAT64 for 127.0.0.1" in attempt["error"], attempt["error"]
