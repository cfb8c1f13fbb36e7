from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

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
    UnNumber,
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


Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS 84 degrees north")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS 84 degrees east")]
HubIntensity = Annotated[float, Field(ge=0, le=1000, description="kg CO2e per tonne handled")]
LegIntensity = Annotated[float, Field(ge=0, le=10000, description="g CO2e per tonne-km")]
LegKm = Annotated[float, Field(gt=0, le=30000, description="km")]


class HubEmissions(RequestBody):
    """Where a hub is, and the operator's own figure for handling there (both parts or neither)."""

    latitude: Latitude | None = None
    longitude: Longitude | None = None
    handling_ttw_kg_per_t: HubIntensity | None = Field(default=None, description="Tank-to-wheel kg CO2e per tonne handled")
    handling_wtt_kg_per_t: HubIntensity | None = Field(default=None, description="Well-to-tank kg CO2e per tonne handled")

    @model_validator(mode="after")
    def _pairs(self) -> HubEmissions:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together")
        if (self.handling_ttw_kg_per_t is None) != (self.handling_wtt_kg_per_t is None):
            raise ValueError("give handling_ttw_kg_per_t and handling_wtt_kg_per_t together")
        return self


class HubCreate(HubEmissions):
    code: HubCode = Field(description="UN/LOCODE, optionally with a facility suffix: CNWUH-WJS")
    name: Name
    kind: HubKind
    un_locode: UnLocode
    timezone: TimeZone
    handling_hours: float = Field(ge=0, le=240, description="Least time between arriving and leaving on another leg")
    railway_station_code: str | None = Field(
        default=None, pattern=r"^[0-9A-Z]{4,16}$",
        description="The station's railway code (ESR/OSJD), printed on CIM/SMGS consignment notes",
    )

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
    railway_station_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    handling_ttw_kg_per_t: float | None = None
    handling_wtt_kg_per_t: float | None = None


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


class WagonTypeIn(RequestBody):
    code: str = Field(pattern=r"^[0-9A-Z-]{1,16}$")
    name: Name
    payload_kg: float = Field(gt=0, le=200_000)
    tare_kg: float = Field(gt=0, le=100_000)
    length_m: float = Field(gt=0, le=40)
    feu_slots: int = Field(default=1, ge=1, le=3, description="Places each taking one 40' or two 20'")


class RailRulesIn(RequestBody):
    """China Railway's container rules for a rail service; every figure a setting (sources differ)."""

    max_gross_kg_20: float = Field(default=24_000, gt=0, le=40_000, description="A 20' on its wagon, gross")
    max_gross_kg_40: float = Field(default=25_000, gt=0, le=40_000, description="A 40' on its wagon, gross")
    tare_kg_20: float = Field(default=2_200, ge=0, le=10_000, description="Container tare counted for a 20'")
    tare_kg_40: float = Field(default=3_800, ge=0, le=10_000, description="Container tare counted for a 40'")
    pair_20: bool = Field(default=True, description="20' containers travel two to a wagon, to one destination")
    pair_max_difference_kg: float = Field(default=5_000, gt=0, le=40_000,
                                          description="Gross weights of a wagon's two 20' differ by less than this")
    single_20_destinations: list[UnLocode] = Field(default_factory=list, max_length=50,
                                                   description="UN/LOCODEs where a single 20' on a wagon is accepted")
    max_feu: int = Field(default=55, ge=1, le=100)
    max_cargo_kg: float = Field(default=1_300_000, gt=0, le=5_000_000, description="Container cargo per train")
    max_train_length_m: float | None = Field(
        default=None, gt=0, le=3_000,
        description="Train length limit, e.g. 600 m on Polish lines (the train is rebuilt after Małaszewicze); none by default",
    )
    heavy_wagons_off_ends: bool = Field(default=False, description="Keep the heaviest wagons off the train's ends")
    wagon_types: list[WagonTypeIn] = Field(default_factory=lambda: [WagonTypeIn(
        code="X70", name="Chinese 40' container flat wagon (one 40' or two 20')", payload_kg=70_000, tare_kg=23_800,
        length_m=16.3, feu_slots=1)], min_length=1, max_length=5)
    refused_un_numbers: list[UnNumber] = Field(default_factory=lambda: ["3480", "3090"], max_length=50)
    documented_un_numbers: list[UnNumber] = Field(default_factory=lambda: ["3481", "3091"], max_length=50)
    required_documents: list[str] = Field(default_factory=lambda: ["UN38_3_TEST_SUMMARY", "MSDS"], max_length=5)
    refuse_damaged_batteries: bool = True

    @model_validator(mode="after")
    def _documents_known(self) -> RailRulesIn:
        if any(d not in ("UN38_3_TEST_SUMMARY", "MSDS") for d in self.required_documents):
            raise ValueError("required_documents: UN38_3_TEST_SUMMARY or MSDS")
        return self


class IntensityIn(RequestBody):
    """An operator's own emission intensity for a service (its measured figure), overriding the factor table."""

    ttw_g_per_tkm: LegIntensity = Field(description="Tank-to-wheel g CO2e per tonne-km")
    wtt_g_per_tkm: LegIntensity = Field(description="Well-to-tank g CO2e per tonne-km")
    source: Name = Field(description="Where the figure comes from, e.g. the operator's 2025 energy report")


class ServiceEmissions(RequestBody):
    """A service's distances and, optionally, its own intensity."""

    distances_km: list[LegKm | None] | None = Field(
        default=None, max_length=31, description="km of each leg between consecutive calls (origin, stops…, "
                                                 "destination): one more than the stops; null where unknown "
                                                 "(estimated from the hubs' coordinates)")
    intensity: IntensityIn | None = Field(default=None, description="The operator's own figure; null: the factor "
                                                                    "table's default for the mode")


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
    rail_rules: RailRulesIn | None = Field(
        default=None, description="China Railway's container rules (RAIL only); {} takes every default, left out: none",
    )
    distances_km: list[LegKm | None] | None = Field(
        default=None, max_length=31, description="km of each leg between consecutive calls: one more than the stops")
    intensity: IntensityIn | None = Field(default=None, description="The operator's own g CO2e per tonne-km")

    @model_validator(mode="after")
    def _stops_in_order(self) -> ServiceCreate:
        if self.distances_km is not None and len(self.distances_km) != len(self.stops) + 1:
            raise ValueError("distances_km needs one entry per leg: one more than the stops")
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
    rail_rules: dict | None = None
    distances_km: list[float | None] | None = Field(default=None, description="km of each leg between calls")
    intensity: dict | None = Field(default=None, description="The operator's own intensity, if set")


class DepartureCreate(RequestBody):
    service: ServiceCode
    departs_at: Timestamp
    cutoff_at: Timestamp
    arrives_at: Timestamp
    capacity_teu: int = Field(ge=1, le=200)
    max_payload_kg: float | None = Field(
        default=None, gt=0, le=40000, description="Cargo weight cap per container on this train (wagon limits)"
    )
    max_cargo_kg: float | None = Field(default=None, gt=0, le=5_000_000,
                                       description="Container cargo on this train; the service's rail rules when left out")
    max_train_length_m: float | None = Field(default=None, gt=0, le=3_000,
                                             description="Train length; the service's rail rules when left out")
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
    max_cargo_kg: float | None = None
    max_train_length_m: float | None = None
    status: DepartureStatus


# --- emissions (app.emissions): what a footprint reads like, for quotes, bookings and reports ---------

class Co2eRead(BaseModel):
    ttw_kg: float = Field(description="Tank-to-wheel kg CO2e")
    wtt_kg: float = Field(description="Well-to-tank kg CO2e")
    wtw_kg: float = Field(description="Well-to-wheel kg CO2e: TTW + WTT")


class FactorRead(BaseModel):
    id: str = Field(description="A factor-table id (GET /v1/emissions/factors), or service:CODE / hub:CODE for "
                                "the operator's own figure")
    source: str
    model_config = {"extra": "allow"}


class FootprintLegRead(BaseModel):
    service: str
    from_hub: str
    to_hub: str
    mode: Mode
    mass_t: float = Field(description="The shipment's gross mass: its share of the vehicle by mass-based allocation")
    distance_km: float | None
    distance_basis: str = Field(description="OPERATOR (set on the service), GREAT_CIRCLE (hubs' great circle × "
                                            "the mode's detour; air: + 95 km) or UNKNOWN")
    tkm: float | None = Field(description="Transport activity: mass_t × distance_km")
    factor: FactorRead | None
    co2e: Co2eRead | None
    status: str = Field(description="OK, NO_DISTANCE or NO_FACTOR")


class FootprintHubRead(BaseModel):
    hub: str
    mass_t: float
    factor: FactorRead | None
    co2e: Co2eRead | None
    status: str


class FootprintRead(BaseModel):
    """ISO 14083 emissions of a shipment: per leg and hub call, and totals of what could be computed."""

    allocation: str = Field(description="MASS: an LCL shipment's share of a vehicle is by its gross mass")
    complete: bool = Field(description="Every leg had a distance and a factor")
    ttw_kg: float
    wtt_kg: float
    wtw_kg: float
    legs: list[FootprintLegRead]
    hubs: list[FootprintHubRead]
