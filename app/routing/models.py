"""Rate cards and stored quote options."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class RateCard(Base):
    """One version of a service's tariff, valid for departures in [valid_from, valid_to).

    Cards are never edited: a new version supersedes the older ones for the
    departures it covers (the highest version valid at a departure wins).
    """

    __tablename__ = "rate_cards"
    __table_args__ = (UniqueConstraint("service_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    rate_per_cbm: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    minimum_charge: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    dg_surcharge_per_cbm: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reefer_surcharge_per_cbm: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    non_stackable_surcharge_per_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # The journey's ends (app.cargo.pricing): each charged max(per CBM × chargeable CBM, minimum).
    origin_handling_per_cbm: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    origin_handling_minimum: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    destination_handling_per_cbm: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    destination_handling_minimum: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    pickup_per_cbm: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    pickup_minimum: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    delivery_per_cbm: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    delivery_minimum: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuoteOption(Base):
    """One option of a quote, held for its organisation until ``valid_until``."""

    __tablename__ = "quote_options"
    __table_args__ = (Index("ix_quote_options_organization_quote", "organization_id", "quote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    quote_id: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    origin: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(16))
    ready_at: Mapped[datetime]
    # The cargo lines as quoted (the booking schema's JSON) and their totals.
    cargo: Mapped[list[Any]]
    figures: Mapped[dict[str, Any]]
    # Legs with their departures, times, held rate terms and per-leg prices.
    legs: Mapped[list[Any]]
    main_leg: Mapped[int]
    departs_at: Mapped[datetime]
    arrives_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    price_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    price: Mapped[dict[str, Any]]
    valid_until: Mapped[datetime]
    # The option's footprint (app.emissions: totals, legs, hubs), null on options quoted before it was given.
    co2e: Mapped[dict[str, Any] | None]
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
