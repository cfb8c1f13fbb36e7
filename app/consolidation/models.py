"""Stored consolidation: versioned departure plans, their containers and assignments,
and the space-control projection (which container each confirmed booking would take)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bookings.models import Booking
from app.db import Base, utcnow
from app.network.models import ContainerType


class DeparturePlan(Base):
    """One version of a departure's consolidation plan; the highest version is the current one."""

    __tablename__ = "departure_plans"
    __table_args__ = (UniqueConstraint("departure_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), index=True)
    version: Mapped[int]
    cost: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    lower_bound: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    # [{"booking_id", "reason"}]: space-holding bookings the plan could not place.
    unassigned: Mapped[list[Any]]
    # Human-readable notes, e.g. a locked container that lost a cancelled booking.
    warnings: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))

    containers: Mapped[list[PlanContainer]] = relationship(
        order_by="PlanContainer.sequence", lazy="selectin", cascade="all, delete-orphan", back_populates="plan"
    )


class PlanContainer(Base):
    """A container of one plan version: its type, destination, load, lock and equipment numbers."""

    __tablename__ = "plan_containers"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("departure_plans.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int]
    container_type_id: Mapped[int] = mapped_column(ForeignKey("container_types.id"))
    destination: Mapped[str] = mapped_column(String(5))
    weight_kg: Mapped[float]
    occupied_cbm: Mapped[float]
    locked: Mapped[bool] = mapped_column(default=False)
    locked_at: Mapped[datetime | None]
    container_number: Mapped[str | None] = mapped_column(String(11), index=True)  # EQUIPMENT events name it
    seal_number: Mapped[str | None] = mapped_column(String(40))
    # The container's stuffing plan (app/stuffing FORMAT.md plan, ids "<booking reference>/<line>"),
    # checked by check_stuffing before it is stored; None for plans made before stuffing existed.
    stuffing: Mapped[dict[str, Any] | None]

    plan: Mapped[DeparturePlan] = relationship(back_populates="containers", lazy="joined")
    container_type: Mapped[ContainerType] = relationship(lazy="joined")
    assignments: Mapped[list[PlanAssignment]] = relationship(
        order_by="PlanAssignment.id", lazy="selectin", cascade="all, delete-orphan"
    )


class PlanAssignment(Base):
    """A booking placed in a plan's container."""

    __tablename__ = "plan_assignments"
    __table_args__ = (UniqueConstraint("container_id", "booking_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("plan_containers.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)


class SpaceSlot(Base):
    """Space control's projection: the container (slot) a space-holding booking takes on a departure it rides.

    A booking rides its own departure and, when made from a quote, the departures of
    its other legs (road, barge or air feeders): one row for each. Written in the
    transaction that confirms, amends or moves the booking, under the departure's
    row lock. ``fingerprint`` records the booking's figures when it was
    placed; a booking changed by another path (a CFS receipt…) no longer matches and
    is placed again at the next decision.
    """

    __tablename__ = "space_slots"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), primary_key=True, index=True)
    slot: Mapped[int]
    container_type: Mapped[str] = mapped_column(String(4))
    fingerprint: Mapped[str] = mapped_column(String(300))
    # The footprint the planner is given (non-stackable lines, plus a conservative
    # allowance for stackable cargo of a mixed booking), which the lines alone tell.
    footprint_m2: Mapped[float | None]

    booking: Mapped[Booking] = relationship(lazy="raise")


class PlanConsist(Base):
    """The train consist built from one plan version (app/consist): wagons, their containers, totals, warnings.

    One per plan version: a new plan needs a new consist; once every container of the plan is locked the
    consist is locked with it. Only a consist that keeps every rule is stored.
    """

    __tablename__ = "plan_consists"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("departure_plans.id", ondelete="CASCADE"), unique=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), index=True)
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
