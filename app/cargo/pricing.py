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

    @property
    def total(self) -> Decimal:
        return self.base + self.minimum_top_up + self.dg_surcharge + self.reefer_surcharge + self.non_stackable_surcharge

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
        )

    def as_json(self) -> dict:
        return {
            "currency": self.currency,
            "base": str(self.base),
            "minimum_top_up": str(self.minimum_top_up),
            "dg_surcharge": str(self.dg_surcharge),
            "reefer_surcharge": str(self.reefer_surcharge),
            "non_stackable_surcharge": str(self.non_stackable_surcharge),
            "total": str(self.total),
        }

    @classmethod
    def zero(cls, currency: str) -> PriceBreakdown:
        return cls(currency, ZERO, ZERO, ZERO, ZERO, ZERO)


def price(terms: RateTerms, cargo: CargoFigures) -> PriceBreakdown:
    """The breakdown for ``cargo`` under ``terms`` (see the module docstring)."""
    if not cargo.chargeable_cbm >= 0 or not cargo.non_stackable_footprint_m2 >= 0:
        raise ValueError("cargo figures must be non-negative numbers")
    cbm = _decimal(cargo.chargeable_cbm)
    base = _cents(terms.rate_per_cbm * cbm)
    top_up = max(_cents(terms.minimum_charge) - base, ZERO)
    dg = _cents(terms.dg_surcharge_per_cbm * cbm) if cargo.dangerous_goods else ZERO
    reefer = _cents(terms.reefer_surcharge_per_cbm * cbm) if cargo.reefer else ZERO
    footprint = _decimal(cargo.non_stackable_footprint_m2)
    non_stackable = _cents(terms.non_stackable_surcharge_per_m2 * footprint) if footprint else ZERO
    return PriceBreakdown(terms.currency, base, top_up, dg, reefer, non_stackable)


def price_on_rate(rate_per_cbm: Decimal, minimum_charge: Decimal, chargeable_cbm: float) -> Decimal:
    """A bare rate: ``rate_per_cbm`` × chargeable CBM, at least ``minimum_charge``, to the cent."""
    return _cents(max(rate_per_cbm * _decimal(chargeable_cbm), minimum_charge))
