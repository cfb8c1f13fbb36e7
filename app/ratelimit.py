"""Rate limits as token buckets in process memory: requests per API key, failed logins per address.

Each API key has a bucket of ``rate_limit_burst`` tokens refilled at ``rate_limit_per_s``
a second. Every authenticated request takes one as soon as its key is known, before any
work (and before an Idempotency-Key is claimed); a request that finds less than one is
answered 429 with ``Retry-After``, having changed nothing.

Each client address has a smaller bucket that only failed authentications (401) drain.
While it is empty every request from that address is answered 429 before its key is
looked up, a valid key's too: were a valid key served, 200 against 429 would tell a
guesser which key is right.

On PostgreSQL (``rate_limit_shared``, by default there) the per-key buckets live in the
database, one ``rate_limit_buckets`` row per key, so every API process and machine draws on
the same bucket: N processes give a key its limit, not N times it. A request's token is
taken by one atomic statement (an INSERT ... ON CONFLICT DO UPDATE ... RETURNING that
refills by the database's clock and takes a token if there is one) on a connection of its
own in autocommit, outside the request's transaction, so the row is locked for that
statement only, never while the request works.

Elsewhere (the embedded SQLite default), and for the failed-authentication buckets always,
the buckets live in this process's memory: the check is a dict lookup and some arithmetic,
never a database statement, and the limit is enforced per API process: under ``caravan serve
--workers N`` a key whose connections land on all N processes can get up to N times the limit.

A table holds at most ``rate_limit_max_buckets`` buckets; past that the least recently
used one goes. A bucket idle for burst/rate seconds is full again, just what a new one
would be, so dropping it changes nothing; only more distinct keys (or addresses) than the
bound, all active within that time, can make an evicted one start over full.

Response headers follow draft-ietf-httpapi-ratelimit-headers-06 (the separate fields,
not the later combined ``RateLimit`` field): ``RateLimit-Limit`` is the burst (the
bucket's size), ``RateLimit-Remaining`` the whole requests left now, ``RateLimit-Reset``
the seconds until the bucket is full again. Every response to an authenticated request
carries them, so a client can slow down before it is refused.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.db import Base
from app.errors import TooManyRequests

Clock = Callable[[], float]
HeaderFields = list[tuple[bytes, bytes]]

# Where the RateLimit-* fields of an admitted request wait for the response (scope["state"]).
STATE_KEY = "rate_limit"


class TokenBuckets:
    """Token buckets by key: ``burst`` tokens each, refilled at ``rate`` a second, at most ``max_buckets``."""

    def __init__(self, rate: float, burst: int, max_buckets: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_buckets = max_buckets
        self.clock = clock
        # key -> [tokens, when they were counted]; least recently used first.
        self._buckets: OrderedDict[Hashable, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def level(self, key: Hashable) -> float:
        """The tokens ``key`` holds now, taking none (a key not in the table holds ``burst``)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return self.burst
        return min(self.burst, bucket[0] + (self.clock() - bucket[1]) * self.rate)

    def take(self, key: Hashable, *, debt: bool = False) -> tuple[bool, float]:
        """Take a token if ``key`` has one (with ``debt``, take it anyway); whether it had one, and the tokens left."""
        now = self.clock()
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = [self.burst, now]
            if len(buckets) > self.max_buckets:
                buckets.popitem(last=False)
        else:
            buckets.move_to_end(key)
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        allowed = bucket[0] >= 1.0
        if allowed or debt:
            bucket[0] -= 1.0
        return allowed, bucket[0]

    def seconds_until(self, tokens: float, wanted: float) -> int:
        """Whole seconds until a bucket holding ``tokens`` holds ``wanted`` (0 when it already does)."""
        return max(0, math.ceil((wanted - tokens) / self.rate))


class RateLimitBucket(Base):
    """A token bucket shared by the API processes (PostgreSQL): ``tokens`` as counted at ``counted_at``."""

    __tablename__ = "rate_limit_buckets"

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)  # "key:<api key id>"
    tokens: Mapped[float]
    counted_at: Mapped[datetime]
    allowed: Mapped[bool]  # whether the last take found a token


# Refill by the database's clock (one clock for every machine), never backwards, then take a
# token if there is one; autocommit, so the row lock is held for this statement alone.
_LEVEL = ("LEAST($2::double precision, b.tokens + GREATEST(EXTRACT(EPOCH FROM (now() - b.counted_at))::double precision, 0)"
          " * $3::double precision)")
_TAKE = f"""
INSERT INTO rate_limit_buckets AS b (bucket, tokens, counted_at, allowed)
VALUES ($1, $2::double precision - 1, now(), true)
ON CONFLICT (bucket) DO UPDATE SET
    tokens = CASE WHEN {_LEVEL} >= 1 THEN {_LEVEL} - 1 ELSE {_LEVEL} END,
    counted_at = GREATEST(b.counted_at, now()),
    allowed = {_LEVEL} >= 1
RETURNING allowed, tokens
"""


class SharedTokenBuckets:
    """Token buckets by key in the database (``rate_limit_buckets``), shared by every process using it."""

    def __init__(self, rate: float, burst: int, engine: AsyncEngine) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.engine = engine

    async def take(self, key: Hashable) -> tuple[bool, float]:
        """Take a token if ``key`` has one; whether it had one, and the tokens left (as ``TokenBuckets.take``)."""
        async with self.engine.connect() as connection:
            # Straight to asyncpg, outside any transaction (asyncpg then commits each statement):
            # SQLAlchemy's execution layer would cost more than the statement.
            adapted = (await connection.get_raw_connection()).dbapi_connection
            async with adapted._execute_mutex:
                allowed, tokens = await adapted._connection.fetchrow(_TAKE, f"key:{key}", self.burst, self.rate)
        return bool(allowed), float(tokens)

    def seconds_until(self, tokens: float, wanted: float) -> int:
        return max(0, math.ceil((wanted - tokens) / self.rate))


def _buckets(rate: float, burst: int, max_buckets: int, clock: Clock) -> TokenBuckets | None:
    return TokenBuckets(rate, burst, max_buckets, clock) if rate > 0 else None


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it (behind a proxy, what uvicorn's --proxy-headers made of it)."""
    client = scope.get("client")
    return client[0] if client else ""


class RateLimiter:
    """The app's two limits, either off when its rate is 0; one instance per app, kept in ``app.state``."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic, engine: AsyncEngine | None = None) -> None:
        """With ``engine``, the per-key buckets are kept in its database (``SharedTokenBuckets``)."""
        self.keys: TokenBuckets | SharedTokenBuckets | None = _buckets(
            settings.rate_limit_per_s, settings.rate_limit_burst, settings.rate_limit_max_buckets, clock)
        if self.keys is not None and engine is not None:
            self.keys = SharedTokenBuckets(settings.rate_limit_per_s, settings.rate_limit_burst, engine)
        self.addresses = _buckets(settings.rate_limit_auth_failures_per_s, settings.rate_limit_auth_failures_burst,
                                  settings.rate_limit_max_buckets, clock)
        self._limit_field = (b"ratelimit-limit", str(settings.rate_limit_burst).encode())
        self._per_s = f"{settings.rate_limit_per_s:g}"

    @staticmethod
    def admitted(scope: Scope) -> bool:
        """Whether this request was already counted against its key (by the Idempotency-Key middleware)."""
        return STATE_KEY in scope.get("state", ())

    async def admit(self, scope: Scope, api_key_id: int) -> None:
        """Count the request against its key, once; TooManyRequests when the key has no request left.

        Leaves the RateLimit-* fields in the request's state for ``RateLimitHeaders``.
        """
        keys = self.keys
        state = scope.setdefault("state", {})
        if STATE_KEY in state:
            return
        if keys is None:
            state[STATE_KEY] = None
            return
        allowed, tokens = await keys.take(api_key_id) if isinstance(keys, SharedTokenBuckets) else keys.take(api_key_id)
        state[STATE_KEY] = [
            self._limit_field,
            (b"ratelimit-remaining", str(max(0, int(tokens))).encode()),
            (b"ratelimit-reset", str(keys.seconds_until(tokens, keys.burst)).encode()),
        ]
        if not allowed:
            raise TooManyRequests(
                f"this API key is over its rate limit of {self._per_s} requests a second"
                f" (bursts of {int(keys.burst)})", max(1, keys.seconds_until(tokens, 1.0)),
            )

    def check_address(self, scope: Scope) -> None:
        """TooManyRequests while the client's address has used up its failed authentications."""
        addresses = self.addresses
        if addresses is None:
            return
        tokens = addresses.level(client_address(scope))
        if tokens < 1.0:
            raise TooManyRequests("too many failed authentications from this address",
                                  max(1, addresses.seconds_until(tokens, 1.0)))

    def address_locked(self, scope: Scope) -> bool:
        return self.addresses is not None and self.addresses.level(client_address(scope)) < 1.0

    def authentication_failed(self, scope: Scope) -> None:
        """Count a failed authentication against the client's address.

        Counted even past empty (into debt): requests that passed ``check_address`` together
        and failed together must all be paid for, or concurrency would multiply the rate.
        """
        if self.addresses is not None:
            self.addresses.take(client_address(scope), debt=True)


class RateLimitHeaders:
    """Pure ASGI middleware: adds the RateLimit-* fields of an admitted request to its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                fields = scope.get("state", {}).get(STATE_KEY)
                if fields:
                    message["headers"] = [*message.get("headers", ()), *fields]
            await send(message)

        await self.app(scope, receive, send_with_fields)
