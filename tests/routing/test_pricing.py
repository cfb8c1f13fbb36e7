"""The pure price breakdown: base, minimum top-up, surcharges; every component to the cent."""

from decimal import Decimal

import pytest

from app.cargo.pricing import CargoFigures, PriceBreakdown, RateTerms, price

TERMS = RateTerms(
    currency="EUR",
    rate_per_cbm=Decimal("118.00"),
    minimum_charge=Decimal("150.00"),
    dg_surcharge_per_cbm=Decimal("35.00"),
    reefer_surcharge_per_cbm=Decimal("60.00"),
    non_stackable_surcharge_per_m2=Decimal("12.50"),
)


def test_small_cargo_is_topped_up_to_the_minimum():
    breakdown = price(TERMS, CargoFigures(chargeable_cbm=1.0))
    assert (breakdown.base, breakdown.minimum_top_up, breakdown.total) == (Decimal("118.00"), Decimal("32.00"), Decimal("150.00"))


def test_surcharges_add_per_chargeable_cbm_and_per_footprint():
    breakdown = price(
        TERMS, CargoFigures(chargeable_cbm=5.736, dangerous_goods=True, reefer=True, non_stackable_footprint_m2=2.4)
    )
    assert breakdown.base == Decimal("676.85")  # 5.736 × 118 = 676.848
    assert breakdown.minimum_top_up == Decimal("0.00")
    assert breakdown.dg_surcharge == Decimal("200.76")  # 5.736 × 35
    assert breakdown.reefer_surcharge == Decimal("344.16")
    assert breakdown.non_stackable_surcharge == Decimal("30.00")
    assert breakdown.total == Decimal("1251.77")
    assert breakdown.as_json()["total"] == "1251.77"


def test_no_surcharge_without_the_condition():
    breakdown = price(TERMS, CargoFigures(chargeable_cbm=2.0))
    assert breakdown.dg_surcharge == breakdown.reefer_surcharge == breakdown.non_stackable_surcharge == Decimal("0.00")


def test_floats_do_not_leak_binary_noise():
    assert price(TERMS, CargoFigures(chargeable_cbm=1.2)).base == Decimal("141.60")


def test_breakdowns_add_in_one_currency_only():
    a = price(TERMS, CargoFigures(chargeable_cbm=2.0))
    assert (a + a).total == a.total * 2
    with pytest.raises(ValueError):
        a + PriceBreakdown.zero("CNY")


def test_terms_survive_json():
    assert RateTerms.from_json(TERMS.as_json()) == TERMS


def test_negative_figures_are_refused():
    with pytest.raises(ValueError):
        price(TERMS, CargoFigures(chargeable_cbm=-1))
    with pytest.raises(ValueError):
        price(TERMS, CargoFigures(chargeable_cbm=float("nan")))
