"""A booking's cargo lines under a service's rules: the request's lines checked and turned into rows and figures.

The rules themselves are the cargo core's (``app.cargo``); this module applies them
to a booking (a 422 naming the field for the first one broken) and writes the
figures onto it.
"""

from __future__ import annotations

from typing import Any, Protocol

from app import cargo as core
from app.bookings.models import Booking, CargoLine
from app.bookings.schemas import CargoLineIn
from app.db import utcnow
from app.errors import Unprocessable


class ServiceRules(Protocol):
    """What the cargo rules read of a service (a stored one, or a stand-in)."""

    code: str
    forbidden_dg_classes: Any
    reefer_allowed: bool
    weight_per_cbm_kg: float


def check_size(volume_cbm: float, chargeable: float, field: str) -> None:
    problem = core.size_problem(volume_cbm, chargeable)
    if problem is not None:
        raise Unprocessable(field, problem)


def _raise(problem: core.CargoProblem, field: str) -> None:
    raise Unprocessable(problem.field(field) or field, problem.detail)


def check_cargo(cargo: list[CargoLineIn], service: ServiceRules, field: str = "cargo") -> tuple[core.CargoTotals,
                                                                                               list[CargoLine]]:
    """Apply the service's rules to the cargo; its figures and the booking's line rows, or a 422 on ``field``."""
    problem = core.service_problem(cargo, service.code, service.forbidden_dg_classes, service.reefer_allowed)
    rules = core.RailRules.from_json(getattr(service, "rail_rules", None))
    if problem is None and rules is not None:
        problem = core.dg_problem(cargo, service.code, rules)
    if problem is None:
        problem = core.climate_problem(cargo)
    if problem is not None:
        _raise(problem, field)
    totals = core.totals(cargo, service.weight_per_cbm_kg)
    check_size(sum(f.volume_cbm for f in totals.lines), totals.chargeable_cbm, field)
    lines = []
    for index, (line, figures) in enumerate(zip(cargo, totals.lines)):
        dg = line.dangerous_goods
        lines.append(
            CargoLine(
                sequence=index + 1,
                description=line.description,
                hs_code=line.hs_code,
                packages=line.packages,
                package_type=line.package_type.value,
                length_cm=line.length_cm,
                width_cm=line.width_cm,
                height_cm=line.height_cm,
                weight_kg=line.weight_kg,
                stackable=line.stackable,
                vertical=[side.value for side in line.vertical] if line.vertical else None,
                un_number=dg.un_number if dg else None,
                dg_class=dg.dg_class if dg else None,
                packing_group=dg.packing_group.value if dg and dg.packing_group else None,
                dg_declaration=dg_declaration(dg),
                temperature_min_c=line.temperature_c.min_c if line.temperature_c else None,
                temperature_max_c=line.temperature_c.max_c if line.temperature_c else None,
                volume_cbm=figures.volume_cbm,
                chargeable_cbm=figures.chargeable_cbm,
            )
        )
    return totals, lines


def dg_declaration(dg: Any) -> dict[str, Any] | None:
    """What a line declares with its dangerous goods beyond the UN number and class, as stored."""
    if dg is None or not (dg.special_provisions or dg.battery_condition or dg.documents):
        return None
    return {
        "special_provisions": list(dg.special_provisions),
        "battery_condition": dg.battery_condition.value if dg.battery_condition else None,
        "documents": [{"kind": d.kind.value, "reference": d.reference} for d in dg.documents],
    }


def apply_figures(booking: Booking, totals: core.CargoTotals, lines: list[CargoLine]) -> None:
    """The cargo's lines and declared figures onto the booking (the chargeable volume held is the declared one)."""
    booking.lines = lines
    booking.pieces = totals.pieces
    booking.weight_kg = totals.weight_kg
    booking.volume_cbm = totals.volume_cbm
    booking.declared_chargeable_cbm = totals.chargeable_cbm
    booking.chargeable_cbm = totals.chargeable_cbm
    booking.dg_classes = totals.dg_classes
    booking.temperature_min_c = totals.temperature_min_c
    booking.temperature_max_c = totals.temperature_max_c
    booking.stackable = totals.stackable
    booking.footprint_m2 = totals.footprint_m2


def cargo_booking(totals: core.CargoTotals, lines: list[CargoLine]) -> Booking:
    """A transient booking that carries only the cargo (what space control packs), for an estimate; never written."""
    booking = Booking(version=1, created_at=utcnow())
    apply_figures(booking, totals, lines)
    return booking


def counted_figures(booking: Booking) -> tuple[float, float]:
    """Weight and volume that count: measured at the CFS when known, else declared."""
    weight = booking.measured_weight_kg if booking.measured_weight_kg is not None else booking.weight_kg
    volume = booking.measured_volume_cbm if booking.measured_volume_cbm is not None else booking.volume_cbm
    return weight, max(volume, 0.001)


def booking_figures(booking: Booking, chargeable: float) -> core.CargoFigures:
    """What the rate card prices: the chargeable volume, DG, reefer, the non-stackable footprint."""
    return core.CargoFigures(
        chargeable_cbm=chargeable,
        dangerous_goods=bool(booking.dg_classes),
        reefer=booking.temperature_min_c is not None,
        non_stackable_footprint_m2=booking.footprint_m2 or 0.0,
    )
