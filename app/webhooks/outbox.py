"""The transactional outbox: an event's delivery rows (``WebhookDelivery``, one per subscription that may
see it), written in the transaction that writes the event, by ``enqueue`` (async paths) or
``enqueue_sync`` (the before-flush hook that publishes booking status changes). The caller
says who each event concerns (its audience); operators' subscriptions see everything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.accounts.models import Organization
from app.accounts.schemas import Role
from app.db import DriverStatement, utcnow
from app.events.models import TrackingEvent
from app.webhooks.models import WebhookDelivery, WebhookSubscription

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




def _fields(event: TrackingEvent | dict) -> tuple[Any, str]:
    if isinstance(event, dict):
        return event.get("id"), event["payload"]["event_type"]
    return event.id, event.event_type


def _matches(subscription: Any, event_type: str, audience: set[int]) -> bool:
    if event_type not in subscription.event_types:
        return False
    return subscription.role == Role.OPERATOR.value or subscription.organization_id in audience


async def enqueue(
    session: AsyncSession, events: list[tuple[TrackingEvent | dict, int | frozenset[int] | None]]
) -> int:
    """Write the outbox rows for events already inserted: one INSERT for all of them.

    Each event comes with its audience: the organisation whose booking it concerns, or a
    frozenset of organisations (a TRANSPORT event: those riding the departure; an EQUIPMENT
    event: those with cargo in the container), or None (operators only).
    """
    if not events:
        return 0
    audiences: list[tuple[Any, str, set[int]]] = []
    for event, organization_id in events:
        event_id, event_type = _fields(event)
        if isinstance(organization_id, frozenset):
            audience = set(organization_id)
        elif organization_id is not None:
            audience = {organization_id}
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
