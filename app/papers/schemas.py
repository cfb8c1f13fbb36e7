from __future__ import annotations

from datetime import datetime
from typing import Any

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


class StationRead(BaseModel):
    hub: str
    name: str
    un_locode: str
    country: str
    railway_station_code: str | None = Field(description="The station's railway code (ESR/OSJD); null: to fill")


class NoteWagon(BaseModel):
    position: int
    wagon_type: str
    wagon_number: str | None = Field(description="The wagon's own number, which the railway assigns: to fill")


class NoteContainer(BaseModel):
    number: str | None
    type: str
    tare_kg: float
    seals: list[str]


class NoteLine(BaseModel):
    description: str
    hs_code: str
    packages: int
    package_type: str


class NoteGoods(BaseModel):
    booking: str
    shipper: str | None
    consignee: dict[str, Any] | None
    lines: list[NoteLine]
    packages: int
    gross_weight_kg: float = Field(description="Measured at the CFS when received, else declared")


class NoteDangerousGoods(BaseModel):
    booking: str
    un_number: str
    dg_class: str = Field(validation_alias="class", serialization_alias="class")
    packing_group: str | None
    description: str
    documents: list[dict[str, str]]

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class NoteCustomsReference(BaseModel):
    booking: str
    reference: str


class NoteCustoms(BaseModel):
    export_declarations: list[NoteCustomsReference] = Field(description="The bookings' CUSTOMS_DECLARATION references")
    transit_declaration: str | None = Field(description="The transit (T1/TIR) reference: to fill")


class NoteTotals(BaseModel):
    packages: int
    cargo_kg: float
    gross_kg: float = Field(description="Cargo and the container's tare")


class NoteParty(BaseModel):
    name: str | None
    address: str | None


class ConsignmentNote(BaseModel):
    """The data of a container's CIM/SMGS consignment note."""

    container_id: int
    departure_id: int
    plan_version: int
    languages: list[str] = Field(description="ISO 639-1: Russian and German for the CIM/SMGS note, Chinese from China")
    consignor: NoteParty
    consignee: dict[str, Any] | None = Field(description="The bookings' consignee when they share one; null: to fill")
    departure_station: StationRead | None
    destination_station: StationRead | None
    border_stations: list[StationRead]
    departs_at: datetime
    wagon: NoteWagon | None = Field(description="From the departure's consist; null until it is built")
    container: NoteContainer
    cargo: list[NoteGoods]
    dangerous_goods: list[NoteDangerousGoods]
    totals: NoteTotals
    customs: NoteCustoms
    to_fill: list[str] = Field(description="The fields the operator must still fill before the note is issued")
