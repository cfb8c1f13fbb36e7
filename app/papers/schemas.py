from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ConsistContainerRead(BaseModel):
    id: int
    container_number: str | None
    seal_number: str | None
    type: str
    teu: int
    destination: str
    cargo_kg: float
    tare_kg: float
    gross_kg: float


class WagonRead(BaseModel):
    position: int = Field(description="1 is the wagon behind the locomotive")
    wagon_type: str
    length_m: float
    tare_kg: float
    payload_kg: float
    load_kg: float = Field(description="Gross weight of the containers on the wagon")
    gross_kg: float = Field(description="The wagon's tare and its load")
    containers: list[ConsistContainerRead]


class ConsistTotals(BaseModel):
    wagons: int
    containers: int
    teu: int
    feu: float
    length_m: float
    cargo_kg: float
    containers_gross_kg: float
    train_gross_kg: float


class ConsistLimits(BaseModel):
    max_feu: int | None
    max_cargo_kg: float | None
    max_train_length_m: float | None
    pair_max_difference_kg: float | None
    heavy_wagons_off_ends: bool


class ConsistRead(BaseModel):
    departure_id: int
    plan_version: int
    locked: bool = Field(description="Every container of the plan is locked: the consist is locked with them")
    created_at: datetime
    wagons: list[WagonRead]
    totals: ConsistTotals
    limits: ConsistLimits
    warnings: list[str]
