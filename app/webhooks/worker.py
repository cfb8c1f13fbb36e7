"""The delivery worker: claims due outbox rows, POSTs them signed, records each attempt.

Run it as ``caravan worker`` (as many as you like: claims use FOR UPDATE SKIP
LOCKED and a lease), or inside ``caravan serve`` (``CARAVAN_WEBHOOK_WORKER=true``,
the default there) as a task of the app's lifespan. Delivery is at least once: a
worker killed mid-batch leaves its rows leased; when the lease runs out another
worker sends them again, with the same ``webhook-id`` so receivers can drop repeats.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import utcnow
from app.webhooks import service

log = logging.getLogger("caravan.webhooks")


def body_for(row: Any) -> bytes:
    """The POSTed JSON: ``{"type", "timestamp", "data"}`` with the event as the feed shows it."""
    document = {
        "type": row.event_type,
        "timestamp": row.created_at.isoformat(),
        "data": {"id": row.event_id, **row.payload},
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


class Worker:
    """Delivers webhooks until ``stop`` is set; ``run_once`` does one claim-deliver-record round."""

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
            self.client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        try:
            while not stop.is_set():
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

    async def run_once(self) -> int:
        token = f"{self.name}-{secrets.token_hex(5)}"
        async with self.sessionmaker() as session:
            rows = await service.claim(
                session, token, self.settings.webhook_batch_size, self.settings.webhook_lease_seconds, utcnow()
            )
            await session.commit()
        if not rows:
            return 0
        semaphore = asyncio.Semaphore(self.settings.webhook_concurrency)

        async def one(row: Any) -> tuple[Any, dict[str, Any]]:
            async with semaphore:
                return row, await self._post(row)

        outcomes = await asyncio.gather(*(one(row) for row in rows))
        # One transaction records the whole batch (the lease covers the time the posts took).
        async with self.sessionmaker() as session:
            for row, outcome in outcomes:
                await service.record_attempt(
                    session, token=token, delivery_id=row.id, subscription_id=row.subscription_id,
                    attempts=row.attempts, max_attempts=self.settings.webhook_max_attempts,
                    retry_base=self.settings.webhook_retry_base_seconds,
                    retry_cap=self.settings.webhook_retry_max_seconds, now=utcnow(), **outcome,
                )
            await session.commit()
        return len(rows)

    async def _refusal(self, url: str) -> str | None:
        if self.settings.webhook_allow_private_urls:
            return None
        cached = self._resolved.get(url)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        refusal = await service.url_refusal(url)
        self._resolved[url] = (time.monotonic() + 60, refusal)
        return refusal

    async def _post(self, row: Any) -> dict[str, Any]:
        """POST one delivery; never raises (the outcome says what happened)."""
        started = time.perf_counter()
        if refusal := await self._refusal(row.url):
            return {"status_code": None, "latency_ms": 0.0, "response_body": None, "error": f"refused: {refusal}"[:300]}
        body = body_for(row)
        message_id = service.webhook_id(row.id)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "Caravan-Webhooks/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": service.sign(row.secret, message_id, timestamp, body),
        }
        try:
            async with self.client.stream(
                "POST", row.url, content=body, headers=headers, timeout=self.settings.webhook_timeout_seconds
            ) as response:
                received = b""
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if len(received) >= service.RESPONSE_BODY_LIMIT:
                        break
            text = received[: service.RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace").replace("\x00", "")
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
