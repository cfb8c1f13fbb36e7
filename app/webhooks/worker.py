"""The delivery worker: claims due outbox rows, POSTs them signed, records each attempt.

Run it as ``caravan worker`` (as many as you like: claims use FOR UPDATE SKIP
LOCKED and a lease), or inside ``caravan serve`` (``CARAVAN_WEBHOOK_WORKER=true``,
the default there) as a task of the app's lifespan. Delivery is at least once: a
worker killed mid-batch leaves its rows leased; when the lease runs out another
worker sends them again, with the same ``webhook-id`` so receivers can drop repeats.

Its HTTP client (``delivery_client``) connects only to addresses it has checked
itself (``PinnedBackend``), so a callback host cannot pass the URL check with a
public address and then be reached at a private one.

A subscription's ``format`` decides what is POSTed: Caravan's own (``body_for``, Standard
Webhooks headers), a DCSA Track & Trace notification (``app.dcsa.subscriptions``:
the event in the DCSA view's form, ``Notification-Signature``) or a DCSA Booking 2.0
notification (``app.dcsa_booking.notifications``: a CloudEvent, Standard Webhooks headers). Everything else (claims,
leases, retries, back-off, 410, the URL rule and the pinned connections) is the same.

Being the service's background process, each worker also purges every ``purge_seconds``:
expired Idempotency-Key records, and deliveries over (with their attempts) for longer than
``webhook_delivery_retention_days``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

import httpcore
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import idempotency
from app.config import Settings
from app.db import utcnow
from app.dcsa import subscriptions as dcsa
from app.dcsa_booking import notifications as dcsa_booking
from app.webhooks import deliveries, signing, subscriptions, urls

log = logging.getLogger("caravan.webhooks")

SECRET_UNAVAILABLE = "not sent: the server cannot open this subscription's signing secret"


def body_for(row: Any) -> bytes:
    """The POSTed JSON: ``{"type", "timestamp", "data"}`` with the event as the feed shows it."""
    document = {
        "type": row.event_type,
        "timestamp": row.created_at.isoformat(),
        "data": {"id": row.event_id, **row.payload},
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses it has checked: the guard
    against DNS rebinding.

    A URL checked ahead of time (``urls.url_refusal``) proves nothing about the
    connection: its host may answer a public address to the check and 127.0.0.1,
    169.254.169.254 or 10.x a moment later. So ``connect_tcp`` resolves the host
    itself, refuses it unless every address is public (``urls.address_refusal``,
    the rule of the URL check; not applied when ``allow_private``), and connects to
    the checked addresses, never to the name. The name is still the request's:
    httpcore hands it to ``start_tls`` as ``server_hostname`` (so certificates are
    verified against it) and httpx writes it in the Host header.
    """

    def __init__(self, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.allow_private = allow_private
        self.inner = inner or httpcore.AnyIOBackend()  # what httpcore uses under asyncio

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                addresses = await urls.resolve(host, port)
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from error
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"the host {host} does not resolve ({error})") from error
        if not addresses:
            raise httpcore.ConnectError(f"the host {host} does not resolve")
        if not self.allow_private and (refusal := urls.address_refusal(host, addresses)):
            raise httpcore.ConnectError(f"refused to connect: {refusal}")
        failure: httpcore.ConnectError | None = None
        for address in addresses:  # in the resolver's order, one connect timeout for all of them
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise httpcore.ConnectTimeout(f"connecting to {host} timed out")
            try:
                return await self.inner.connect_tcp(address, port, timeout=remaining, local_address=local_address,
                                                    socket_options=socket_options)
            except httpcore.ConnectError as error:
                failure = error
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)

    # connect_unix_socket stays NotImplemented: the delivery pool never uses a Unix socket.


def pinned_transport(backend: httpcore.AsyncNetworkBackend) -> httpx.AsyncHTTPTransport:
    """An ``httpx.AsyncHTTPTransport`` as ``httpx.AsyncClient(trust_env=False)`` builds it, on ``backend``.

    httpx (0.28) has no public way to give its transport an httpcore network backend
    (an argument for it is only proposed upstream), so this swaps the pool it built, the private
    ``_pool``, for an ``httpcore.AsyncConnectionPool`` with the same settings and the
    backend. If a later httpx keeps its pool elsewhere this raises rather than leave
    the connections unpinned.
    """
    ssl_context = httpx.create_ssl_context(verify=True, trust_env=False)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)  # httpx's defaults
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, trust_env=False, limits=limits)
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        raise RuntimeError("httpx.AsyncHTTPTransport keeps no httpcore pool in _pool: cannot pin webhook connections")
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context, max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport


def delivery_client(settings: Settings) -> httpx.AsyncClient:
    """The worker's HTTP client: redirects not followed, nothing (proxies, CA files, .netrc) taken
    from the environment, connections pinned to checked addresses (private ones allowed only when
    ``webhook_allow_private_urls``)."""
    return httpx.AsyncClient(transport=pinned_transport(PinnedBackend(settings.webhook_allow_private_urls)),
                             follow_redirects=False, trust_env=False)


class Worker:
    """Delivers webhooks until ``stop`` is set; ``run_once`` does one claim-deliver-record round.

    Without ``client`` it makes its own with ``delivery_client``; a client passed in is
    used as it is (build it with ``delivery_client`` to keep the connections pinned).
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 client: httpx.AsyncClient | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.client = client
        self.name = secrets.token_hex(6)
        self._resolved: dict[str, tuple[float, str | None]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        own_client = self.client is None
        if own_client:
            self.client = delivery_client(self.settings)
        purge_due = time.monotonic()
        try:
            while not stop.is_set():
                if time.monotonic() >= purge_due:
                    # A backlog (the first purge after an upgrade) goes a bounded slice per round,
                    # between rounds of deliveries, until it is gone.
                    more = await self.purge()
                    purge_due = time.monotonic() + (0.0 if more else self.settings.purge_seconds)
                try:
                    done = await self.run_once()
                except Exception:  # a database hiccup must not kill the worker
                    log.exception("webhook worker round failed")
                    done = 0
                if not done:
                    try:
                        await asyncio.wait_for(stop.wait(), timeout=self.settings.webhook_poll_seconds)
                    except asyncio.TimeoutError:
                        pass
        finally:
            if own_client:
                await self.client.aclose()

    async def purge(self, batch: int = 1000, max_batches: int = 10) -> bool:
        """Expired Idempotency-Key records, and deliveries over for longer than the retention, at
        most ``max_batches`` × ``batch`` of each; True when there may be more to purge."""
        now = utcnow()
        limit = batch * max_batches
        try:
            keys = await idempotency.purge_expired(self.sessionmaker, now, batch, max_batches)
            retention = timedelta(days=self.settings.webhook_delivery_retention_days)
            purged = await deliveries.purge_finished(self.sessionmaker, now - retention, batch, max_batches)
        except Exception:  # a database hiccup must not kill the worker; the next round tries again
            log.exception("purging expired records failed")
            return False
        return keys >= limit or purged >= limit

    async def run_once(self) -> int:
        token = f"{self.name}-{secrets.token_hex(5)}"
        async with self.sessionmaker() as session:
            rows = await deliveries.claim(
                session, token, self.settings.webhook_batch_size, self.settings.webhook_lease_seconds, utcnow()
            )
            await session.commit()
        if not rows:
            return 0
        claimed = len(rows)
        bodies = await self._dcsa_bodies(token, rows)
        rows = [row for row in rows if bodies.get(row.id, b"") is not None]
        semaphore = asyncio.Semaphore(self.settings.webhook_concurrency)

        async def one(row: Any) -> tuple[Any, dict[str, Any]]:
            async with semaphore:
                return row, await self._post(row, bodies.get(row.id))

        outcomes = await asyncio.gather(*(one(row) for row in rows))
        # One transaction records the whole batch (the lease covers the time the posts took).
        async with self.sessionmaker() as session:
            for row, outcome in outcomes:
                await deliveries.record_attempt(
                    session, token=token, delivery_id=row.id, subscription_id=row.subscription_id,
                    attempts=row.attempts, posted_url=row.url, max_attempts=self.settings.webhook_max_attempts,
                    retry_base=self.settings.webhook_retry_base_seconds,
                    retry_cap=self.settings.webhook_retry_max_seconds, now=utcnow(), **outcome,
                )
            await session.commit()
        return claimed

    async def _dcsa_bodies(self, token: str, rows: list[Any]) -> dict[int, bytes | None]:
        """The notification body of each DCSA delivery, None for one its subscription's filters do not
        match (withdrawn here, never POSTed). Built when claimed, the events being committed by then."""
        wanted = [row for row in rows if row.format == subscriptions.DCSA]
        bookings = [row for row in rows if row.format == dcsa_booking.DCSA_BKG]
        if not wanted and not bookings:
            return {}
        async with self.sessionmaker() as session:
            bodies = await dcsa.notification_bodies(session, wanted) if wanted else {}
            if bookings:  # DCSA booking notifications (CloudEvents), signed as Caravan's own webhooks
                bodies.update(await dcsa_booking.notification_bodies(session, bookings))
            await deliveries.withdraw(session, token, [delivery for delivery, body in bodies.items() if body is None])
            await session.commit()
        return bodies

    async def _refusal(self, url: str) -> str | None:
        """The URL check ahead of the POST, cached for a minute: it spares a refused URL the
        connection attempt and says why in the attempt log. It is not what keeps private
        addresses out (the host may resolve differently a moment later): ``PinnedBackend`` is."""
        if self.settings.webhook_allow_private_urls:
            return None
        cached = self._resolved.get(url)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        refusal = await urls.url_refusal(url)
        self._resolved[url] = (time.monotonic() + 60, refusal)
        return refusal

    async def _post(self, row: Any, dcsa_body: bytes | None = None) -> dict[str, Any]:
        """POST one delivery; never raises (the outcome says what happened)."""
        started = time.perf_counter()
        try:
            keys = signing.signing_secrets(row, utcnow(), self.settings.webhook_secret_key,
                                              self.settings.previous_secret_keys)
        except signing.SealedSecretError as error:
            # A configuration fault, not the receiver's: the details go to the operator's log,
            # the partner's attempt log says only that it was not sent; it is retried as usual.
            log.error("webhook delivery %s of subscription %s not sent: %s", row.id, row.subscription_id, error)
            return {"status_code": None, "latency_ms": 0.0, "response_body": None, "error": SECRET_UNAVAILABLE}
        if refusal := await self._refusal(row.url):
            return {"status_code": None, "latency_ms": 0.0, "response_body": None, "error": f"refused: {refusal}"[:300]}
        body = dcsa_body if dcsa_body is not None and row.format == dcsa_booking.DCSA_BKG else body_for(row)
        message_id = signing.webhook_id(row.id)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "Caravan-Webhooks/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.signatures(keys, message_id, timestamp, body),
        }
        if row.format == dcsa_booking.DCSA_BKG:
            headers["api-version"] = "2.0.0"
        elif dcsa_body is not None:  # a DCSA subscription's notification (see _dcsa_bodies) replaces all of it
            # DCSA signs with one secret: the current one (its PUT .../secret replaces it at once).
            body, headers = dcsa_body, dcsa.notification_headers(keys[0], row.subscription_id, dcsa_body)
        try:
            async with self.client.stream(
                "POST", row.url, content=body, headers=headers, timeout=self.settings.webhook_timeout_seconds
            ) as response:
                received = b""
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if len(received) >= deliveries.RESPONSE_BODY_LIMIT:
                        break
            text = received[: deliveries.RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace").replace("\x00", "")
            return {"status_code": response.status_code, "latency_ms": (time.perf_counter() - started) * 1000,
                    "response_body": text, "error": None}
        except httpx.HTTPError as error:
            return {"status_code": None, "latency_ms": (time.perf_counter() - started) * 1000,
                    "response_body": None, "error": f"{type(error).__name__}: {error}"[:300]}


class EmbeddedWorker:
    """A Worker running as a task of the API process's event loop."""

    def __init__(self, worker: Worker) -> None:
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(worker.run(self.stop_event), name="caravan-webhook-worker")

    async def stop(self) -> None:
        self.stop_event.set()
        try:
            await asyncio.wait_for(self.task, timeout=15)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self.task.cancel()


def start_embedded_worker(app: Any) -> EmbeddedWorker:
    return EmbeddedWorker(Worker(app.state.sessionmaker, app.state.settings))
