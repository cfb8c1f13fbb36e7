"""Webhook subscriptions: create, read, rotate their secret, delete; and their delivery log.

A subscription receives what its organisation may read in the feed: an operator's
everything, an exporter's the events of its own bookings and the TRANSPORT events of
departures its bookings ride (the audience each event is enqueued with, ``outbox``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.accounts.service import Caller
from app.db import utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.webhooks.schemas import DeliveryStatus, SubscriptionCreate
from app.webhooks.signing import new_secret, seal, webhook_id
from app.webhooks.urls import url_refusal

CARAVAN = "CARAVAN"  # Standard Webhooks, {"type", "timestamp", "data"} (/v1/webhook-subscriptions)
DCSA = "DCSA"  # a DCSA Track & Trace 2.2 notification (app/dcsa/subscriptions.py)
MAX_SUBSCRIPTIONS_PER_ORG = 25


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
    await cancel_pending(session, row.id)
    await session.flush()


async def cancel_pending(session: AsyncSession, subscription_id: int) -> None:
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
