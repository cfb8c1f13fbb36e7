"""A cargo line's figures and a booking's totals; the rules a cargo keeps (pure).

- A line's volume is its packages' dimensions; a non-stackable line *occupies* at
  least its footprint × :data:`NON_STACKABLE_HEIGHT_M` (nothing can stand on it).
- The chargeable volume is W/M: the larger of the occupied volume and the weight ÷
  the service's ratio (``weight_per_cbm_kg``), and at least 1 CBM per booking.
- One booking travels in one container climate, is at most
  :data:`MAX_BOOKING_CBM`, and takes only the dangerous-goods classes and reefer
  cargo its service carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# Height a non-stackable package blocks: nothing can stand on it (metres).
NON_STACKABLE_HEIGHT_M = 2.39
MINIMUM_CHARGEABLE_CBM = 1.0
# One booking is at most this much cargo, declared or measured: a whole train holds some
# 4,000 CBM. It also keeps every price within its column (14 digits) at the highest rates.
MAX_BOOKING_CBM = 100_000


class Line(Protocol):
    """What the rules read of a cargo line (a request's line or a stored one)."""

    packages: int
    length_cm: float
    width_cm: float
    height_cm: float
    weight_kg: float
    stackable: bool


@dataclass(frozen=True)
class CargoProblem:
    """A rule the cargo breaks: ``reason`` a code, ``path`` where in the cargo list (``"0.temperature_c"``;
    empty for the list as a whole, None when no field is to blame)."""

    reason: str
    detail: str
    path: str | None

    def field(self, prefix: str = "cargo") -> str | None:
        if self.path is None:
            return None
        return f"{prefix}.{self.path}" if self.path else prefix


@dataclass(frozen=True)
class LineFigures:
    volume_cbm: float
    occupied_cbm: float
    chargeable_cbm: float
    footprint_m2: float
    weight_cbm: float = 0.0  # the weight-volume: weight ÷ the W/M ratio


def line_figures(line: Line, weight_per_cbm_kg: float) -> LineFigures:
    """Volume from the package dimensions; a non-stackable line occupies footprint × 2.39 m."""
    volume = line.packages * line.length_cm * line.width_cm * line.height_cm / 1_000_000
    footprint = line.packages * line.length_cm * line.width_cm / 10_000
    occupied = volume if line.stackable else max(volume, footprint * NON_STACKABLE_HEIGHT_M)
    weight_cbm = line.weight_kg / weight_per_cbm_kg
    return LineFigures(
        volume_cbm=round(volume, 3),
        occupied_cbm=occupied,
        chargeable_cbm=round(max(occupied, weight_cbm), 3),
        footprint_m2=0.0 if line.stackable else footprint,
        weight_cbm=weight_cbm,
    )


def chargeable_cbm(occupied_cbm: float, weight_kg: float, weight_per_cbm_kg: float) -> float:
    """W/M: the larger of volume and weight ÷ ratio, and at least 1 CBM per booking."""
    return round(max(occupied_cbm, weight_kg / weight_per_cbm_kg, MINIMUM_CHARGEABLE_CBM), 3)


# Which figure a chargeable volume is: the cargo's own volume, the volume a non-stackable
# line blocks (footprint × NON_STACKABLE_HEIGHT_M), its weight-volume, or the booking minimum.
VOLUME, OCCUPIED_VOLUME, WEIGHT, MINIMUM = "VOLUME", "OCCUPIED_VOLUME", "WEIGHT", "MINIMUM"


def _basis(volume: float, occupied: float, weight_cbm: float) -> str:
    if weight_cbm > occupied:
        return WEIGHT
    return OCCUPIED_VOLUME if occupied > volume + 1e-9 else VOLUME


@dataclass(frozen=True)
class LineChargeable:
    """How one line's chargeable volume was reached: its figures and which one counted (``basis``)."""

    line: int
    volume_cbm: float
    stackable: bool
    footprint_m2: float | None
    occupied_cbm: float
    weight_kg: float
    weight_cbm: float
    chargeable_cbm: float
    basis: str


@dataclass(frozen=True)
class ChargeableExplained:
    """How a booking's chargeable volume (W/M) was reached from its lines, under one ratio.

    The booking is charged the larger of its lines' occupied volume and their weight-volume
    (total weight ÷ ``weight_per_cbm_kg``), and at least ``minimum_cbm``: not the sum of the
    lines' own chargeable volumes, which are shown line by line."""

    weight_per_cbm_kg: float
    non_stackable_height_m: float
    minimum_cbm: float
    volume_cbm: float
    occupied_cbm: float
    weight_kg: float
    weight_cbm: float
    chargeable_cbm: float
    basis: str
    lines: list[LineChargeable]

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "lines": [line.__dict__ for line in self.lines]}


def explain_chargeable(cargo: list[Any], weight_per_cbm_kg: float) -> ChargeableExplained:
    """The chargeable volume of ``cargo`` (request lines or stored ones) with how it was reached, by the
    rules above (``line_figures``, ``chargeable_cbm``)."""
    figures = [line_figures(line, weight_per_cbm_kg) for line in cargo]
    lines = [
        LineChargeable(
            line=index,
            volume_cbm=f.volume_cbm,
            stackable=line.stackable,
            footprint_m2=None if line.stackable else round(f.footprint_m2, 3),
            occupied_cbm=round(f.occupied_cbm, 3),
            weight_kg=line.weight_kg,
            weight_cbm=round(f.weight_cbm, 3),
            chargeable_cbm=f.chargeable_cbm,
            basis=_basis(f.volume_cbm, f.occupied_cbm, f.weight_cbm),
        )
        for index, (line, f) in enumerate(zip(cargo, figures))
    ]
    volume = sum(f.volume_cbm for f in figures)
    occupied = sum(f.occupied_cbm for f in figures)
    weight = sum(line.weight_kg for line in cargo)
    chargeable = chargeable_cbm(occupied, weight, weight_per_cbm_kg)
    weight_cbm = weight / weight_per_cbm_kg
    basis = MINIMUM if max(occupied, weight_cbm) < MINIMUM_CHARGEABLE_CBM else _basis(volume, occupied, weight_cbm)
    return ChargeableExplained(
        weight_per_cbm_kg=weight_per_cbm_kg,
        non_stackable_height_m=NON_STACKABLE_HEIGHT_M,
        minimum_cbm=MINIMUM_CHARGEABLE_CBM,
        volume_cbm=round(volume, 3),
        occupied_cbm=round(occupied, 3),
        weight_kg=round(weight, 3),
        weight_cbm=round(weight_cbm, 3),
        chargeable_cbm=chargeable,
        basis=basis,
        lines=lines,
    )


def occupied_uplift_cbm(lines: list[Any]) -> float:
    """Extra volume non-stackable lines block beyond their own volume (stored lines: ``volume_cbm`` each)."""
    uplift = 0.0
    for line in lines:
        if not line.stackable:
            footprint = line.packages * line.length_cm * line.width_cm / 10_000
            uplift += max(footprint * NON_STACKABLE_HEIGHT_M - line.volume_cbm, 0.0)
    return uplift


def planner_footprint_m2(footprint_m2: float | None, lines: list[Any], volume_cbm: float,
                         min_inner_height_m: float) -> float | None:
    """The footprint the planner is given for a booking, or None when all its cargo stacks.

    The planner knows one footprint per shipment and takes ``max(volume,
    footprint × inner height)``. A booking blocks its floor up to the roof with
    its non-stackable lines (``footprint_m2``) and with its tall upright packages
    (``tall_footprint_m2``: no second one stands on them in the lowest type, so
    the floor they take is theirs alone, which volume alone does not see: eleven
    1.6 m pallets of 110 × 110 cm take half a 40' floor at a third of its
    volume). Its other cargo is added as the footprint it would take at the
    lowest type's height, which is never less than its volume.
    """
    tall = tall_footprint_m2(lines, min_inner_height_m)
    if not footprint_m2 and not tall:
        return None
    blocked = sum(line.volume_cbm for line in lines if not line.stackable or _tall(line, min_inner_height_m))
    rest = max(volume_cbm - blocked, 0.0)
    return (footprint_m2 or 0.0) + tall + rest / min_inner_height_m


def _tall(line: Any, min_inner_height_m: float) -> bool:
    """A stackable line of packages that stand only upright and are over half the lowest type's height."""
    return (line.stackable and line.height_cm > min_inner_height_m * 50
            and vertical_sides(line.package_type, line.vertical) == ["height"])


def tall_footprint_m2(lines: list[Any], min_inner_height_m: float) -> float:
    """The floor taken by tall upright packages (``_tall``): one package per column."""
    return sum(line.packages * line.length_cm * line.width_cm / 10_000 for line in lines
               if _tall(line, min_inner_height_m))


# Which of a package's own sides may stand upright (FORMAT.md ``vertical``), when the line does not say:
# pallets, crates, cases and drums travel as they stand; cartons, bags, bales, rolls, coils and loose
# pieces may be laid on any side.
UPRIGHT_ONLY = ("PALLET", "CRATE", "CASE", "DRUM")
ALL_SIDES = ("length", "width", "height")


def vertical_sides(package_type: str, declared: list[str] | None) -> list[str]:
    """The sides that may stand upright: as declared, else by package type (``UPRIGHT_ONLY``: height)."""
    if declared:
        return [side for side in ALL_SIDES if side in declared]
    return ["height"] if package_type in UPRIGHT_ONLY else list(ALL_SIDES)


SP_NOT_DG = 188  # special provision 188: small lithium cells in consumer goods are not dangerous goods


def line_is_dg(line: Any) -> bool:
    """Whether a cargo line counts as dangerous goods: it declares them, and not under special provision 188."""
    dg = getattr(line, "dangerous_goods", None)
    return dg is not None and SP_NOT_DG not in (getattr(dg, "special_provisions", None) or ())


def dg_class_forbidden(dg_class: str, forbidden: list[str] | tuple[str, ...]) -> bool:
    """True when ``dg_class`` is forbidden itself or by its main class (``1.4`` by ``1``)."""
    main = dg_class.split(".")[0]
    return dg_class in forbidden or main in forbidden


def service_problem(cargo: list[Any], service_code: str, forbidden_dg_classes: list[str] | tuple[str, ...],
                    reefer_allowed: bool) -> CargoProblem | None:
    """The first line a service will not carry: a forbidden DG class, or temperature control it does not offer."""
    for index, line in enumerate(cargo):
        dg = line.dangerous_goods
        if line_is_dg(line) and dg_class_forbidden(dg.dg_class, forbidden_dg_classes):
            return CargoProblem("DG_CLASS_FORBIDDEN",
                                f"service {service_code} does not carry dangerous goods of class {dg.dg_class}",
                                f"{index}.dangerous_goods.class")
        if line.temperature_c and not reefer_allowed:
            return CargoProblem("REEFER_NOT_OFFERED", f"service {service_code} takes no temperature-controlled cargo",
                                f"{index}.temperature_c")
    return None


def climate_problem(cargo: list[Any]) -> CargoProblem | None:
    """One booking travels in one container climate: every line a temperature range with a common set point, or none."""
    ranges = [line.temperature_c for line in cargo if line.temperature_c]
    if not ranges:
        return None
    if len(ranges) != len(cargo):
        missing = next(i for i, line in enumerate(cargo) if not line.temperature_c)
        return CargoProblem("CLIMATE", "one booking travels in one container climate: give every line a "
                                       "temperature range, or none", f"{missing}.temperature_c")
    if max(r.min_c for r in ranges) > min(r.max_c for r in ranges):
        return CargoProblem("CLIMATE", "the lines' temperature ranges have no common set point", "")
    return None


def size_problem(volume_cbm: float, chargeable: float) -> str | None:
    """Why the cargo is more than one booking takes, or None."""
    for what, cbm in (("volume", volume_cbm), ("chargeable volume (W/M)", chargeable)):
        if cbm > MAX_BOOKING_CBM:
            return f"the cargo's {what} of {cbm:,.0f} CBM is more than one booking takes ({MAX_BOOKING_CBM:,} CBM)"
    return None


@dataclass(frozen=True)
class CargoTotals:
    """A booking's cargo in figures, under one service's W/M ratio."""

    pieces: int
    weight_kg: float
    volume_cbm: float
    occupied_cbm: float
    chargeable_cbm: float
    dg_classes: list[str]
    temperature_min_c: float | None
    temperature_max_c: float | None
    stackable: bool
    footprint_m2: float | None
    lines: list[LineFigures]


def totals(cargo: list[Any], weight_per_cbm_kg: float) -> CargoTotals:
    """The booking's figures from its lines (check ``climate_problem`` first: temperatures are intersected)."""
    figures = [line_figures(line, weight_per_cbm_kg) for line in cargo]
    occupied = sum(f.occupied_cbm for f in figures)
    footprint = sum(f.footprint_m2 for f in figures)
    weight = sum(line.weight_kg for line in cargo)
    ranges = [line.temperature_c for line in cargo if line.temperature_c]
    return CargoTotals(
        pieces=sum(line.packages for line in cargo),
        weight_kg=round(weight, 3),
        volume_cbm=round(sum(f.volume_cbm for f in figures), 3),
        occupied_cbm=occupied,
        chargeable_cbm=chargeable_cbm(occupied, weight, weight_per_cbm_kg),
        dg_classes=sorted({line.dangerous_goods.dg_class for line in cargo if line_is_dg(line)}),
        temperature_min_c=max(r.min_c for r in ranges) if ranges else None,
        temperature_max_c=min(r.max_c for r in ranges) if ranges else None,
        stackable=footprint == 0.0,
        footprint_m2=round(footprint, 3) if footprint else None,
        lines=figures,
    )
