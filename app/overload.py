"""Overload is a 503 with Retry-After, never a 500 or a 30-second wait.

``Admission`` bounds the requests one process works on at once (sized with its
database pool, so a request that starts finds a connection) and lets a request wait
for a place for a short, stated time; one that cannot start by then is answered
``503`` problem+json with ``Retry-After`` at once. A database pool that still runs
dry (the webhook worker shares it) times out after ``db_pool_timeout_s``, and that
too is a 503 (``install_error_handlers``, and here for what escapes the app before
it answers, such as the Idempotency-Key middleware's own reads).
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_MEDIA_TYPE, problem

RETRY_AFTER_S = 1
# Paths that touch no database and must answer even when the process is full.
UNBOUNDED_PATHS = ("/healthz",)


def overload_problem(detail: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(problem(503, "overloaded", "Service unavailable", detail)).encode()
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
               (b"retry-after", str(RETRY_AFTER_S).encode())]
    return body, headers


class Admission:
    """At most ``limit`` requests in flight in this process; a request waits at most ``wait_s`` for a place."""

    def __init__(self, app: ASGIApp, limit: int, wait_s: float):
        self.app = app
        self.limit = limit
        self.wait_s = wait_s
        self._places: asyncio.Semaphore | None = None

    @property
    def in_flight(self) -> int:
        return 0 if self._places is None else self.limit - self._places._value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNBOUNDED_PATHS or scope["path"].startswith("/docs"):
            await self.app(scope, receive, send)
            return
        if self._places is None:  # made on the serving loop
            self._places = asyncio.Semaphore(self.limit)
        try:
            await asyncio.wait_for(self._places.acquire(), self.wait_s)
        except TimeoutError:
            await self._refuse(send, f"the server is at capacity ({self.limit} requests in progress); retry shortly")
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except PoolTimeout:
            if started:
                raise
            await self._refuse(send, "no database connection came free in time; retry shortly")
        finally:
            self._places.release()

    @staticmethod
    async def _refuse(send: Send, detail: str) -> None:
        body, headers = overload_problem(detail)
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
