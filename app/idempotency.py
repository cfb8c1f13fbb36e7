"""Idempotency-Key for every POST (API.md): the first response is replayed.

Same key and same request within 24 h: the stored status and body come back
and nothing runs twice. Same key, different request: 422. Same key while the
first request still runs: 409. Keys are scoped to the API key that sent them.

A pure ASGI middleware: it claims the key in its own short transaction before
the request runs (the unique constraint decides races between processes),
and stores the response after. The request's own transaction marks the claim
COMMITTED in the same commit as its work (``app.db.BEFORE_COMMIT``), so a process
that dies between that commit and storing the response never leaves work to be
done twice: a retry is told the request was carried out (409) for 24 h. A claim
whose request never committed (it failed, or its process died first) stays
IN_FLIGHT for ``LEASE`` and may then be retried. Server errors (5xx) release an
uncommitted claim at once so the client may retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.models import ApiKey
from app.accounts.service import KEY_PREFIX, hash_key, key_expired
from app.db import BEFORE_COMMIT, Base, utcnow
from app.errors import (
    PROBLEM_MEDIA_TYPE,
    Conflict,
    FieldError,
    TooManyRequests,
    problem,
)
from app.ratelimit import RateLimiter

RETENTION = timedelta(hours=24)
LEASE = timedelta(minutes=2)
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("content-type", "etag", "location")


class IdempotencyRecord(Base):
    """A claimed Idempotency-Key and, once done, the response it produced."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # IN_FLIGHT | COMMITTED (work done, no answer yet) | DONE
    response_status: Mapped[int | None]
    response_headers: Mapped[dict[str, Any] | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


def _problem(status: int, slug: str, title: str, detail: str, field: str | None = None) -> tuple[int, bytes]:
    errors = [FieldError(field, detail)] if field else None
    return status, json.dumps(problem(status, slug, title, detail, errors)).encode()


class IdempotencyMiddleware:
    """Claims, replays and stores; see the module's docstring.

    It authenticates the key itself, so it also counts the request against the key's
    rate limit (``rate_limiter_getter``) before claiming: a throttled request claims
    nothing, and a claimed one is never refused afterwards and stored as a 429.
    """

    def __init__(self, app: ASGIApp, sessionmaker_getter, rate_limiter_getter=None,
                 seal_body: Callable[[str], str] | None = None, open_body: Callable[[str], str] | None = None) -> None:
        self.app = app
        self.sessionmaker_getter = sessionmaker_getter
        self.rate_limiter_getter = rate_limiter_getter
        # Stored responses may hold secrets (a new webhook subscription's): with a sealing key
        # configured they are kept sealed (``seal_body``) and opened to replay (``open_body``).
        self.seal_body = seal_body or (lambda text: text)
        self.open_body = open_body or (lambda text: text)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        sessionmaker = self.sessionmaker_getter(scope)
        limiter: RateLimiter | None = self.rate_limiter_getter(scope) if self.rate_limiter_getter else None
        if limiter is not None and limiter.address_locked(scope):  # the app answers 429 without a look-up
            await self.app(scope, receive, send)
            return
        api_key_id = await _api_key_id(sessionmaker, headers.get("authorization", ""))
        if api_key_id is None:  # not authenticated: the app answers 401, whatever the header holds
            await self.app(scope, receive, send)
            return
        if limiter is not None:
            try:
                await limiter.admit(scope, api_key_id)
            except TooManyRequests as error:
                await _send(send, error.status, json.dumps(error.to_problem(scope["path"])).encode(),
                            [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                             *((k.lower().encode(), v.encode()) for k, v in error.headers.items())])
                return
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _send(send, *_problem(422, "validation-error", "Invalid input",
                                        f"must be 1-{MAX_KEY_LENGTH} printable characters", "Idempotency-Key"))
            return

        body, disconnected = await _read_body(receive)
        if disconnected:
            return
        request_hash = hashlib.sha256(
            b"\n".join([scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()

        outcome = await _claim(sessionmaker, api_key_id, key, request_hash, self.open_body)
        if not isinstance(outcome, int):
            await _send(send, *outcome[:2], extra_headers=outcome[2], replayed=outcome[3])
            return
        claim_id = outcome
        scope[BEFORE_COMMIT] = [*scope.get(BEFORE_COMMIT, ()), partial(_mark_committed, claim_id)]

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": bytearray()}
        replay_sent = False

        async def replay_receive() -> Message:
            nonlocal replay_sent
            if not replay_sent:
                replay_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capturing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_receive, capturing_send)
        finally:
            await _finish(sessionmaker, claim_id, captured, self.seal_body)


async def _api_key_id(sessionmaker, authorization: str) -> int | None:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX) or len(token) > 128:
        return None
    async with sessionmaker() as session:
        row = (await session.execute(
            select(ApiKey.id, ApiKey.revoked_at, ApiKey.expires_at).where(ApiKey.key_hash == hash_key(token))
        )).first()
        await session.commit()
    return row.id if row is not None and row.revoked_at is None and not key_expired(row.expires_at) else None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return bytes(chunks), True
        chunks += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(chunks), False


async def _claim(sessionmaker, api_key_id: int, key: str, request_hash: str, open_body: Callable[[str], str]):
    """Claim the key (its record's id: go ahead) or the answer to give instead: (status, body, headers, replayed)."""
    now = utcnow()
    async with sessionmaker() as session:
        try:
            async with session.begin_nested():
                claim = IdempotencyRecord(api_key_id=api_key_id, key=key, request_hash=request_hash,
                                          state="IN_FLIGHT", expires_at=now + LEASE)
                session.add(claim)
            await session.commit()
            return claim.id
        except IntegrityError:
            pass
        record = await session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
            .with_for_update()
        )
        if record is None or record.expires_at <= now:  # gone or stale: take it over
            if record is not None:
                await session.delete(record)
                await session.flush()
            claim = IdempotencyRecord(api_key_id=api_key_id, key=key, request_hash=request_hash,
                                      state="IN_FLIGHT", expires_at=now + LEASE)
            session.add(claim)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return (*_problem(409, "conflict", "Conflict", "a request with this Idempotency-Key is in progress"), [], False)
            return claim.id
        await session.commit()
    if record.request_hash != request_hash:
        return (*_problem(422, "validation-error", "Invalid input",
                          "this Idempotency-Key was used with a different request", "Idempotency-Key"), [], False)
    if record.state == "COMMITTED":
        return (*_problem(409, "conflict", "Conflict", "the request with this Idempotency-Key was carried out, but its "
                                                       "response is not stored (it is being stored now, or the server "
                                                       "stopped first): read the result rather than send the request "
                                                       "again"), [], False)
    if record.state != "DONE":
        return (*_problem(409, "conflict", "Conflict", "a request with this Idempotency-Key is in progress"), [], False)
    try:
        body = open_body(record.response_body or "")
    except Exception:  # sealed with a key no longer configured: the answer is lost, not guessed
        return (*_problem(409, "conflict", "Conflict", "the response stored for this Idempotency-Key can no longer "
                                                       "be read; send the request with a new Idempotency-Key"), [], False)
    headers = [(k.encode(), v.encode()) for k, v in (record.response_headers or {}).items() if k != "content-type"]
    content_type = (record.response_headers or {}).get("content-type", "application/json")
    return record.response_status, body.encode(), [(b"content-type", content_type.encode()), *headers], True


async def _mark_committed(claim_id: int, session) -> None:
    """In the request's own transaction: its work and this mark commit together, or neither does.

    A claim no longer there was taken over by a retry once its lease ran out (this request
    ran longer than ``LEASE``): the retry does the work, so this request's is rolled back.
    """
    marked = await session.execute(
        update(IdempotencyRecord).where(IdempotencyRecord.id == claim_id, IdempotencyRecord.state == "IN_FLIGHT")
        .values(state="COMMITTED", expires_at=utcnow() + RETENTION)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:
        raise Conflict("this request outlasted its Idempotency-Key claim and a retry took the key over; "
                       "nothing was done here")


async def _finish(sessionmaker, claim_id: int, captured: dict[str, Any], seal_body: Callable[[str], str]) -> None:
    where = (IdempotencyRecord.id == claim_id,)
    async with sessionmaker() as session:
        if captured["status"] >= 500:
            # Released for a retry only if the request's work did not commit.
            await session.execute(delete(IdempotencyRecord).where(*where, IdempotencyRecord.state == "IN_FLIGHT"))
        else:
            kept = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in captured["headers"]}
            await session.execute(
                update(IdempotencyRecord).where(*where).values(
                    state="DONE",
                    response_status=captured["status"],
                    response_headers={k: kept[k] for k in REPLAYED_HEADERS if k in kept},
                    response_body=seal_body(bytes(captured["body"]).decode("utf-8", errors="replace")),
                    expires_at=utcnow() + RETENTION,
                )
            )
        await session.commit()


async def purge_expired(sessionmaker, now: datetime, batch: int = 1000, max_batches: int = 10) -> int:
    """Delete the records past their ``expires_at`` (answers kept 24 h, claims whose lease ran
    out), in at most ``max_batches`` batches of ``batch``, each its own short transaction; how
    many went. Run by the webhook workers now and then, so the table holds about a day of keys."""
    purged = 0
    for _ in range(max_batches):
        async with sessionmaker() as session:
            # A claim whose lease ran out may belong to a request still running (past LEASE, it gives
            # way to a retry); it goes only once it has been stale for as long as answers are kept.
            expired = select(IdempotencyRecord.id).where(
                IdempotencyRecord.expires_at <= now,
                or_(IdempotencyRecord.state != "IN_FLIGHT", IdempotencyRecord.expires_at <= now - RETENTION),
            ).limit(batch)
            result = await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(expired.scalar_subquery()))
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        purged += result.rowcount
        if result.rowcount < batch:
            break
    return purged


async def _send(send: Send, status: int, body: bytes, extra_headers: list | None = None, replayed: bool = False) -> None:
    headers = extra_headers or [(b"content-type", PROBLEM_MEDIA_TYPE.encode())]
    if replayed:
        headers = [*headers, (b"idempotent-replayed", b"true")]
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
