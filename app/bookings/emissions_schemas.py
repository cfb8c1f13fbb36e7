"""What a booking's footprint and the emissions report read like."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.network.schemas import Co2eRead, FootprintLegRead, FootprintRead


class BookingFootprintLegRead(FootprintLegRead):
    departure_id: int
    departs_at: datetime
    arrives_at: datetime


class BookingEmissionsRead(FootprintRead):
    """A booking's emissions by ISO 14083, recomputed from its legs as they stand and its weight."""

    reference: str
    status: str
    weight_kg: float = Field(description="The mass the footprint allocates: measured at the CFS once received, "
                                         "declared until then")
    weight_basis: str = Field(description="MEASURED or DECLARED")
    factor_table_version: str
    legs: list[BookingFootprintLegRead]
    by_mode: dict[str, Co2eRead]


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class DistanceRead(BaseModel):
    value: str | None = Field(description="km, a decimal string")
    dataSource: str | None = Field(description="Actual (set by the operator) or GCD (great circle, with the "
                                               "mode's detour)")


class TceRead(BaseModel):
    """A transport chain element, as iLEAP's TCE: a transport leg (tocId) or a hub call (hocId)."""

    tceId: str
    prevTceIds: list[str]
    shipmentId: str
    tocId: str | None = Field(description="The intensity a transport leg used: a factor-table id or service:CODE")
    hocId: str | None = Field(description="The intensity a hub call used: hub:CODE")
    mass: str = Field(description="kg, a decimal string")
    co2eWTW: str | None = Field(description="kg CO2e well-to-wheel, a decimal string; null when not computable")
    co2eTTW: str | None = Field(description="kg CO2e tank-to-wheel, a decimal string")
    status: str = Field(description="OK, NO_DISTANCE or NO_FACTOR")
    hub: str | None = None
    mode: str | None = None
    service: str | None = None
    from_hub: str | None = None
    to_hub: str | None = None
    distance: DistanceRead | None = None
    transportActivity: str | None = Field(default=None, description="t·km, a decimal string")
    departureAt: str | None = None
    arrivalAt: str | None = None


class ShipmentFootprintRead(BaseModel):
    """One booking, shaped like iLEAP's ShipmentFootprint."""

    shipmentId: str
    organization_id: int
    status: str
    mass: str
    weight_basis: str
    numberOfItems: str
    co2eWTW: str
    co2eTTW: str
    complete: bool
    tces: list[TceRead]


class EmissionsReportRead(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    organization_id: int | None
    allocation: str
    factor_table_version: str
    shipments: list[ShipmentFootprintRead]
    totals_by_mode: dict[str, Co2eRead]
    total: Co2eRead

    model_config = {"populate_by_name": True}
