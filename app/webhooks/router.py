from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.accounts.dependencies import Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.db import utcnow
from app.errors import Unprocessable
from app.fields import IdPath
from app.pagination import Cursor, Limit, Page, decode_cursor, page_of
from app.webhooks import signing, subscriptions
from app.webhooks.schemas import (
    DeliveryRead,
    SecretRotated,
    SecretRotation,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    https_refusal,
)

router = APIRouter(prefix="/v1/webhook-subscriptions", tags=["webhooks"])


def _read(row) -> dict:
    return {
        "id": row.id,
        "url": row.url,
        "event_types": row.event_types,
        "created_at": row.created_at,
        "disabled_at": row.disabled_at,
        "disabled_reason": row.disabled_reason,
        "previous_secret_expires_at": signing.previous_secret_until(row, utcnow()),
    }


@router.post("", status_code=201, response_model=SubscriptionCreated, summary="Subscribe to webhooks")
async def create_subscription(
    request: Request,
    body: SubscriptionCreate,
    caller: Annotated[Caller, requires(Scope.WEBHOOKS_WRITE)],
    session: Session,
):
    """Subscribe a URL to event types; the signing secret is in this response only. The URL must
    be https (unless this server allows http) and resolve only to public addresses."""
    settings = request.app.state.settings
    if refusal := https_refusal(str(body.url), settings.webhook_require_https):
        raise Unprocessable("url", refusal)
    row, secret = await subscriptions.create_subscription(
        session, caller, body, settings.webhook_allow_private_urls, settings.webhook_secret_key
    )
    return {**_read(row), "secret": secret}


@router.get("", response_model=Page[SubscriptionRead], summary="List webhook subscriptions")
async def list_subscriptions(
    caller: Annotated[Caller, requires(Scope.WEBHOOKS_WRITE)],
    session: Session,
    limit: Limit = 20,
    cursor: Cursor = None,
):
    """Your organisation's webhook subscriptions (never their secrets), oldest first."""
    rows = await subscriptions.list_subscriptions(session, caller, decode_cursor(cursor), limit)
    items, next_cursor = page_of(rows, limit)
    return {"items": [_read(r) for r in items], "next_cursor": next_cursor}


@router.get("/{subscription_id}", response_model=SubscriptionRead, summary="Get a webhook subscription")
async def get_subscription(
    subscription_id: IdPath, caller: Annotated[Caller, requires(Scope.WEBHOOKS_WRITE)], session: Session
):
    """One of your organisation's subscriptions: URL, event types, whether it is disabled and
    why, and until when a rotated-out secret still signs.
    """
    return _read(await subscriptions.get_subscription(session, caller, subscription_id))


@router.delete("/{subscription_id}", status_code=204, response_class=Response, summary="Delete a webhook subscription")
async def delete_subscription(
    subscription_id: IdPath, caller: Annotated[Caller, requires(Scope.WEBHOOKS_WRITE)], session: Session
):
    """Stop the subscription; deliveries not yet sent are cancelled."""
    await subscriptions.delete_subscription(session, caller, subscription_id)
    return Response(status_code=204)


@router.post("/{subscription_id}/secret/rotate", response_model=SecretRotated, summary="Rotate the signing secret")
async def rotate_secret(
    request: Request,
    subscription_id: IdPath,
    caller: Annotated[Caller, requires(Scope.WEBHOOKS_WRITE)],
    session: Session,
    body: SecretRotation | None = None,
):
    """Replace the signing secret; the new one is in this response only.

    The replaced secret keeps signing beside it (two signatures in ``webhook-signature``)
    for ``grace_period_s`` (default 24 h), so a receiver verifying with either one accepts
    every delivery meanwhile. Rotating again during a grace period keeps only the secret
    being replaced as the previous one. With an Idempotency-Key a retried rotation replays
    this response rather than rotating twice.
    """
    settings = request.app.state.settings
    grace_period_s = (body or SecretRotation()).grace_period_s
    row, secret = await subscriptions.rotate_secret(session, caller, subscription_id, grace_period_s,
                                              settings.webhook_secret_key)
    return {**_read(row), "secret": secret}


@router.get("/{subscription_id}/deliveries", response_model=Page[DeliveryRead], summary="List deliveries (the delivery log)")
async def list_deliveries(
    subscription_id: IdPath,
    caller: Annotated[Caller, requires(Scope.WEBHOOKS_WRITE)],
    session: Session,
    limit: Limit = 20,
    cursor: Cursor = None,
):
    """The delivery log: each delivery's status and every attempt (status, latency, start of the answer)."""
    rows, attempts = await subscriptions.list_deliveries(session, caller, subscription_id, decode_cursor(cursor), limit)
    items, next_cursor = page_of(rows, limit)
    return {"items": [subscriptions.delivery_read(r, attempts[r.id]) for r in items], "next_cursor": next_cursor}
