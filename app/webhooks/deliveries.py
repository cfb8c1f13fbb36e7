"""Delivery bookkeeping for the worker: claim due deliveries, record each attempt, retry with backoff,
purge what is over."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.events.models import TrackingEvent
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.webhooks.schemas import DeliveryStatus
from app.webhooks.subscriptions import cancel_pending

RESPONSE_BODY_LIMIT = 1000


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
            await cancel_pending(session, subscription_id)
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
