"""Console sessions: an API key given once at sign-in becomes a server-side session.

The browser holds only a random session token (an HttpOnly cookie); the database holds its
SHA-256, the key it stands for and its expiry. Each request looks the session up with its key
and organisation: a session ends when it expires, when it is signed out (revoked), and when
its key is revoked or expires, so a page never sees more than that key may.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import ApiKey, ConsoleSession, Organization
from app.accounts.schemas import Role
from app.accounts.service import Caller, key_expired
from app.db import utcnow

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 64


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, caller: Caller, lifetime: timedelta) -> tuple[ConsoleSession, str]:
    """A new session for the key ``caller`` stands for; returns the row and the token (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = ConsoleSession(token_hash=hash_token(token), api_key_id=caller.api_key_id,
                         expires_at=utcnow() + lifetime)
    session.add(row)
    await session.flush()
    return row, token


async def caller_for_session(session: AsyncSession, token: str) -> tuple[Caller, ConsoleSession] | None:
    """The caller a session token stands for, or None when it is unknown, expired, signed out,
    or its key is revoked or expired."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    row = (await session.execute(
        select(ConsoleSession, ApiKey, Organization.role)
        .join(ApiKey, ApiKey.id == ConsoleSession.api_key_id)
        .join(Organization, Organization.id == ApiKey.organization_id)
        .where(ConsoleSession.token_hash == hash_token(token))
    )).first()
    if row is None:
        return None
    console_session, key, role = row
    now = utcnow()
    if console_session.revoked_at is not None or console_session.expires_at <= now:
        return None
    if key.revoked_at is not None or key_expired(key.expires_at):
        return None
    caller = Caller(organization_id=key.organization_id, role=Role(role), scopes=frozenset(key.scopes),
                    api_key_id=key.id)
    return caller, console_session


async def revoke_session(session: AsyncSession, token: str) -> None:
    """Sign out: the session's token is refused from now on."""
    if token and len(token) <= MAX_TOKEN_CHARS:
        await session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.token_hash == hash_token(token), ConsoleSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

