from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.events.models import TrackingEvent


class WebhookSubscription(Base):
    """An organisation's callback URL and the event types it wants, with its signing secret.

    The secret (``whsec_<base64>``) is kept because every delivery is signed with it;
    the API shows it only in the response that creates the subscription or rotates it.
    After a rotation the replaced secret is kept as ``previous_secret`` until
    ``previous_secret_expires_at``, and signs every delivery too until then, so a
    receiver still verifying with it misses nothing while it switches over.

    ``format`` says what the worker POSTs: ``CARAVAN`` (Standard Webhooks, /v1) or ``DCSA``
    (a DCSA Track & Trace 2.2 event subscription, app/dcsa/subscriptions.py: its secret is the
    subscriber's base64 text, its ``filters`` the spec's filter fields). One table, so one
    outbox, one audience rule (``enqueue``) and one worker serve both.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[Any]]
    secret: Mapped[str] = mapped_column(String(200))  # whsec_… as given, or sealed (service.seal)
    previous_secret: Mapped[str | None] = mapped_column(String(200))  # stored as ``secret`` is
    previous_secret_expires_at: Mapped[datetime | None]
    format: Mapped[str] = mapped_column(String(10), default="CARAVAN", server_default="CARAVAN")
    filters: Mapped[dict[str, Any] | None]  # DCSA only: the subscription's filter fields as the spec names them
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    deleted_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """The transactional outbox: one event to one subscription, written with the change it reports.

    Workers claim PENDING rows whose ``next_attempt_at`` has come and whose lease
    (``lease_until``) is free, with FOR UPDATE SKIP LOCKED; ``claim_token`` says
    whose lease it is, so a worker whose lease ran out cannot record a result.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("tracking_events.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="PENDING")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    event: Mapped[TrackingEvent] = relationship(lazy="raise")


class WebhookAttempt(Base):
    """One POST of a delivery: when, the status (None when no answer), latency, and the start of the answer."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    latency_ms: Mapped[float]
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(300))
