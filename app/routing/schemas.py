from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from app.bookings.schemas import DELIVERED_RULES, CargoLineIn, ChargeableExplainedRead, Incoterm, PriceBreakdownRead
from app.fields import Currency, DayEndOrTimestamp, DayOrTimestamp, HubCode, RequestBody, money, text
from app.network.schemas import Co2eRead, FootprintRead, Mode
from app.routing.emissions import QuoteSort

Rate = money("1000000")


class RateCardCreate(RequestBody):
    """A new version of a service's tariff. Money as strings: ``"118.00"``."""

    currency: Currency = "EUR"
    rate_per_cbm: Rate = Field(description="Per chargeable CBM (W/M with the service's weight_per_cbm_kg)")
    minimum_charge: Rate = Decimal("0")
    dg_surcharge_per_cbm: Rate = Field(default=Decimal("0"), description="Per chargeable CBM when any line is DG")
    reefer_surcharge_per_cbm: Rate = Field(default=Decimal("0"), description="Per chargeable CBM for reefer cargo")
    non_stackable_surcharge_per_m2: Rate = Field(
        default=Decimal("0"), description="Per m² of the non-stackable lines' footprint"
    )
    origin_handling_per_cbm: Rate = Field(
        default=Decimal("0.00"), description="Origin CFS handling (receiving, measuring, stuffing) per chargeable CBM; "
                                          "charged on the first leg of an itinerary"
    )
    origin_handling_minimum: Rate = Field(default=Decimal("0.00"), description="At least this for origin CFS handling")
    destination_handling_per_cbm: Rate = Field(
        default=Decimal("0.00"), description="Destination terminal handling (unloading, devanning) per chargeable CBM; "
                                          "charged on the last leg of an itinerary"
    )
    destination_handling_minimum: Rate = Field(default=Decimal("0.00"), description="At least this for destination handling")
    pickup_per_cbm: Rate = Field(
        default=Decimal("0.00"), description="Collection at the exporter's door per chargeable CBM, when a quote asks "
                                          "for pickup (first leg)"
    )
    pickup_minimum: Rate = Field(default=Decimal("0.00"), description="At least this for a pickup")
    delivery_per_cbm: Rate = Field(
        default=Decimal("0.00"), description="Delivery to the consignee's door per chargeable CBM, when a quote asks "
                                          "for delivery (last leg)"
    )
    delivery_minimum: Rate = Field(default=Decimal("0.00"), description="At least this for a delivery")
    valid_from: DayOrTimestamp | None = Field(
        default=None, description="First departure instant it prices (a date alone: from 00:00 UTC that day); default now"
    )
    valid_to: DayEndOrTimestamp | None = Field(
        default=None, description="Departures from this instant on are not covered (a date alone: the last day "
                                  "covered, to 00:00 UTC the day after)"
    )
    note: text(200) | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _window(self) -> RateCardCreate:
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class RateCardRead(BaseModel):
    id: int
    service: str
    version: int
    currency: str
    rate_per_cbm: Decimal
    minimum_charge: Decimal
    dg_surcharge_per_cbm: Decimal
    reefer_surcharge_per_cbm: Decimal
    non_stackable_surcharge_per_m2: Decimal
    origin_handling_per_cbm: Decimal
    origin_handling_minimum: Decimal
    destination_handling_per_cbm: Decimal
    destination_handling_minimum: Decimal
    pickup_per_cbm: Decimal
    pickup_minimum: Decimal
    delivery_per_cbm: Decimal
    delivery_minimum: Decimal
    valid_from: datetime
    valid_to: datetime | None
    note: str | None
    created_at: datetime


class QuoteRequest(RequestBody):
    origin: HubCode = Field(description="UN/LOCODE (every hub there) or hub code such as CNWUH-WJS")
    destination: HubCode = Field(description="UN/LOCODE (every hub there) or hub code")
    ready_at: DayOrTimestamp = Field(description="When the cargo is ready at the origin (a date alone: 00:00 UTC that "
                                                 "day); a past instant counts as now")
    cargo: list[CargoLineIn] = Field(min_length=1, max_length=200)
    currency: Currency = Field(default="EUR", description="Options are priced in this currency only")
    max_legs: int = Field(default=4, ge=1, le=6)
    pickup: bool = Field(default=False, description="Price collection at the exporter's door (the first leg's "
                                                    "rate card: pickup_per_cbm, pickup_minimum)")
    delivery: bool | None = Field(
        default=None, description="Price delivery to the consignee's door (the last leg's rate card). Left out: "
                                  "true when incoterm is a rule that delivers at the buyer's end (DAP, DPU, DDP), "
                                  "else false"
    )
    incoterm: Incoterm | None = Field(default=None, description="The Incoterms 2020 rule the exporter sells under; "
                                                                "a booking of an option keeps it")
    sort: QuoteSort = Field(default=QuoteSort.ARRIVAL, description="Order of the options: price (door to door), "
                                                                   "arrival, or co2e (well-to-wheel kg)")

    @model_validator(mode="after")
    def _delivery_by_incoterm(self) -> QuoteRequest:
        if self.delivery is None:
            self.delivery = self.incoterm in DELIVERED_RULES
        return self


class LocalTimesRead(BaseModel):
    cutoff_at: datetime = Field(description="In the from-hub's time zone")
    departs_at: datetime = Field(description="In the from-hub's time zone")
    arrives_at: datetime = Field(description="In the to-hub's time zone")


class QuoteLegRead(BaseModel):
    mode: Mode
    service: str
    departure_id: int
    from_hub: str
    to_hub: str
    cutoff_at: datetime
    departs_at: datetime
    arrives_at: datetime
    local: LocalTimesRead
    chargeable_cbm: float
    chargeable_explained: ChargeableExplainedRead | None = Field(
        default=None, description="How chargeable_cbm was reached under this leg's service's W/M ratio, line by line "
                                  "(null on options quoted before it was given)"
    )
    price: PriceBreakdownRead
    co2e: Co2eRead | None = Field(default=None, description="This leg's kg CO2e (null: no distance or no factor)")


class QuoteOptionRead(BaseModel):
    id: str = Field(description="Book it with POST /v1/bookings {quote_option_id}")
    quote_id: str
    origin: str
    destination: str
    ready_at: datetime
    departs_at: datetime
    arrives_at: datetime
    transit_days: float = Field(description="Days in transit: from the first leg's departure to arrival at the "
                                            "destination")
    door_to_door_days: float = Field(description="Days from ready_at (when the cargo is ready at the origin) to "
                                                 "arrival at the destination: transit plus the wait for the first "
                                                 "departure")
    modes: list[Mode]
    fastest: bool
    cheapest: bool
    legs: list[QuoteLegRead]
    price: PriceBreakdownRead
    co2e: FootprintRead | None = Field(default=None, description="The option's emissions by ISO 14083 (null on "
                                                                 "options quoted before they were given)")
    valid_until: datetime
    booking_reference: str | None = None


class LeftOutReason(StrEnum):
    DG_CLASS_FORBIDDEN = "DG_CLASS_FORBIDDEN"
    REEFER_NOT_OFFERED = "REEFER_NOT_OFFERED"
    PIECE_TOO_HEAVY = "PIECE_TOO_HEAVY"
    PIECE_TOO_LARGE = "PIECE_TOO_LARGE"
    CURRENCY = "CURRENCY"
    DEPARTURE_FULL = "DEPARTURE_FULL"
    DG_UN_REFUSED = "DG_UN_REFUSED"
    DG_DOCUMENTS_MISSING = "DG_DOCUMENTS_MISSING"
    CARGO_TOO_HEAVY = "CARGO_TOO_HEAVY"


class LeftOutRead(BaseModel):
    """A service (or one departure of it) that an option would have used, and why it was not offered."""

    service: str
    mode: Mode
    departure_id: int | None = Field(description="Set when only this departure is left out (it is full)")
    reason: LeftOutReason
    detail: str
    field: str | None = Field(description="The cargo field that excludes it, e.g. cargo.0.dangerous_goods.class")


class NoOptionsCode(StrEnum):
    ALL_LEFT_OUT = "ALL_LEFT_OUT"
    NO_SERVICE = "NO_SERVICE"
    TOO_MANY_LEGS = "TOO_MANY_LEGS"
    DEPARTURES_CLOSED = "DEPARTURES_CLOSED"
    NO_DEPARTURE_IN_WINDOW = "NO_DEPARTURE_IN_WINDOW"


class NoOptionsRead(BaseModel):
    """Why a quote found no option."""

    code: NoOptionsCode = Field(description=(
        "ALL_LEFT_OUT: every itinerary was left out for the cargo, the currency or space (see left_out); "
        "NO_SERVICE: no service, nor a chain of services, runs between the places; TOO_MANY_LEGS: the "
        "itineraries take more legs than max_legs; DEPARTURES_CLOSED: the departures that would serve have "
        "closed for booking; NO_DEPARTURE_IN_WINDOW: none leaves and connects within 60 days of ready_at"))
    detail: str


class QuoteRead(BaseModel):
    id: str
    origin: str
    destination: str
    ready_at: datetime
    pieces: int
    weight_kg: float
    volume_cbm: float
    pickup: bool = Field(default=False, description="The options' prices carry collection at the exporter's door")
    delivery: bool = Field(default=False, description="The options' prices carry delivery to the consignee's door")
    incoterm: Incoterm | None = None
    options: list[QuoteOptionRead]
    left_out: list[LeftOutRead]
    no_options_reason: NoOptionsRead | None = Field(description="Why options is empty; null when it is not")
