from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from app.cargo.packages import NAME_OF_CODE, package_name
from app.fields import (
    CountryCode,
    HsCode,
    HubCode,
    IdField,
    LongText,
    Name,
    RequestBody,
    ShortText,
    Timestamp,
    text,
)
from app.bookings.dangerous import DangerousGoods
from app.network.schemas import Mode


class BookingStatus(StrEnum):
    RECEIVED = "RECEIVED"
    CONFIRMED = "CONFIRMED"
    WAITLISTED = "WAITLISTED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    CARGO_RECEIVED = "CARGO_RECEIVED"
    STUFFED = "STUFFED"
    IN_TRANSIT = "IN_TRANSIT"
    ARRIVED = "ARRIVED"
    DELIVERED = "DELIVERED"


# Statuses in which a booking holds space on its departure (space control, plans, tracking).
SPACE_HOLDING = (
    BookingStatus.CONFIRMED,
    BookingStatus.CARGO_RECEIVED,
    BookingStatus.STUFFED,
    BookingStatus.IN_TRANSIT,
    BookingStatus.ARRIVED,
    BookingStatus.DELIVERED,
)


class PackageType(StrEnum):
    PALLET = "PALLET"
    CARTON = "CARTON"
    CRATE = "CRATE"
    CASE = "CASE"
    DRUM = "DRUM"
    BAG = "BAG"
    BALE = "BALE"
    ROLL = "ROLL"
    COIL = "COIL"
    PIECE = "PIECE"
    PACKAGE = "PACKAGE"
    BOX = "BOX"
    SACK = "SACK"


def _package_name(value: object) -> object:
    return package_name(value) if isinstance(value, str) else value


# A package type as taken: Caravan's name or its UN/ECE Recommendation 21 code ("CT" is a CARTON).
PackageTypeIn = Annotated[PackageType, BeforeValidator(_package_name), WithJsonSchema({
    "type": "string", "enum": [*PackageType, *sorted(NAME_OF_CODE)],
    "description": "The kind of package: a name (CARTON, PALLET…) or its UN/ECE Recommendation 21 code "
                   "(" + ", ".join(f"{code} {name.lower()}" for code, name in sorted(NAME_OF_CODE.items())) + ")",
})]


class Side(StrEnum):
    """A package's own side: its length, width or height as declared."""

    LENGTH = "length"
    WIDTH = "width"
    HEIGHT = "height"


class Incoterm(StrEnum):
    """The Incoterms 2020 rules: the terms the exporter sells under (who pays and bears the risk up to where)."""

    EXW = "EXW"
    FCA = "FCA"
    FAS = "FAS"
    FOB = "FOB"
    CFR = "CFR"
    CIF = "CIF"
    CPT = "CPT"
    CIP = "CIP"
    DAP = "DAP"
    DPU = "DPU"
    DDP = "DDP"


# The rules under which the seller delivers at the buyer's end: a quote that names one delivers by default.
DELIVERED_RULES = frozenset({Incoterm.DAP, Incoterm.DPU, Incoterm.DDP})
INCOTERM_DESCRIPTION = "The Incoterms 2020 rule the exporter sells under (EXW FCA FAS FOB CFR CIF CPT CIP DAP DPU DDP)"


class ReferenceKind(StrEnum):
    PURCHASE_ORDER = "PURCHASE_ORDER"
    INVOICE = "INVOICE"
    SHIPPER_REFERENCE = "SHIPPER_REFERENCE"
    CONSIGNEE_REFERENCE = "CONSIGNEE_REFERENCE"
    CUSTOMS_DECLARATION = "CUSTOMS_DECLARATION"
    OTHER = "OTHER"


class TemperatureRange(RequestBody):
    model_config = ConfigDict(populate_by_name=True)

    min_c: float = Field(alias="min", ge=-30, le=30)
    max_c: float = Field(alias="max", ge=-30, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> TemperatureRange:
        if self.min_c > self.max_c:
            raise ValueError("min must not be above max")
        return self


Dimension = float


class CargoLineIn(RequestBody):
    """A line: ``packages`` alike; dimensions per package in cm, ``weight_kg`` for the whole line."""

    description: Name
    hs_code: HsCode
    packages: int = Field(ge=1, le=10_000)
    package_type: PackageTypeIn
    length_cm: float = Field(gt=0, le=1300)
    width_cm: float = Field(gt=0, le=1300)
    height_cm: float = Field(gt=0, le=1300)
    weight_kg: float = Field(gt=0, le=30_000)
    stackable: bool = True
    vertical: list[Side] | None = Field(
        default=None, min_length=1, max_length=3,
        description="Which of the package's sides may stand upright when stuffed: [\"height\"] is this way up. "
                    "Left out: pallets, crates, cases and drums stand as declared; other packages may lie on any side.",
    )
    dangerous_goods: DangerousGoods | None = None
    temperature_c: TemperatureRange | None = None

    @field_validator("vertical")
    @classmethod
    def _distinct_sides(cls, sides: list[Side] | None) -> list[Side] | None:
        if sides is not None and len(set(sides)) != len(sides):
            raise ValueError("name each side at most once")
        return sides


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+?[0-9 ()-]{4,32}$"


class Consignee(RequestBody):
    name: Name
    address: LongText
    city: Name
    country: CountryCode
    email: text(254) | None = Field(default=None, pattern=EMAIL_PATTERN)  # type: ignore[valid-type]
    phone: text(32) | None = Field(default=None, pattern=PHONE_PATTERN)  # type: ignore[valid-type]


class BookingReferenceIn(RequestBody):
    kind: ReferenceKind
    value: ShortText


class BookingCreate(RequestBody):
    departure_id: IdField | None = None
    quote_option_id: ShortText | None = None
    origin: HubCode | None = Field(default=None, description="Boarding hub (hub code, or a UN/LOCODE one hub of the "
                                                                 "route has); defaults to the service's origin")
    destination: HubCode | None = Field(default=None, description="Alighting hub (hub code, or a UN/LOCODE one hub of the "
                                                                      "route has); defaults to the service's end")
    consignee: Consignee
    cargo: list[CargoLineIn] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Required with departure_id; with quote_option_id the quoted cargo is used (if sent, it must equal it)",
    )
    references: list[BookingReferenceIn] = Field(default_factory=list, max_length=20)
    allow_rollover: bool = False
    incoterm: Incoterm | None = Field(default=None, description=INCOTERM_DESCRIPTION + "; with quote_option_id "
                                                                "it defaults to the quote's")

    @model_validator(mode="after")
    def _one_target(self) -> BookingCreate:
        if (self.departure_id is None) == (self.quote_option_id is None):
            raise ValueError("give exactly one of departure_id and quote_option_id")
        if self.departure_id is not None and self.cargo is None:
            raise ValueError("cargo is required when booking a departure_id")
        return self


class BookingUpdate(RequestBody):
    consignee: Consignee | None = None
    cargo: list[CargoLineIn] | None = Field(default=None, min_length=1, max_length=200)
    references: list[BookingReferenceIn] | None = Field(default=None, max_length=20)
    allow_rollover: bool | None = None
    incoterm: Incoterm | None = Field(default=None, description=INCOTERM_DESCRIPTION + "; null clears it")

    @model_validator(mode="after")
    def _something(self) -> BookingUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of consignee, cargo, references, allow_rollover, incoterm")
        return self


class ConsigneePatch(RequestBody):
    """The consignee's members to change; null removes one (only email and phone may go)."""

    name: Name | None = None
    address: LongText | None = None
    city: Name | None = None
    country: CountryCode | None = None
    email: text(254) | None = Field(default=None, pattern=EMAIL_PATTERN)  # type: ignore[valid-type]
    phone: text(32) | None = Field(default=None, pattern=PHONE_PATTERN)  # type: ignore[valid-type]


class BookingMergePatch(RequestBody):
    """A JSON Merge Patch (RFC 7396, ``application/merge-patch+json``) of a booking's amendable fields:
    a member left out stays as it is, ``null`` removes it, an object (the consignee) is merged
    member by member, a list (cargo, references) is replaced whole. The booking that results must
    still be a valid booking: removing the consignee, the cargo or a required member of the
    consignee is a 422 naming it; removed references become none, a removed allow_rollover false."""

    consignee: ConsigneePatch | None = None
    cargo: list[CargoLineIn] | None = Field(default=None, min_length=1, max_length=200)
    references: list[BookingReferenceIn] | None = Field(default=None, max_length=20)
    allow_rollover: bool | None = None
    incoterm: Incoterm | None = Field(default=None, description=INCOTERM_DESCRIPTION + "; null clears it")


class MeasuredLine(RequestBody):
    """Packages alike as measured at the CFS: dimensions per package in cm, weight for the whole line."""

    packages: int = Field(ge=1, le=10_000)
    length_cm: float = Field(gt=0, le=1300)
    width_cm: float = Field(gt=0, le=1300)
    height_cm: float = Field(gt=0, le=1300)
    weight_kg: float = Field(gt=0, le=30_000)


class ReceiptIn(RequestBody):
    """The CFS's measurement of what actually arrived: totals, or the measured lines they are summed from."""

    pieces: int | None = Field(default=None, ge=1, le=2_000_000)
    weight_kg: float | None = Field(default=None, gt=0, le=6_000_000)
    volume_cbm: float | None = Field(default=None, gt=0, le=100_000)
    lines: list[MeasuredLine] | None = Field(default=None, min_length=1, max_length=200)
    received_at: Timestamp | None = None
    note: text(300) | None = Field(default=None, description="Kept as the booking's status_reason")  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _totals_or_lines(self) -> ReceiptIn:
        totals = (self.pieces, self.weight_kg, self.volume_cbm)
        if self.lines is not None:
            if any(t is not None for t in totals):
                raise ValueError("give the measured lines or the totals (pieces, weight_kg, volume_cbm), not both")
            self.pieces = sum(line.packages for line in self.lines)
            self.weight_kg = round(sum(line.weight_kg for line in self.lines), 3)
            self.volume_cbm = round(sum(
                line.packages * line.length_cm * line.width_cm * line.height_cm / 1_000_000 for line in self.lines
            ), 3) or 0.001
        elif any(t is None for t in totals):
            raise ValueError("give pieces, weight_kg and volume_cbm, or the measured lines")
        return self


class DeliveryIn(RequestBody):
    """Proof of delivery to the consignee."""

    received_by: Name
    delivered_at: Timestamp | None = None


class RejectIn(RequestBody):
    reason: text(300)  # type: ignore[valid-type]


class Money(BaseModel):
    amount: Decimal
    currency: str


class PriceBreakdownRead(BaseModel):
    """A price line by line; ``total`` is their exact sum. The freight (base, minimum top-up, surcharges) is
    always shown; origin CFS handling, destination terminal handling, pickup and delivery only when they
    charge something (a rate card sets them; pickup and delivery when asked for)."""

    currency: str
    base: Decimal
    minimum_top_up: Decimal
    dg_surcharge: Decimal
    reefer_surcharge: Decimal
    non_stackable_surcharge: Decimal
    origin_handling: Decimal = Field(default=Decimal("0.00"), description="Origin CFS handling (first leg)")
    destination_handling: Decimal = Field(default=Decimal("0.00"), description="Destination terminal handling (last leg)")
    pickup: Decimal = Field(default=Decimal("0.00"), description="Collection at the exporter's door (first leg)")
    delivery: Decimal = Field(default=Decimal("0.00"), description="Delivery to the consignee's door (last leg)")
    total: Decimal

    @model_serializer(mode="wrap")
    # No return annotation: with one, the documented schema would be a bare object instead of these fields.
    def _leave_out_what_charges_nothing(self, handler: SerializerFunctionWrapHandler):
        data = handler(self)
        for name in ("origin_handling", "destination_handling", "pickup", "delivery"):
            if not getattr(self, name):
                data.pop(name, None)
        return data


class DangerousGoodsRead(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    un_number: str
    dg_class: str = Field(serialization_alias="class")
    packing_group: str | None
    special_provisions: list[int] = Field(default_factory=list, exclude_if=lambda v: not v)
    battery_condition: str | None = Field(default=None, exclude_if=lambda v: v is None)
    documents: list[dict[str, str]] = Field(default_factory=list, exclude_if=lambda v: not v,
                                            description="Declared with the goods (UN38.3 test summary, MSDS)")


class TemperatureRead(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    min_c: float = Field(serialization_alias="min")
    max_c: float = Field(serialization_alias="max")


class CargoLineRead(BaseModel):
    description: str
    hs_code: str
    packages: int
    package_type: PackageType
    package_code: str = Field(description="The package type's UN/ECE Recommendation 21 code (CARTON: CT)")
    length_cm: float
    width_cm: float
    height_cm: float
    weight_kg: float
    stackable: bool
    vertical: list[Side] = Field(description="The sides that may stand upright when the package is stuffed")
    dangerous_goods: DangerousGoodsRead | None
    temperature_c: TemperatureRead | None
    volume_cbm: float
    chargeable_cbm: float


class ChargeableBasis(StrEnum):
    VOLUME = "VOLUME"
    OCCUPIED_VOLUME = "OCCUPIED_VOLUME"
    WEIGHT = "WEIGHT"
    MINIMUM = "MINIMUM"


class LineChargeableRead(BaseModel):
    line: int = Field(description="Index of the cargo line, from 0")
    volume_cbm: float = Field(description="Packages × length × width × height")
    stackable: bool
    footprint_m2: float | None = Field(description="Packages × length × width, for a non-stackable line")
    occupied_cbm: float = Field(description="What the line blocks: its volume, or for a non-stackable line at least "
                                            "footprint_m2 × non_stackable_height_m (nothing can stand on it)")
    weight_kg: float
    weight_cbm: float = Field(description="The weight-volume: weight_kg ÷ weight_per_cbm_kg")
    chargeable_cbm: float = Field(description="The larger of occupied_cbm and weight_cbm")
    basis: ChargeableBasis = Field(description="Which figure counted: VOLUME, OCCUPIED_VOLUME or WEIGHT")


class ChargeableExplainedRead(BaseModel):
    """How the chargeable volume (W/M) was reached: the larger of the lines' total occupied volume and
    their total weight ÷ weight_per_cbm_kg, and at least minimum_cbm per booking."""

    weight_per_cbm_kg: float = Field(description="The service's W/M ratio")
    non_stackable_height_m: float = Field(description="The height a non-stackable package blocks")
    minimum_cbm: float = Field(description="The least a booking is charged")
    volume_cbm: float
    occupied_cbm: float
    weight_kg: float
    weight_cbm: float = Field(description="weight_kg ÷ weight_per_cbm_kg")
    chargeable_cbm: float
    basis: ChargeableBasis = Field(description="Which figure counted: VOLUME, OCCUPIED_VOLUME (a non-stackable line "
                                               "blocks more than its volume), WEIGHT or MINIMUM")
    lines: list[LineChargeableRead]


class MeasurementRead(BaseModel):
    pieces: int
    weight_kg: float
    volume_cbm: float
    chargeable_cbm: float
    received_at: datetime
    discrepancy: bool = Field(description="True when the measurement differs from the declaration beyond tolerance")
    weight_difference_pct: float
    volume_difference_pct: float
    price: Money


class BookingLegRead(BaseModel):
    """A leg of the booking's itinerary: one departure the cargo rides, from where it boards to where it leaves."""

    sequence: int = Field(description="1 for the first leg")
    main: bool = Field(description="The leg whose departure is the booking's departure_id (the trunk ride)")
    mode: Mode
    service: str
    departure_id: int
    from_hub: str
    to_hub: str
    cutoff_at: datetime = Field(description="This leg's departure's cut-off: the cargo must be at from_hub by then, "
                                            "and the booking can be amended or cancelled only before it")
    departs_at: datetime = Field(description="When the leg leaves from_hub")
    arrives_at: datetime = Field(description="When the leg reaches to_hub")


class HandoverRead(BaseModel):
    hub: str = Field(description="Where the exporter hands the cargo over: the first leg's from_hub")
    cutoff_at: datetime = Field(description="By when: the first leg's cut-off, the earliest of the itinerary")


class BookingRead(BaseModel):
    reference: str
    status: BookingStatus
    status_reason: str | None
    departure_id: int = Field(description="The departure whose space the booking holds: for a booking made from a "
                                          "quote, its main leg's (legs has every departure it rides)")
    requested_departure_id: int
    service: str = Field(description="The service of departure_id")
    origin: str = Field(description="Where the cargo starts its journey: the first leg's from_hub (for a booking of "
                                    "one departure, where it boards that departure; for one made from a quote, "
                                    "where its first truck, barge or train leaves, not the main leg's)")
    destination: str = Field(description="The final destination: where the last leg leaves the cargo")
    cutoff_at: datetime = Field(description="The cut-off the exporter must meet: the first (earliest) of its legs' "
                                            "cut-offs. The booking can be amended or cancelled only before every "
                                            "leg's cut-off, so before this one")
    departs_at: datetime = Field(description="When the first leg leaves the origin")
    arrives_at: datetime = Field(description="When the last leg reaches the destination")
    handover: HandoverRead = Field(description="Where and by when the exporter hands the cargo over")
    final_destination: str = Field(description="The same as destination: where the itinerary ends")
    legs: list[BookingLegRead] = Field(description="The itinerary, in order; departure_id is the main leg's")
    consignee: Consignee
    cargo: list[CargoLineRead]
    references: list[BookingReferenceIn]
    allow_rollover: bool
    pieces: int
    weight_kg: float
    volume_cbm: float
    declared_chargeable_cbm: float = Field(description="W/M of the cargo as declared")
    chargeable_explained: ChargeableExplainedRead = Field(description="How declared_chargeable_cbm was reached, line "
                                                                      "by line, under the service's W/M ratio")
    chargeable_cbm: float = Field(description="W/M that holds space: as declared, or as measured once the CFS "
                                              "has received the cargo")
    price: Money = Field(description="The price of the cargo as booked (declared); after the receipt the price "
                                     "of the measured cargo is measured.price")
    price_breakdown: PriceBreakdownRead | None = Field(
        default=None, description="The booked price line by line (null for a booking priced before lines were kept)"
    )
    pickup: bool = Field(default=False, description="The price carries collection at the exporter's door (asked "
                                                    "for in the quote)")
    delivery: bool = Field(default=False, description="The price carries delivery to the consignee's door")
    incoterm: Incoterm | None = Field(default=None, description=INCOTERM_DESCRIPTION)
    measured: MeasurementRead | None
    version: int
    created_at: datetime
    updated_at: datetime
