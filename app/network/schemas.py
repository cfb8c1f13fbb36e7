from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.fields import (
    ContainerTypeCode,
    Currency,
    DgClass,
    HubCode,
    Name,
    RequestBody,
    ServiceCode,
    Timestamp,
    TimeZone,
    UnLocode,
    money,
)


class HubKind(StrEnum):
    RAIL_TERMINAL = "RAIL_TERMINAL"
    RIVER_PORT = "RIVER_PORT"
    SEAPORT = "SEAPORT"
    AIRPORT = "AIRPORT"
    CFS = "CFS"
    BORDER_CROSSING = "BORDER_CROSSING"
    ROAD_DEPOT = "ROAD_DEPOT"


class Mode(StrEnum):
    RAIL = "RAIL"
    WATER = "WATER"
    AIR = "AIR"
    ROAD = "ROAD"


class DepartureStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    DEPARTED = "DEPARTED"
    ARRIVED = "ARRIVED"
    CANCELLED = "CANCELLED"


Money = money("10000000")


class HubCreate(RequestBody):
    code: HubCode = Field(description="UN/LOCODE, optionally with a facility suffix: CNWUH-WJS")
    name: Name
    kind: HubKind
    un_locode: UnLocode
    timezone: TimeZone
    handling_hours: float = Field(ge=0, le=240, description="Least time between arriving and leaving on another leg")

    @model_validator(mode="after")
    def _code_matches_locode(self) -> HubCreate:
        if self.code[:5] != self.un_locode:
            raise ValueError("code must start with the hub's un_locode")
        return self


class HubRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: HubKind
    un_locode: str
    country: str
    timezone: str
    handling_hours: float


class ContainerTypeCreate(RequestBody):
    code: ContainerTypeCode = Field(description="ISO 6346 size-type code such as 40HC")
    name: Name
    teu: int = Field(ge=1, le=3)
    payload_kg: float = Field(gt=0, le=40000)
    usable_cbm: float = Field(gt=0, le=120)
    inner_height_m: float = Field(gt=0, le=4)
    cost: Money
    currency: Currency = "EUR"
    reefer: bool = False


class ContainerTypeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    teu: int
    payload_kg: float
    usable_cbm: float
    inner_height_m: float
    cost: Decimal
    currency: str
    reefer: bool


class StopIn(RequestBody):
    hub: HubCode
    offset_hours: float = Field(gt=0, le=2000, description="Hours after the service departs its origin")


class StopRead(BaseModel):
    hub: str
    un_locode: str
    offset_hours: float


class ServiceCreate(RequestBody):
    code: ServiceCode
    name: Name | None = Field(default=None, description="Display name; the code when left out")
    mode: Mode
    origin: HubCode = Field(description="Hub code, or a UN/LOCODE that only one hub has")
    destination: HubCode = Field(description="Hub code, or a UN/LOCODE that only one hub has")
    stops: list[StopIn] = Field(default_factory=list, max_length=30, description="Intermediate calls in order")
    weight_per_cbm_kg: float = Field(gt=0, le=10000, description="W/M ratio: kg that count as one chargeable CBM")
    forbidden_dg_classes: list[DgClass] = Field(default_factory=list, max_length=30)
    reefer_allowed: bool = False
    container_types: list[ContainerTypeCode] = Field(min_length=1, max_length=20)
    currency: Currency = "EUR"
    rate_per_cbm: Money = Decimal("0")
    minimum_charge: Money = Decimal("0")

    @model_validator(mode="after")
    def _stops_in_order(self) -> ServiceCreate:
        if self.origin == self.destination:
            raise ValueError("origin and destination must differ")
        offsets = [s.offset_hours for s in self.stops]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise ValueError("stops must have strictly increasing offset_hours")
        hubs = [self.origin, *(s.hub for s in self.stops), self.destination]
        if len(set(hubs)) != len(hubs):
            raise ValueError("a service calls at each hub once")
        return self


class ServiceRead(BaseModel):
    id: int
    code: str
    name: str
    mode: Mode
    origin: str
    destination: str
    stops: list[StopRead]
    weight_per_cbm_kg: float
    forbidden_dg_classes: list[str]
    reefer_allowed: bool
    container_types: list[str]
    currency: str
    rate_per_cbm: Decimal
    minimum_charge: Decimal


class DepartureCreate(RequestBody):
    service: ServiceCode
    departs_at: Timestamp
    cutoff_at: Timestamp
    arrives_at: Timestamp
    capacity_teu: int = Field(ge=1, le=200)
    max_payload_kg: float | None = Field(
        default=None, gt=0, le=40000, description="Cargo weight cap per container on this train (wagon limits)"
    )
    status: DepartureStatus = DepartureStatus.OPEN

    @model_validator(mode="after")
    def _times_in_order(self) -> DepartureCreate:
        if self.cutoff_at > self.departs_at:
            raise ValueError("cutoff_at must not be after departs_at")
        if self.arrives_at <= self.departs_at:
            raise ValueError("arrives_at must be after departs_at")
        return self


class DepartureUpdate(RequestBody):
    status: DepartureStatus | None = None
    capacity_teu: int | None = Field(default=None, ge=1, le=200)
    cutoff_at: Timestamp | None = None


class CallRead(BaseModel):
    hub: str
    un_locode: str
    arrives_at: datetime | None
    departs_at: datetime | None


class DepartureRead(BaseModel):
    id: int
    service: str
    mode: Mode
    origin: str
    destination: str
    departs_at: datetime
    cutoff_at: datetime
    arrives_at: datetime
    calls: list[CallRead]
    capacity_teu: int
    capacity_cbm: float
    booked_cbm: float
    available_cbm: float
    max_payload_kg: float | None
    status: DepartureStatus
