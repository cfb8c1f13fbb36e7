"""Organisations and keys: creation, lookup by bearer key, revocation."""

from __future__ import annotations

import time

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import ApiKey, Organization
from app.accounts.schemas import OPERATOR_ONLY_SCOPES, Role, Scope
from app.db import DriverStatement, utcnow
from app.errors import Forbidden, NotFound, Unprocessable

KEY_PREFIX = "cvn_"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's organisation, its role and the key's scopes."""

    organization_id: int
    role: Role
    scopes: frozenset[str]
    api_key_id: int

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    def require(self, scope: Scope, *, operator: bool = False) -> None:
        if scope.value not in self.scopes:
            raise Forbidden(f"this key lacks the scope {scope.value}")
        if operator and not self.is_operator:
            raise Forbidden("only the hub operator may do this")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_organization(session: AsyncSession, name: str, role: Role) -> Organization:
    org = Organization(name=name, role=role.value)
    session.add(org)
    await session.flush()
    return org


async def get_organization(session: AsyncSession, organization_id: int) -> Organization:
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"organisation {organization_id} not found")
    return org


async def list_organizations(session: AsyncSession, after_id: int, limit: int) -> list[Organization]:
    rows = await session.scalars(
        select(Organization).where(Organization.id > after_id).order_by(Organization.id).limit(limit + 1)
    )
    return list(rows)


async def create_api_key(
    session: AsyncSession, org: Organization, scopes: list[Scope], name: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for ``org`` (valid until ``expires_at`` when given); returns the row and the
    key, which is never stored."""
    if expires_at is not None and expires_at <= utcnow():
        raise Unprocessable("expires_at", "must be in the future")
    if org.role != Role.OPERATOR.value:
        for index, scope in enumerate(scopes):
            if scope in OPERATOR_ONLY_SCOPES:
                raise Unprocessable(f"scopes.{index}", f"{scope.value} is for the hub operator's keys only")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        organization_id=org.id,
        name=name,
        key_hash=hash_key(key),
        prefix=key[: len(KEY_PREFIX) + 6],
        scopes=sorted({s.value for s in scopes}),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, key


async def list_api_keys(session: AsyncSession, organization_id: int, after_id: int, limit: int) -> list[ApiKey]:
    rows = await session.scalars(
        select(ApiKey)
        .where(ApiKey.organization_id == organization_id, ApiKey.id > after_id)
        .order_by(ApiKey.id)
        .limit(limit + 1)
    )
    return list(rows)


async def revoke_api_key(session: AsyncSession, caller: Caller, key_id: int) -> None:
    """Operators with orgs:write revoke any key; any other key may revoke only itself (a leaked key's holder
    can kill it), not its organisation's other keys (API.md: accounts are the operator's)."""
    row = await session.get(ApiKey, key_id)
    may_manage = caller.is_operator and Scope.ORGS_WRITE.value in caller.scopes
    if row is None or (row.organization_id != caller.organization_id and not may_manage):
        raise NotFound(f"API key {key_id} not found")
    if not may_manage and row.id != caller.api_key_id:
        raise Forbidden("only the hub operator (orgs:write) revokes another key; a key may revoke itself")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    forget_key(row.id)


# Built once: every authenticated request runs it, and building the statement costs more than running it.
_CALLER_BY_HASH = DriverStatement(
    select(ApiKey.id, ApiKey.organization_id, ApiKey.scopes, ApiKey.revoked_at, Organization.role, ApiKey.expires_at)
    .join(Organization, Organization.id == ApiKey.organization_id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)


def key_expired(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at <= utcnow()


# Good keys this process has looked up: (database, key hash) -> (caller, key expiry, looked up at, monotonic).
# A revocation made in this process takes effect at once (``forget_key``); one made by another process
# (another worker, the CLI) within ``cache_s`` seconds. Unknown or refused keys are never kept.
_KNOWN_KEYS: dict[tuple[str, str], tuple[Caller, datetime | None, float]] = {}
KNOWN_KEYS_LIMIT = 10_000


def forget_key(key_id: int) -> None:
    """Drop a key from this process's cache (it was revoked here)."""
    for slot in [slot for slot, (caller, _, _) in _KNOWN_KEYS.items() if caller.api_key_id == key_id]:
        _KNOWN_KEYS.pop(slot, None)


async def caller_for_key(session: AsyncSession, key: str, cache_s: float = 0.0) -> Caller | None:
    """The caller a bearer key stands for, or None when the key is unknown, revoked or expired.

    With ``cache_s`` > 0 a good key is looked up in the database at most once in that many
    seconds per process (its expiry is still checked on every request)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    key_hash = hash_key(key)
    slot = (str(session.bind.url) if session.bind is not None else "", key_hash)
    if cache_s > 0 and (known := _KNOWN_KEYS.get(slot)) is not None:
        caller, expires_at, looked_up = known
        if time.monotonic() - looked_up < cache_s and not key_expired(expires_at):
            return caller
        _KNOWN_KEYS.pop(slot, None)
    rows = await _CALLER_BY_HASH.rows(session, {"key_hash": key_hash})
    if not rows:
        return None
    key_id, organization_id, scopes, revoked_at, role, expires_at = rows[0]
    if revoked_at is not None or key_expired(expires_at):
        return None
    caller = Caller(organization_id=organization_id, role=Role(role), scopes=frozenset(scopes), api_key_id=key_id)
    if cache_s > 0:
        if len(_KNOWN_KEYS) >= KNOWN_KEYS_LIMIT:
            _KNOWN_KEYS.clear()
        _KNOWN_KEYS[slot] = (caller, expires_at, time.monotonic())
    return caller
