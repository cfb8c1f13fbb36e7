"""Signing deliveries (Standard Webhooks) and keeping signing secrets sealed at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import sealing_key
from app.db import utcnow
from app.webhooks.models import WebhookSubscription

SECRET_PREFIX = "whsec_"


# --- signing (Standard Webhooks) -------------------------------------------------------

def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


# --- signing secrets at rest --------------------------------------------------------
#
# The worker needs each secret back to sign with it, so it cannot be hashed like an
# API key. With ``CARAVAN_WEBHOOK_SECRET_KEY`` set (base64 of 32 random bytes, kept
# out of the database), secrets are stored sealed with AES-256-GCM, so a copy of the
# database alone cannot forge a partner's webhooks. Rows written without a key stay
# readable as they are; a sealed row without the key is an error, never a guess.
#
# Rotation: the sealed form names its key (``key_id``), so a secret sealed with a key
# now listed in ``CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS`` opens with that key alone,
# and ``reseal_secrets`` can tell which rows still need the current one.
#   sealed:v2:<key id>:<base64 nonce(12) ‖ ciphertext ‖ tag>   written now
#   sealed:v1:<base64 nonce(12) ‖ ciphertext ‖ tag>            written before key ids; opens with any configured key

SEALED_PREFIX = "sealed:"
_SEALED_V1 = "sealed:v1:"
_SEALED_V2 = "sealed:v2:"
_SEALING_CONTEXT = b"caravan webhook signing secret"
# Responses kept to replay an Idempotency-Key: creating or rotating a subscription answers
# with its secret, which must not lie in plaintext beside the sealed copy.
RESPONSE_CONTEXT = b"caravan idempotent response"
_KEY_ID_CONTEXT = b"caravan webhook sealing key id"


class SealedSecretError(RuntimeError):
    """A stored signing secret that cannot be opened with the configured keys.

    Its message is for the operator's log (it names the key id, never key material);
    it is not shown to partners.
    """


@lru_cache(maxsize=16)
def key_id(encoded_key: str) -> str:
    """A short public name of a sealing key (8 hex digits): which key sealed a row, without trying every key.

    An HMAC of a fixed label under the key, not a hash of the key itself, so it says
    nothing about the key; 32 bits only have to tell a handful of configured keys apart.
    """
    return hmac.new(sealing_key(encoded_key), _KEY_ID_CONTEXT, hashlib.sha256).hexdigest()[:8]


@lru_cache(maxsize=16)
def _aead(encoded_key: str) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(sealing_key(encoded_key))


def seal(secret: str, encoded_key: str | None, context: bytes = _SEALING_CONTEXT) -> str:
    """The form a signing secret is stored in: sealed when a key is configured, else as given.

    ``context`` (authenticated, not stored) tells what the text is, so a sealed value of
    one kind cannot be passed off as another.
    """
    if not encoded_key:
        return secret
    nonce = secrets.token_bytes(12)
    sealed = _aead(encoded_key).encrypt(nonce, secret.encode(), context)
    return f"{_SEALED_V2}{key_id(encoded_key)}:" + base64.b64encode(nonce + sealed).decode()


def is_sealed_with(stored: str, encoded_key: str) -> bool:
    """Whether ``stored`` is already in the form ``seal`` writes with this key (nothing to reseal)."""
    return stored.startswith(f"{_SEALED_V2}{key_id(encoded_key)}:")


def _sealed_parts(stored: str) -> tuple[str | None, bytes]:
    """The key id (None in the v1 form) and the sealed bytes; SealedSecretError when malformed."""
    if stored.startswith(_SEALED_V2):
        label, _, body = stored.removeprefix(_SEALED_V2).partition(":")
    elif stored.startswith(_SEALED_V1):
        label, body = None, stored.removeprefix(_SEALED_V1)
    else:
        raise SealedSecretError(f"a webhook secret is sealed in an unknown form ({stored[:10]!r})")
    try:
        raw = base64.b64decode(body, validate=True)
    except ValueError:
        raw = b""
    if len(raw) < 12 + 16:
        raise SealedSecretError("a sealed webhook secret is malformed")
    return label, raw


def unseal(
    stored: str, encoded_key: str | None, previous_keys: Iterable[str] = (), context: bytes = _SEALING_CONTEXT
) -> str:
    """The signing secret from its stored form (``seal``): plaintext as it is, sealed opened with
    the current key or a previous one. AES-GCM's tag tells whether a key fits; when none does
    this raises SealedSecretError rather than sign with a wrong secret."""
    if not stored.startswith(SEALED_PREFIX):
        return stored
    keys = [key for key in (encoded_key, *previous_keys) if key]
    if not keys:
        raise SealedSecretError("a webhook secret is sealed but CARAVAN_WEBHOOK_SECRET_KEY is not set")
    from cryptography.exceptions import InvalidTag

    label, raw = _sealed_parts(stored)
    for key in keys:
        if label is not None and key_id(key) != label:
            continue
        try:
            return _aead(key).decrypt(raw[:12], raw[12:], context).decode()
        except InvalidTag:
            continue
    sealed_with = f"key {label}" if label else "a key of before key ids (sealed:v1)"
    raise SealedSecretError(
        f"no configured key opens a webhook secret sealed with {sealed_with}; configured keys: "
        + ", ".join(key_id(key) for key in keys)
        + " (CARAVAN_WEBHOOK_SECRET_KEY, then CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS)"
    )


def resealed(stored: str, encoded_key: str, previous_keys: Iterable[str] = ()) -> str | None:
    """``stored`` sealed with the current key, or None when it already is; SealedSecretError when no
    configured key opens it. Opens even a row it would skip, so a damaged one is reported, not counted as done."""
    secret = unseal(stored, encoded_key, previous_keys)
    return None if is_sealed_with(stored, encoded_key) else seal(secret, encoded_key)


@dataclass
class ResealCounts:
    """What ``reseal_secrets`` did, row by row (a row's secret and previous secret count as one)."""

    resealed: int = 0
    current: int = 0  # already sealed with the current key
    changed: int = 0  # written by someone else between the read and the write: left as they wrote it
    unopened: list[int] = field(default_factory=list)  # subscription ids no configured key opens


async def reseal_secrets(
    sessionmaker: async_sessionmaker[AsyncSession], encoded_key: str, previous_keys: Iterable[str] = (),
    batch: int = 500,
) -> ResealCounts:
    """Seal every subscription's secret and previous secret (deleted ones too: their rows still hold
    them) with the current key: those sealed with a previous key and those stored as given before a
    key was set. Afterwards the previous keys can leave the configuration; a second run finds nothing
    to do. A previous secret whose grace period is over is dropped instead (``_resealing``).

    Safe beside running API processes and workers: rows are read in id order, ``batch`` at a
    time, sealed outside any transaction, and each is written only if it still holds what was
    read (compare-and-set, both columns), so a secret changed meanwhile (a rotation moves it to
    ``previous_secret``) keeps its writer's value.
    """
    if not encoded_key:
        raise ValueError("resealing needs CARAVAN_WEBHOOK_SECRET_KEY")
    previous_keys = tuple(previous_keys)
    counts, after = ResealCounts(), 0
    while True:
        async with sessionmaker() as session:
            rows = (await session.execute(
                select(WebhookSubscription.id, WebhookSubscription.secret, WebhookSubscription.previous_secret,
                       WebhookSubscription.previous_secret_expires_at)
                .where(WebhookSubscription.id > after).order_by(WebhookSubscription.id).limit(batch)
            )).all()
        if not rows:
            return counts
        after = rows[-1].id
        changes = []
        now = utcnow()
        for row in rows:
            try:
                change = _resealing(row, now, encoded_key, previous_keys)
            except SealedSecretError:
                counts.unopened.append(row.id)
                continue
            if change is None:
                counts.current += 1
            else:
                changes.append(change)
        if changes:
            await _store_unless_changed(sessionmaker, changes, counts)


@dataclass(frozen=True)
class Reseal:
    """One row's secrets as read and as they are to be written."""

    subscription_id: int
    old: str
    old_previous: str | None
    new: str
    new_previous: str | None


def _resealing(row: Any, now: datetime, encoded_key: str, previous_keys: Iterable[str]) -> Reseal | None:
    """What to write for one row (None: nothing). A previous secret still signing is resealed; one
    whose grace period is over is dropped rather than resealed: nothing signs with it any more, and
    a key only it needed (or no key at all) must not keep the command from finishing."""
    new = resealed(row.secret, encoded_key, previous_keys)
    new_previous, previous_changed = row.previous_secret, False
    if row.previous_secret is not None:
        if previous_secret_until(row, now) is None:
            new_previous, previous_changed = None, True
        elif (resealed_previous := resealed(row.previous_secret, encoded_key, previous_keys)) is not None:
            new_previous, previous_changed = resealed_previous, True
    if new is None and not previous_changed:
        return None
    return Reseal(row.id, row.secret, row.previous_secret, new or row.secret, new_previous)


async def _store_unless_changed(
    sessionmaker: async_sessionmaker[AsyncSession], changes: list[Reseal], counts: ResealCounts
) -> None:
    async with sessionmaker() as session:
        for change in changes:
            result = await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == change.subscription_id, WebhookSubscription.secret == change.old,
                       WebhookSubscription.previous_secret.is_not_distinct_from(change.old_previous))
                .values(secret=change.new, previous_secret=change.new_previous,
                        **({} if change.new_previous else {"previous_secret_expires_at": None}))
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:
                counts.resealed += 1
            else:
                counts.changed += 1
        await session.commit()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, the key being the secret's base64 part decoded."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signatures(secrets_: Iterable[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``sign`` per secret, space-separated (Standard Webhooks lets a
    receiver accept any of them, which is what makes a rotation seamless)."""
    return " ".join(sign(secret, webhook_id, timestamp, body) for secret in secrets_)


def signing_secrets(row: Any, now: datetime, encoded_key: str | None, previous_keys: Iterable[str] = ()) -> list[str]:
    """What a delivery of ``row`` (a subscription's ``secret``, ``previous_secret`` and
    ``previous_secret_expires_at``) is signed with: the current secret, then the previous one
    while its grace period lasts.

    SealedSecretError when either cannot be opened: a delivery without the previous secret's
    signature would fail at a receiver that has not switched yet, so it is held instead.
    """
    opened = [unseal(row.secret, encoded_key, previous_keys)]
    if previous_secret_until(row, now) is not None:
        opened.append(unseal(row.previous_secret, encoded_key, previous_keys))
    return opened


def previous_secret_until(row: Any, now: datetime) -> datetime | None:
    """When the previous secret stops signing, or None when it already has (or there is none)."""
    expires_at = row.previous_secret_expires_at
    return expires_at if row.previous_secret and expires_at is not None and expires_at > now else None


def webhook_id(delivery_id: int) -> str:
    return f"msg_{delivery_id}"
