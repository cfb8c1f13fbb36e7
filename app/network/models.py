from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class Hub(Base):
    """A place cargo is handed over: rail terminal, river port, airport, CFS, border crossing, road depot."""

    __tablename__ = "hubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    un_locode: Mapped[str] = mapped_column(String(5), index=True)
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    handling_hours: Mapped[float]
    # The station's code in the railways' own lists (ESR/OSJD code on a CIM/SMGS consignment note); None off rail.
    railway_station_code: Mapped[str | None] = mapped_column(String(16))
    # WGS 84 degrees; a leg with no distance set is estimated from its hubs' great circle (app.emissions).
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # The operator's own figure for handling here, kg CO2e per tonne (tank-to-wheel and well-to-tank).
    handling_ttw_kg_per_t: Mapped[float | None]
    handling_wtt_kg_per_t: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContainerType(Base):
    """An ISO container type as the planner sees it (data, not constants)."""

    __tablename__ = "container_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    teu: Mapped[int]
    payload_kg: Mapped[float]
    usable_cbm: Mapped[float]
    inner_height_m: Mapped[float]
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    reefer: Mapped[bool]


class Service(Base):
    """A scheduled line: origin, ordered intermediate stops, destination, and what it may carry."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(8))
    origin_hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    destination_hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    weight_per_cbm_kg: Mapped[float]
    forbidden_dg_classes: Mapped[list[Any]]
    reefer_allowed: Mapped[bool]
    container_types: Mapped[list[Any]]
    currency: Mapped[str] = mapped_column(String(3))
    rate_per_cbm: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    minimum_charge: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # China Railway's container rules (app.cargo.rail.RailRules as JSON); None: not under rail rules.
    rail_rules: Mapped[dict[str, Any] | None]
    # Emissions (app.emissions): km between consecutive calls (origin, stops…, destination; None where
    # unknown), and the operator's own intensity in g CO2e per tonne-km, overriding the factor table.
    leg_distances_km: Mapped[list[Any] | None]
    ttw_g_per_tkm: Mapped[float | None]
    wtt_g_per_tkm: Mapped[float | None]
    intensity_source: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    origin: Mapped[Hub] = relationship(foreign_keys=[origin_hub_id], lazy="joined")
    destination: Mapped[Hub] = relationship(foreign_keys=[destination_hub_id], lazy="joined")
    stops: Mapped[list[ServiceStop]] = relationship(
        order_by="ServiceStop.sequence", lazy="selectin", cascade="all, delete-orphan"
    )


class ServiceStop(Base):
    """An intermediate call of a service, ``offset_hours`` after its departure."""

    __tablename__ = "service_stops"
    __table_args__ = (UniqueConstraint("service_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    sequence: Mapped[int]
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"))
    offset_hours: Mapped[float]

    hub: Mapped[Hub] = relationship(lazy="joined")


class Departure(Base):
    """One dated run of a service, with its cut-off and its capacity."""

    __tablename__ = "departures"
    __table_args__ = (UniqueConstraint("service_id", "departs_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    departs_at: Mapped[datetime] = mapped_column(index=True)
    cutoff_at: Mapped[datetime]
    arrives_at: Mapped[datetime]
    capacity_teu: Mapped[int]
    max_payload_kg: Mapped[float | None]
    # Train limits of this run (None: the service's rail rules): container cargo on the train, train length.
    max_cargo_kg: Mapped[float | None]
    max_train_length_m: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped on every ORM update: the quote search keys its cached network on max(updated_at).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())

    service: Mapped[Service] = relationship(lazy="joined")
