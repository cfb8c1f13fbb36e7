"""Pure pricing: a rate card's terms and a shipment's figures in, a price breakdown out.

No database, no web: the quote search and the booking rules both call :func:`price`.
A service priced by its own fields (no rate card) is :func:`price_on_rate`.

Rules (one leg, one service):

* ``base`` = ``rate_per_cbm`` × chargeable CBM. The chargeable volume is
  computed by the caller with the service's W/M ratio (``weight_per_cbm_kg``)
  and already counts a non-stackable line's footprint × 2.39 m
  (``app.cargo.figures``).
* ``minimum_top_up`` lifts ``base`` to ``minimum_charge`` when it is below it.
* ``dg_surcharge`` = ``dg_surcharge_per_cbm`` × chargeable CBM when any line
  carries dangerous goods.
* ``reefer_surcharge`` = ``reefer_surcharge_per_cbm`` × chargeable CBM for
  temperature-controlled cargo.
* ``non_stackable_surcharge`` = ``non_stackable_surcharge_per_m2`` × the
  footprint (m²) of the non-stackable lines.
* Beside the freight, the ends of the journey, each a line of its own charged as
  ``max(per_cbm × chargeable CBM, minimum)`` from the card of the leg that carries
  it (:class:`Ends`): ``origin_handling`` (the origin CFS: receiving, measuring,
  stuffing) and ``pickup`` (collection at the exporter's door) on the first leg of an
  itinerary, ``destination_handling`` (the destination terminal: unloading,
  devanning) and ``delivery`` (to the consignee's door) on the last. Handling is
  always charged; pickup and delivery only when asked for. A card that sets none of
  these charges nothing for them (a service without a card never does).
* Every component is rounded half-up to the cent; ``total`` is their sum, so
  a breakdown always adds up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _decimal(value: float) -> Decimal:
    # str() keeps the float's shortest repr, so 1.2 stays 1.2 and not 1.19999…
    return Decimal(str(value))


# The terms of the journey's ends, per CBM and minimum (``RateTerms``), in the order the JSON holds them.
END_TERMS = (
    "origin_handling_per_cbm", "origin_handling_minimum", "destination_handling_per_cbm",
    "destination_handling_minimum", "pickup_per_cbm", "pickup_minimum", "delivery_per_cbm", "delivery_minimum",
)
# The lines of a breakdown beyond the freight, each shown only when it charges something.
END_LINES = ("origin_handling", "destination_handling", "pickup", "delivery")


@dataclass(frozen=True)
class Ends:
    """Which ends of the journey a leg's price carries (none: freight only)."""

    origin_handling: bool = False
    destination_handling: bool = False
    pickup: bool = False
    delivery: bool = False

    @classmethod
    def of_leg(cls, index: int, count: int, *, pickup: bool, delivery: bool) -> Ends:
        """Leg ``index`` of ``count``: the first carries the origin's handling (and the pickup, if asked
        for), the last the destination's (and the delivery); a one-leg journey carries both."""
        first, last = index == 0, index == count - 1
        return cls(first, last, first and pickup, last and delivery)


@dataclass(frozen=True)
class RateTerms:
    """What one service charges: a rate card's figures (or the service's own fallback)."""

    currency: str
    rate_per_cbm: Decimal
    minimum_charge: Decimal = ZERO
    dg_surcharge_per_cbm: Decimal = ZERO
    reefer_surcharge_per_cbm: Decimal = ZERO
    non_stackable_surcharge_per_m2: Decimal = ZERO
    rate_card_id: int | None = None
    rate_card_version: int | None = None
    origin_handling_per_cbm: Decimal = ZERO
    origin_handling_minimum: Decimal = ZERO
    destination_handling_per_cbm: Decimal = ZERO
    destination_handling_minimum: Decimal = ZERO
    pickup_per_cbm: Decimal = ZERO
    pickup_minimum: Decimal = ZERO
    delivery_per_cbm: Decimal = ZERO
    delivery_minimum: Decimal = ZERO

    def as_json(self) -> dict:
        """The terms as JSON-safe values (money as strings), e.g. to hold them on a quote."""
        return {
            "currency": self.currency,
            "rate_per_cbm": str(self.rate_per_cbm),
            "minimum_charge": str(self.minimum_charge),
            "dg_surcharge_per_cbm": str(self.dg_surcharge_per_cbm),
            "reefer_surcharge_per_cbm": str(self.reefer_surcharge_per_cbm),
            "non_stackable_surcharge_per_m2": str(self.non_stackable_surcharge_per_m2),
            "rate_card_id": self.rate_card_id,
            "rate_card_version": self.rate_card_version,
            **{name: str(getattr(self, name)) for name in END_TERMS},
        }

    @classmethod
    def from_json(cls, data: dict) -> RateTerms:
        return cls(
            currency=data["currency"],
            rate_per_cbm=Decimal(data["rate_per_cbm"]),
            minimum_charge=Decimal(data["minimum_charge"]),
            dg_surcharge_per_cbm=Decimal(data["dg_surcharge_per_cbm"]),
            reefer_surcharge_per_cbm=Decimal(data["reefer_surcharge_per_cbm"]),
            non_stackable_surcharge_per_m2=Decimal(data["non_stackable_surcharge_per_m2"]),
            rate_card_id=data.get("rate_card_id"),
            rate_card_version=data.get("rate_card_version"),
            # Terms held before the ends were priced have none of these keys: they charge nothing for them.
            **{name: Decimal(data.get(name, "0")) for name in END_TERMS},
        )


@dataclass(frozen=True)
class CargoFigures:
    """What pricing needs to know about a shipment on one service."""

    chargeable_cbm: float
    dangerous_goods: bool = False
    reefer: bool = False
    non_stackable_footprint_m2: float = 0.0


@dataclass(frozen=True)
class PriceBreakdown:
    currency: str
    base: Decimal
    minimum_top_up: Decimal
    dg_surcharge: Decimal
    reefer_surcharge: Decimal
    non_stackable_surcharge: Decimal
    origin_handling: Decimal = ZERO
    destination_handling: Decimal = ZERO
    pickup: Decimal = ZERO
    delivery: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return (
            self.base + self.minimum_top_up + self.dg_surcharge + self.reefer_surcharge + self.non_stackable_surcharge
            + self.origin_handling + self.destination_handling + self.pickup + self.delivery
        )

    def __add__(self, other: PriceBreakdown) -> PriceBreakdown:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return PriceBreakdown(
            self.currency,
            self.base + other.base,
            self.minimum_top_up + other.minimum_top_up,
            self.dg_surcharge + other.dg_surcharge,
            self.reefer_surcharge + other.reefer_surcharge,
            self.non_stackable_surcharge + other.non_stackable_surcharge,
            *(getattr(self, name) + getattr(other, name) for name in END_LINES),
        )

    def as_json(self) -> dict:
        return {
            "currency": self.currency,
            "base": str(self.base),
            "minimum_top_up": str(self.minimum_top_up),
            "dg_surcharge": str(self.dg_surcharge),
            "reefer_surcharge": str(self.reefer_surcharge),
            "non_stackable_surcharge": str(self.non_stackable_surcharge),
            **{name: str(getattr(self, name)) for name in END_LINES},
            "total": str(self.total),
        }

    @classmethod
    def zero(cls, currency: str) -> PriceBreakdown:
        return cls(currency, ZERO, ZERO, ZERO, ZERO, ZERO)


def _end(per_cbm: Decimal, minimum: Decimal, cbm: Decimal) -> Decimal:
    return max(_cents(per_cbm * cbm), _cents(minimum))


def price(terms: RateTerms, cargo: CargoFigures, ends: Ends = Ends()) -> PriceBreakdown:
    """The breakdown for ``cargo`` under ``terms``, with the ``ends`` the leg carries (see the module docstring)."""
    if not cargo.chargeable_cbm >= 0 or not cargo.non_stackable_footprint_m2 >= 0:
        raise ValueError("cargo figures must be non-negative numbers")
    cbm = _decimal(cargo.chargeable_cbm)
    base = _cents(terms.rate_per_cbm * cbm)
    top_up = max(_cents(terms.minimum_charge) - base, ZERO)
    dg = _cents(terms.dg_surcharge_per_cbm * cbm) if cargo.dangerous_goods else ZERO
    reefer = _cents(terms.reefer_surcharge_per_cbm * cbm) if cargo.reefer else ZERO
    footprint = _decimal(cargo.non_stackable_footprint_m2)
    non_stackable = _cents(terms.non_stackable_surcharge_per_m2 * footprint) if footprint else ZERO
    t = terms
    return PriceBreakdown(
        terms.currency, base, top_up, dg, reefer, non_stackable,
        _end(t.origin_handling_per_cbm, t.origin_handling_minimum, cbm) if ends.origin_handling else ZERO,
        _end(t.destination_handling_per_cbm, t.destination_handling_minimum, cbm) if ends.destination_handling else ZERO,
        _end(t.pickup_per_cbm, t.pickup_minimum, cbm) if ends.pickup else ZERO,
        _end(t.delivery_per_cbm, t.delivery_minimum, cbm) if ends.delivery else ZERO,
    )


def price_on_rate(rate_per_cbm: Decimal, minimum_charge: Decimal, chargeable_cbm: float) -> Decimal:
    """A bare rate: ``rate_per_cbm`` × chargeable CBM, at least ``minimum_charge``, to the cent."""
    return _cents(max(rate_per_cbm * _decimal(chargeable_cbm), minimum_charge))
