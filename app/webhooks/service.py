"""Webhook rules: subscriptions, the transactional outbox, signing, and the delivery bookkeeping.

An event's outbox rows (``WebhookDelivery``: one per subscription that may see
it) are written in the transaction that writes the event, by ``enqueue`` (async
paths) or ``enqueue_sync`` (the before-flush hook that publishes booking status
changes). A subscription receives what its organisation may read in the feed:
an operator's everything, an exporter's the events of its own bookings and the
TRANSPORT events of departures its bookings ride.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from app.accounts.models import Organization
from app.accounts.schemas import Role
from app.accounts.service import Caller
from app.bookings.models import Booking
from app.bookings.service import SPACE_HOLDING
from app.config import sealing_key
from app.db import DriverStatement, utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.tracking.models import Leg, TrackingEvent
from app.tracking.schemas import EventType
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.webhooks.schemas import DeliveryStatus, SubscriptionCreate

SECRET_PREFIX = "whsec_"
# WebhookSubscription.format: what the worker POSTs (worker.py) for a subscription.
CARAVAN = "CARAVAN"  # Standard Webhooks, {"type", "timestamp", "data"} (/v1/webhook-subscriptions)
DCSA = "DCSA"  # a DCSA Track & Trace 2.2 notification (app/dcsa/subscriptions.py)
MAX_SUBSCRIPTIONS_PER_ORG = 25
RESPONSE_BODY_LIMIT = 1000
RIDING = tuple(s.value for s in SPACE_HOLDING)


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


# --- callback URLs -------------------------------------------------------------------

# The public address rule: Caravan calls a partner only at global unicast addresses. Some IPv6
# forms carry an IPv4 address, and a connection to one may end at that IPv4 address, so each
# such form is either judged by the IPv4 address it carries (``_carried_ipv4``) or refused
# whatever it carries (``_REFUSED_FORMS``). ``_refusal_of`` applies the rule; nothing else does.

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052

# Forms refused outright, each because what it carries cannot be judged soundly.
_REFUSED_FORMS: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    # IPv4-compatible (RFC 4291 2.5.5.1): deprecated since 2006 and routed nowhere; whether one
    # reaches its IPv4 address at all (an automatic tunnel) is this host's configuration, not the
    # address's, and no receiver needs one. ``::`` and ``::1`` are judged below as themselves.
    (ipaddress.IPv6Network("::/96"), "IPv4-compatible"),
    # NAT64 local-use (RFC 8215): the operator picks where in the /48 the IPv4 address sits
    # (RFC 6052 formats /48 to /96), so it cannot be read out, and the prefix is local by definition.
    (ipaddress.IPv6Network("64:ff9b:1::/48"), "NAT64 local-use"),
    # Teredo (RFC 4380): the packet goes through whichever Teredo relay is nearest (possibly one
    # inside this network) to a host behind a NAT at the obfuscated client address; judging the
    # server and client addresses it carries would not say where the connection ends.
    (ipaddress.IPv6Network("2001::/32"), "Teredo"),
)


def _is_global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address in itself: global unicast (the stdlib's IANA tables), never multicast."""
    return ip.is_global and not ip.is_multicast


def _carried_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address a connection to ``ip`` may end at, and the form's name (None: no such form).

    These forms are judged by that IPv4 address alone, so a public one is called: refusing
    them whole would refuse real receivers (behind DNS64 every IPv4-only host resolves into
    ``64:ff9b::/96``), and the stdlib's verdict on the IPv6 ranges themselves differs between
    Python patch releases (``2002::/16``).
    """
    if ip.ipv4_mapped:  # ::ffff:0:0/96: a dual-stack socket connects to the IPv4 address
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64_WELL_KNOWN:  # a NAT64 gateway connects to the last 32 bits (RFC 6052 2.2)
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:  # 2002::/16: a 6to4 router tunnels to the IPv4 address in bits 16-48 (RFC 3056)
        return "6to4", ip.sixtofour
    return None


def _refusal_of(address: str) -> str | None:
    """Why Caravan will not call ``address`` (None when it will): the public address rule, for the
    subscription's URL check and the worker's connections alike."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    private = "a private, loopback or reserved address"
    if isinstance(ip, ipaddress.IPv6Address):
        if carried := _carried_ipv4(ip):
            form, ipv4 = carried
            return None if _is_global(ipv4) else f"{private} ({address}, {form} for {ipv4})"
        for network, form in _REFUSED_FORMS:
            if ip in network and not (ip.is_unspecified or ip.is_loopback):
                return f"an address of a form Caravan does not call ({address}, {form})"
        if ip.is_reserved or ip.is_site_local:  # IETF-reserved space and fec0::/10, which 3.11.7 calls global
            return f"{private} ({address})"
    return None if _is_global(ip) else f"{private} ({address})"


async def resolve(host: str, port: int) -> list[str]:
    """The addresses a TCP connection to ``host`` may use, in the resolver's order, without repeats.

    Raises ``OSError`` (``socket.gaierror``) or ``UnicodeError`` when the host does not resolve.
    """
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def address_refusal(host: str, addresses: Iterable[str]) -> str | None:
    """Why ``host`` may not be called at ``addresses`` (None when every one of them is public)."""
    refused = sorted((a, why) for a in addresses if (why := _refusal_of(a)))
    if refused:
        return f"the host {host} resolves to {refused[0][1]}"
    return None


async def url_refusal(url: str) -> str | None:
    """Why ``url`` may not be called (None when it may): it must resolve, and only to public addresses.

    A check ahead of time only: the host may resolve differently when the worker connects
    (DNS rebinding), so the worker's connections check the addresses they use again
    (``app.webhooks.worker.PinnedBackend``).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "has no host"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except (socket.gaierror, UnicodeError, OSError):
        return f"the host {host} does not resolve"
    return address_refusal(host, addresses)


# --- subscriptions ------------------------------------------------------------------

async def create_subscription(
    session: AsyncSession, caller: Caller, data: SubscriptionCreate, allow_private: bool, secret_key: str | None = None
) -> tuple[WebhookSubscription, str]:
    """The new subscription and its signing secret (returned once; stored as ``seal`` makes it)."""
    secret = new_secret()
    row = await add_subscription(
        session, caller, url=str(data.url), event_types=[t.value for t in data.event_types], secret=secret,
        allow_private=allow_private, secret_key=secret_key,
    )
    return row, secret


async def add_subscription(
    session: AsyncSession, caller: Caller, *, url: str, event_types: list[str], secret: str, allow_private: bool,
    secret_key: str | None, format: str = CARAVAN, filters: dict[str, Any] | None = None, url_field: str = "url",
) -> WebhookSubscription:
    """Store a subscription of either format: the URL rule, the per-organisation cap and sealing apply to both."""
    if not allow_private and (refusal := await url_refusal(url)):
        raise Unprocessable(url_field, refusal)
    # The organisation's row lock makes count-then-insert one step: concurrent creations would
    # each count 24 and each add one.
    await session.execute(select(Organization.id).where(Organization.id == caller.organization_id).with_for_update())
    count = await session.scalar(
        select(func.count()).where(
            WebhookSubscription.organization_id == caller.organization_id, WebhookSubscription.deleted_at.is_(None)
        )
    )
    if count >= MAX_SUBSCRIPTIONS_PER_ORG:
        raise Conflict(f"an organisation has at most {MAX_SUBSCRIPTIONS_PER_ORG} webhook subscriptions")
    row = WebhookSubscription(
        organization_id=caller.organization_id, url=url, event_types=event_types, secret=seal(secret, secret_key),
        format=format, filters=filters,
    )
    session.add(row)
    await session.flush()
    return row


async def get_subscription(
    session: AsyncSession, caller: Caller, subscription_id: int, format: str = CARAVAN, *, for_update: bool = False
) -> WebhookSubscription:
    """The caller's own live subscription of ``format``; another organisation's, or one of the other
    format (a DCSA subscription is not a /v1 one), is as unknown as one that does not exist.
    ``for_update`` locks the row (PostgreSQL)."""
    row = await session.get(WebhookSubscription, subscription_id, with_for_update=for_update or None,
                            populate_existing=for_update)
    if (row is None or row.deleted_at is not None or row.organization_id != caller.organization_id
            or row.format != format):
        raise NotFound(f"webhook subscription {subscription_id} not found")
    return row


async def rotate_secret(
    session: AsyncSession, caller: Caller, subscription_id: int, grace_period_s: int, secret_key: str | None = None,
) -> tuple[WebhookSubscription, str]:
    """A new signing secret for the subscription (returned once; stored as ``seal`` makes it).

    The replaced secret moves, in its stored form, to ``previous_secret`` and keeps signing
    every delivery beside the new one for ``grace_period_s``, so the partner can switch its
    receiver over without a delivery failing verification. Only one previous secret is kept:
    a rotation during a grace period drops the older one (the partner has been given the one
    being replaced since), and a grace period of 0 drops any, for a secret that leaked. The
    row is locked so that two rotations at once chain instead of both replacing one secret.
    """
    row = await get_subscription(session, caller, subscription_id, for_update=True)
    secret = new_secret()
    if grace_period_s > 0:
        row.previous_secret = row.secret
        row.previous_secret_expires_at = utcnow() + timedelta(seconds=grace_period_s)
    else:
        row.previous_secret = row.previous_secret_expires_at = None
    row.secret = seal(secret, secret_key)
    await session.flush()
    return row, secret


async def list_subscriptions(
    session: AsyncSession, caller: Caller, after_id: int, limit: int, format: str = CARAVAN
) -> list[WebhookSubscription]:
    return list(
        await session.scalars(
            select(WebhookSubscription)
            .where(
                WebhookSubscription.organization_id == caller.organization_id,
                WebhookSubscription.deleted_at.is_(None),
                WebhookSubscription.format == format,
                WebhookSubscription.id > after_id,
            )
            .order_by(WebhookSubscription.id)
            .limit(limit + 1)
        )
    )


async def delete_subscription(
    session: AsyncSession, caller: Caller, subscription_id: int, format: str = CARAVAN
) -> None:
    """Stop the subscription: it disappears from the list and its pending deliveries are cancelled."""
    row = await get_subscription(session, caller, subscription_id, format)
    row.deleted_at = utcnow()
    await _cancel_pending(session, row.id)
    await session.flush()


async def _cancel_pending(session: AsyncSession, subscription_id: int) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == DeliveryStatus.PENDING.value)
        .values(status=DeliveryStatus.CANCELLED.value, lease_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )


async def list_deliveries(
    session: AsyncSession, caller: Caller, subscription_id: int, after_id: int, limit: int
) -> tuple[list[WebhookDelivery], dict[int, list[WebhookAttempt]]]:
    await get_subscription(session, caller, subscription_id)
    rows = list(
        await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.id > after_id)
            .order_by(WebhookDelivery.id)
            .limit(limit + 1)
        )
    )
    attempts: dict[int, list[WebhookAttempt]] = {row.id: [] for row in rows}
    if rows:
        for attempt in await session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(list(attempts))).order_by(WebhookAttempt.id)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return rows, attempts


def delivery_read(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict:
    return {
        "id": row.id,
        "webhook_id": webhook_id(row.id),
        "event_id": row.event_id,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at if row.status == DeliveryStatus.PENDING.value else None,
        "delivered_at": row.delivered_at,
        "created_at": row.created_at,
        "attempt_log": attempts,
    }


# --- the outbox -----------------------------------------------------------------------

# The subscriptions an event may reach: its audience's own, and the hub operator's (which
# see everything). Read per event batch, never the whole table: with every exporter
# subscribed, reading all active subscriptions for each booking would grow without bound.
_ACTIVE = (WebhookSubscription.deleted_at.is_(None), WebhookSubscription.disabled_at.is_(None))
_SUBSCRIPTION_COLUMNS = (WebhookSubscription.id, WebhookSubscription.organization_id, WebhookSubscription.event_types,
                         Organization.role)
_SUBSCRIPTIONS_OF_ONE = DriverStatement(
    select(*_SUBSCRIPTION_COLUMNS)
    .join(Organization, Organization.id == WebhookSubscription.organization_id)
    .where(*_ACTIVE, or_(WebhookSubscription.organization_id == bindparam("organization_id"),
                         Organization.role == Role.OPERATOR.value))
)


def _subscriptions_of(audience: set[int]):
    """The active subscriptions of ``audience`` and of operators (the query for any audience)."""
    return (
        select(*_SUBSCRIPTION_COLUMNS)
        .join(Organization, Organization.id == WebhookSubscription.organization_id)
        .where(*_ACTIVE, or_(WebhookSubscription.organization_id.in_(sorted(audience)),
                             Organization.role == Role.OPERATOR.value))
    )


_INSERT_DELIVERIES = DriverStatement(
    insert(WebhookDelivery.__table__), ["subscription_id", "event_id", "status", "attempts", "next_attempt_at", "created_at"]
)




def _fields(event: TrackingEvent | dict) -> tuple[Any, str, int | None]:
    if isinstance(event, dict):
        return event.get("id"), event["payload"]["event_type"], event["payload"].get("departure_id")
    return event.id, event.event_type, event.departure_id


def _matches(subscription: Any, event_type: str, audience: set[int]) -> bool:
    if event_type not in subscription.event_types:
        return False
    return subscription.role == Role.OPERATOR.value or subscription.organization_id in audience


async def enqueue(
    session: AsyncSession, events: list[tuple[TrackingEvent | dict, int | frozenset[int] | None]]
) -> int:
    """Write the outbox rows for events already inserted: one INSERT for all of them.

    Each event comes with the organisation whose booking it concerns, or None for a
    TRANSPORT event, whose audience is every organisation riding the departure, or a
    frozenset of organisations (an EQUIPMENT event: those with cargo in the container).
    """
    if not events:
        return 0
    riders: dict[int, set[int]] = {}
    audiences: list[tuple[Any, str, set[int]]] = []
    for event, organization_id in events:
        event_id, event_type, departure_id = _fields(event)
        if isinstance(organization_id, frozenset):  # EQUIPMENT: the organisations with cargo in the container
            audience = set(organization_id)
        elif organization_id is not None:
            audience = {organization_id}
        elif event_type == EventType.TRANSPORT.value and departure_id is not None:
            if departure_id not in riders:
                riders[departure_id] = set(
                    await session.scalars(
                        select(Booking.organization_id)
                        .join(Leg, Leg.booking_id == Booking.id)
                        .where(Leg.departure_id == departure_id, Booking.status.in_(RIDING))
                        .distinct()
                    )
                )
            audience = riders[departure_id]
        else:
            audience = set()
        audiences.append((event_id, event_type, audience))
    everyone = set().union(*(audience for _, _, audience in audiences))
    if len(everyone) == 1:  # a booking's own events: the hot path, one prepared statement
        subscriptions = await _SUBSCRIPTIONS_OF_ONE.named_rows(session, {"organization_id": next(iter(everyone))})
    else:
        subscriptions = list(await session.execute(_subscriptions_of(everyone)))
    now = utcnow()
    rows = [
        {"subscription_id": subscription.id, "event_id": event_id, "status": "PENDING", "attempts": 0,
         "next_attempt_at": now, "created_at": now}
        for event_id, event_type, audience in audiences
        for subscription in subscriptions
        if _matches(subscription, event_type, audience)
    ]
    await _INSERT_DELIVERIES.many(session, rows)
    return len(rows)


def enqueue_sync(session: Session, events: list[tuple[TrackingEvent, int]]) -> None:
    """The same, inside a flush (booking status changes): outbox rows join the flush that writes the events."""
    subscriptions = list(session.execute(_subscriptions_of({organization_id for _, organization_id in events})))
    for event, organization_id in events:
        for subscription in subscriptions:
            if _matches(subscription, event.event_type, {organization_id}):
                session.add(WebhookDelivery(subscription_id=subscription.id, event=event, status="PENDING", attempts=0))


# --- delivery bookkeeping (used by the worker) ----------------------------------------------

def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Exponential back-off with jitter: between half and all of base · 2^(attempts-1), capped."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


async def claim(session: AsyncSession, token: str, batch: int, lease_seconds: float, now: datetime) -> list[Any]:
    """Lease up to ``batch`` due deliveries to ``token`` (FOR UPDATE SKIP LOCKED: workers never share a row)."""
    active = select(WebhookSubscription.id).where(
        WebhookSubscription.deleted_at.is_(None), WebhookSubscription.disabled_at.is_(None)
    )
    ids = list(
        await session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
                (WebhookDelivery.lease_until.is_(None)) | (WebhookDelivery.lease_until < now),
                WebhookDelivery.subscription_id.in_(active),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .values(lease_until=now + timedelta(seconds=lease_seconds), claim_token=token,
                attempts=WebhookDelivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return list(
        await session.execute(
            select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookDelivery.subscription_id,
                   WebhookSubscription.url, WebhookSubscription.secret, WebhookSubscription.previous_secret,
                   WebhookSubscription.previous_secret_expires_at, WebhookSubscription.format,
                   TrackingEvent.id.label("event_id"),
                   TrackingEvent.event_type, TrackingEvent.created_at, TrackingEvent.payload)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .join(TrackingEvent, TrackingEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id.in_(ids))
            .order_by(WebhookDelivery.id)
        )
    )


async def withdraw(session: AsyncSession, token: str, delivery_ids: list[int]) -> None:
    """Cancel leased deliveries that will never be sent (a DCSA subscription's filters do not match the
    event), without an attempt: the claim's count is taken back, as nothing was POSTed."""
    if delivery_ids:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.claim_token == token)
            .values(status=DeliveryStatus.CANCELLED.value, lease_until=None, claim_token=None,
                    attempts=WebhookDelivery.attempts - 1)
            .execution_options(synchronize_session=False)
        )


async def record_attempt(
    session: AsyncSession,
    *,
    token: str,
    delivery_id: int,
    subscription_id: int,
    attempts: int,
    posted_url: str | None = None,
    status_code: int | None,
    latency_ms: float,
    response_body: str | None,
    error: str | None,
    max_attempts: int,
    retry_base: float,
    retry_cap: float,
    now: datetime,
) -> str:
    """Log the attempt and move the delivery on; returns the delivery's new status.

    Only the lease holder moves the delivery (``claim_token``); a worker whose lease
    ran out still logs what it saw. A 410 disables the subscription only while its URL is
    still ``posted_url``: a callback changed since the POST was not the one that said Gone,
    so the delivery is tried again, at the new callback.
    """
    session.add(WebhookAttempt(delivery_id=delivery_id, attempted_at=now, status_code=status_code,
                               latency_ms=round(latency_ms, 1), response_body=response_body, error=error))
    mine = (WebhookDelivery.id == delivery_id) & (WebhookDelivery.claim_token == token)
    gone = status_code == 410 and (posted_url is None or posted_url == await session.scalar(
        select(WebhookSubscription.url).where(WebhookSubscription.id == subscription_id)
    ))
    if status_code is not None and 200 <= status_code < 300:
        values = {"status": DeliveryStatus.DELIVERED.value, "delivered_at": now}
        new_status = DeliveryStatus.DELIVERED.value
    elif gone:
        values = {"status": DeliveryStatus.FAILED.value}
        new_status = DeliveryStatus.FAILED.value
    elif attempts >= max_attempts:
        values = {"status": DeliveryStatus.FAILED.value}
        new_status = DeliveryStatus.FAILED.value
    else:
        values = {"next_attempt_at": now + timedelta(seconds=backoff_seconds(attempts, retry_base, retry_cap))}
        new_status = DeliveryStatus.PENDING.value
    result = await session.execute(
        update(WebhookDelivery).where(mine).values(lease_until=None, claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount and gone:
        disabled = await session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id, WebhookSubscription.disabled_at.is_(None),
                   *([WebhookSubscription.url == posted_url] if posted_url is not None else []))
            .values(disabled_at=now, disabled_reason="the receiver answered 410 Gone")
            .execution_options(synchronize_session=False)
        )
        if disabled.rowcount:
            await _cancel_pending(session, subscription_id)
    return new_status if result.rowcount else "LEASE_LOST"


FINISHED = (DeliveryStatus.DELIVERED.value, DeliveryStatus.FAILED.value, DeliveryStatus.CANCELLED.value)


async def purge_finished(sessionmaker: async_sessionmaker[AsyncSession], created_before: datetime,
                         batch: int = 1000, max_batches: int = 10) -> int:
    """Delete deliveries that are over (delivered, failed for good, cancelled) and were created
    before ``created_before``, with their attempts, in at most ``max_batches`` batches of
    ``batch``, each its own short transaction; how many went. Pending ones are never touched."""
    purged = 0
    for _ in range(max_batches):
        async with sessionmaker() as session:
            ids = list(await session.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status.in_(FINISHED), WebhookDelivery.created_at < created_before)
                .limit(batch)
            ))
            if ids:
                await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
                await session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids),
                                                                    WebhookDelivery.status.in_(FINISHED)))
            await session.commit()
        purged += len(ids)
        if len(ids) < batch:
            break
    return purged
