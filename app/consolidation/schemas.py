from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, model_validator

from app.fields import ContainerNumber, IdField, RequestBody

SealNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                              pattern=r"^[A-Za-z0-9][A-Za-z0-9 /-]*$")]


class PlannedContainer(BaseModel):
    type: str
    destination: str
    shipments: list[str]
    weight_kg: float
    occupied_cbm: float


class UnassignedShipment(BaseModel):
    id: str
    reason: str


class PlanDocument(BaseModel):
    """A plan as docs/planner/FORMAT.md defines it."""

    containers: list[PlannedContainer]
    unassigned: list[UnassignedShipment]
    cost: float
    lower_bound: float


# --- stored departure plans ----------------------------------------------------------

class ContainerFill(BaseModel):
    weight_kg: float
    occupied_cbm: float
    payload_kg: float = Field(description="The type's payload, capped by the departure's max_payload_kg")
    usable_cbm: float
    weight_pct: float
    volume_pct: float


class PlanContainerRead(BaseModel):
    id: int
    sequence: int
    type: str
    teu: int
    destination: str
    locked: bool
    locked_at: datetime | None
    container_number: str | None
    seal_number: str | None
    fill: ContainerFill
    bookings: list[str] = Field(description="Booking references")
    stuffed: bool = Field(description="A stuffing plan (GET /v1/containers/{id}/stuffing) keeps every rule of it")
    stuffing_utilisation: float | None = Field(
        None, description="The stuffing plan's placed volume ÷ the container's inner volume")


class StuffingPlacement(BaseModel):
    step: int = Field(description="Loading order from the front wall to the door: 1 goes in first")
    booking_reference: str
    line: int = Field(description="The booking's cargo line (1, 2, …)")
    package: int = Field(description="Which package of the line (1 … packages)")
    x_cm: float = Field(description="From the front wall towards the door")
    y_cm: float = Field(description="Across, from the left wall seen from the door")
    z_cm: float = Field(description="Up from the floor")
    length_cm: float
    width_cm: float
    height_cm: float


class StuffingRead(BaseModel):
    """Where every package of a container goes and in what order (the stuffing plan)."""

    container_id: int
    type: str
    destination: str
    container_number: str | None
    seal_number: str | None
    length_cm: float
    width_cm: float
    height_cm: float
    payload_kg: float
    volume_utilisation: float
    weight_kg: float
    centre_of_gravity_cm: dict[str, float]
    placements: list[StuffingPlacement]


class UnassignedBooking(BaseModel):
    booking: str
    reason: str


class DeparturePlanRead(BaseModel):
    id: int
    departure_id: int
    version: int
    cost: Decimal
    lower_bound: Decimal
    currency: str
    teu: int
    capacity_teu: int
    created_at: datetime
    created_by_key_id: int | None
    containers: list[PlanContainerRead]
    unassigned: list[UnassignedBooking]
    warnings: list[str]


class LockIn(RequestBody):
    """Lock some containers of the current plan (by id), or all of them."""

    containers: list[IdField] | None = Field(default=None, min_length=1, max_length=500)
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> LockIn:
        if (self.containers is None) == (not self.all):
            raise ValueError("give either containers (a list of ids) or all: true")
        return self


class ContainerUpdate(RequestBody):
    container_number: ContainerNumber | None = Field(default=None, description="ISO 6346, check digit verified")
    seal_number: SealNumber | None = None


class LoadingListCargo(BaseModel):
    """One cargo line of a booking as declared: what the stuffing crew looks for."""

    description: str
    hs_code: str
    packages: int
    package_type: str
    stackable: bool


class LoadingListLine(BaseModel):
    booking: str
    exporter: str
    status: str
    pieces: int
    weight_kg: float
    volume_cbm: float
    measured: bool
    dangerous_goods: list[str] = Field(description="'UN1263 class 3 PG II' per DG line")
    temperature_c: dict[str, float] | None
    consignee: dict[str, Any]
    stackable: bool = Field(description="False when any cargo line of the booking must not be stacked on")
    cargo: list[LoadingListCargo] = Field(description="The booking's cargo lines as declared, in order")
    first_step: int | None = Field(None, description="The stuffing plan's first loading step of this booking")
    last_step: int | None = Field(None, description="Its last loading step (None when the container is not stuffed)")


class LoadingList(BaseModel):
    container_id: int
    departure_id: int
    plan_version: int
    type: str
    destination: str
    container_number: str | None
    seal_number: str | None
    locked: bool
    lines: list[LoadingListLine]
    total_pieces: int
    total_weight_kg: float
    total_volume_cbm: float
