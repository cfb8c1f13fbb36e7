from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.network.models import Departure, Hub


class Booking(Base):
    """An exporter's booking of space on one departure, with its declared and measured cargo."""

    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_departure_status", "departure_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    requested_departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(300))
    origin_hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    destination_hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    consignee: Mapped[dict[str, Any]]
    references: Mapped[list[Any]]
    allow_rollover: Mapped[bool]
    # Declared totals, computed from the cargo lines.
    pieces: Mapped[int]
    weight_kg: Mapped[float]
    volume_cbm: Mapped[float]
    declared_chargeable_cbm: Mapped[float]
    # Space the booking takes: the declared chargeable volume, or the measured one after receipt.
    chargeable_cbm: Mapped[float]
    dg_classes: Mapped[list[Any]]
    temperature_min_c: Mapped[float | None]
    temperature_max_c: Mapped[float | None]
    stackable: Mapped[bool]
    footprint_m2: Mapped[float | None]
    # Measured at the CFS on receipt.
    measured_pieces: Mapped[int | None]
    measured_weight_kg: Mapped[float | None]
    measured_volume_cbm: Mapped[float | None]
    received_at: Mapped[datetime | None]
    measurement_discrepancy: Mapped[bool] = mapped_column(default=False)
    currency: Mapped[str] = mapped_column(String(3))
    price_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    measured_price_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # The booked price line by line (app.cargo.PriceBreakdown.as_json); NULL for a booking priced before
    # the lines were kept.
    price_breakdown: Mapped[dict[str, Any] | None]
    # Whether the price carries collection at the exporter's door and delivery to the consignee's
    # (a quote asks for them), and the Incoterms 2020 rule the exporter sells under.
    pickup: Mapped[bool] = mapped_column(default=False, server_default=false())
    delivery: Mapped[bool] = mapped_column(default=False, server_default=false())
    incoterm: Mapped[str | None] = mapped_column(String(3))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    departure: Mapped[Departure] = relationship(foreign_keys=[departure_id], lazy="joined")
    origin: Mapped[Hub] = relationship(foreign_keys=[origin_hub_id], lazy="joined")
    destination: Mapped[Hub] = relationship(foreign_keys=[destination_hub_id], lazy="joined")
    lines: Mapped[list[CargoLine]] = relationship(
        order_by="CargoLine.sequence", lazy="selectin", cascade="all, delete-orphan"
    )
    # A quoted booking's itinerary, read with the booking (written as rows of their own: view only).
    legs: Mapped[list[BookingLeg]] = relationship(order_by="BookingLeg.sequence", lazy="selectin", viewonly=True)

    def record(self, event: object) -> None:
        """Note a domain event (a status change…) for whoever publishes them before commit."""
        self.__dict__.setdefault("_pending_events", []).append(event)

    def pop_events(self) -> list[object]:
        return self.__dict__.pop("_pending_events", [])


class CargoLine(Base):
    """One line of declared cargo: packages of one kind; dimensions per package, weight for the line."""

    __tablename__ = "cargo_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int]
    description: Mapped[str] = mapped_column(String(200))
    hs_code: Mapped[str] = mapped_column(String(10))
    packages: Mapped[int]
    package_type: Mapped[str] = mapped_column(String(12))
    length_cm: Mapped[float]
    width_cm: Mapped[float]
    height_cm: Mapped[float]
    weight_kg: Mapped[float]
    stackable: Mapped[bool]
    vertical: Mapped[list[Any] | None]  # sides that may stand upright, as declared; None: by package type
    un_number: Mapped[str | None] = mapped_column(String(4))
    dg_class: Mapped[str | None] = mapped_column(String(3))
    packing_group: Mapped[str | None] = mapped_column(String(3))
    # {"special_provisions": [188], "battery_condition": "NEW", "documents": [{"kind", "reference"}]}, declared
    # with the dangerous goods (rail rules by UN number); None when the line declares none of it.
    dg_declaration: Mapped[dict[str, Any] | None]
    temperature_min_c: Mapped[float | None]
    temperature_max_c: Mapped[float | None]
    volume_cbm: Mapped[float]
    chargeable_cbm: Mapped[float]


class BookingLeg(Base):
    """A leg of a booking's itinerary. The ``main`` leg's departure is the one whose space the booking holds."""

    __tablename__ = "booking_legs"
    __table_args__ = (UniqueConstraint("booking_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    sequence: Mapped[int]
    main: Mapped[bool]
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    from_hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    to_hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    cutoff_at: Mapped[datetime]
    departs_at: Mapped[datetime]
    arrives_at: Mapped[datetime]
    weight_per_cbm_kg: Mapped[float]
    chargeable_cbm: Mapped[float]
    currency: Mapped[str] = mapped_column(String(3))
    price_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # The rate terms held from the quote: the receipt re-prices the measured cargo with them.
    terms: Mapped[dict[str, Any]]

    departure: Mapped[Departure] = relationship(lazy="joined")
    from_hub: Mapped[Hub] = relationship(foreign_keys=[from_hub_id], lazy="joined")
    to_hub: Mapped[Hub] = relationship(foreign_keys=[to_hub_id], lazy="joined")
