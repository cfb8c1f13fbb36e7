"""Overload is a 503 with Retry-After, never a 500 or a 30-second wait.

``Admission`` bounds the requests one process works on at once and lets a request wait
for a place for a short, stated time; one that cannot start by then is answered ``503``
problem+json with ``Retry-After`` at once. A database pool that still runs dry (the
webhook worker shares it) times out after ``db_pool_timeout_s``, and that too is a 503
(``install_error_handlers``, and here for what escapes the app before it answers, such as
the Idempotency-Key middleware's own reads).

The bound adapts to the CPU (additive increase, multiplicative decrease). Sized with the
database pool it keeps every request that starts supplied with a connection, but on a
machine whose CPU is full it still admits more work than the CPU can finish: every
request then waits, for the CPU, in the event loop and in the kernel's socket queues,
before this middleware even sees it, and a refusal comes seconds late. So the process
watches its own event loop: a timer due every ``TICK_S`` that fires more than ``LAG_S``
late means the CPU is short: until a tick is on time again, what arrives is refused at once
(while anything is in flight), and the bound shrinks by a quarter (down to ``MIN_LIMIT``);
while the loop keeps time it grows back by ``GROWTH`` a tick, up to the configured limit. The
work refused is work the CPU could not have done in time anyway, and refusing it is cheap.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque

from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_MEDIA_TYPE, problem

RETRY_AFTER_S = 1
# Paths that touch no database and must answer even when the process is full.
UNBOUNDED_PATHS = ("/healthz",)
TICK_S = 0.025  # how often the event loop's punctuality is sampled
LAG_S = 0.05  # a tick this late: the CPU is short
MIN_LIMIT = 2
GROWTH = 0.25  # places added per punctual tick (10 a second): slower than it falls


def overload_problem(detail: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(problem(503, "overloaded", "Service unavailable", detail)).encode()
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
               (b"retry-after", str(RETRY_AFTER_S).encode())]
    return body, headers


class Admission:
    """At most ``limit`` requests in flight in this process (fewer while its event loop runs late); a
    request waits at most ``wait_s`` for a place, first come first served."""

    def __init__(self, app: ASGIApp, limit: int, wait_s: float, adaptive: bool = True):
        self.app = app
        self.limit = limit
        self.wait_s = wait_s
        self.adaptive = adaptive
        self.current_limit = float(limit)
        self.running_late = False  # the last tick fired late: refuse what arrives, even with places free
        self._active = 0
        self._waiters: deque[asyncio.Future] = deque()
        self._watching: asyncio.AbstractEventLoop | None = None

    @property
    def in_flight(self) -> int:
        return self._active

    # --- the event loop's punctuality ---------------------------------------------------------

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Sample the loop's lateness with a timer (not a task: nothing to cancel when the loop closes)."""
        if self._watching is loop or not self.adaptive:
            return
        self._watching = loop
        due = loop.time() + TICK_S
        loop.call_at(due, self._tick, loop, due)

    def _tick(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        late = loop.time() - due
        self.running_late = late > LAG_S
        if self.running_late:
            self.current_limit = max(min(MIN_LIMIT, self.limit), self.current_limit * 0.75)
        elif self.current_limit < self.limit:
            self.current_limit = min(self.limit, self.current_limit + GROWTH)
            self._grant()
        if self._watching is loop:
            due = loop.time() + TICK_S
            loop.call_at(due, self._tick, loop, due)

    # --- places -------------------------------------------------------------------------------

    def _grant(self) -> None:
        while self._waiters and self._active < int(self.current_limit):
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._active += 1

    async def _acquire(self) -> bool:
        if self.running_late and self._active > 0:
            return False  # the CPU is behind with the work it has: more would only wait for it
        if not self._waiters and self._active < int(self.current_limit):
            self._active += 1
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=self.wait_s)
        except asyncio.CancelledError:  # the client went away while waiting
            if waiter.done():
                self._release()
            else:
                waiter.cancel()
                self._waiters.remove(waiter)
            raise
        if waiter.done():
            return True  # granted (the place is counted by whoever granted it)
        waiter.cancel()
        self._waiters.remove(waiter)
        return False

    def _release(self) -> None:
        self._active -= 1
        self._grant()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNBOUNDED_PATHS or scope["path"].startswith("/docs"):
            await self.app(scope, receive, send)
            return
        self._watch(asyncio.get_running_loop())
        if not await self._acquire():
            await self._refuse(send, f"the server is at capacity ({int(self.current_limit)} requests in progress); "
                                     "retry shortly")
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
            self._release()

    @staticmethod
    async def _refuse(send: Send, detail: str) -> None:
        body, headers = overload_problem(detail)
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
