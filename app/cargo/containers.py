"""Whether a package fits a container type, by weight and by size (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.cargo.figures import CargoProblem

# Inner length and width (cm) of ISO container sizes by the size code's first two characters.
INNER_FLOOR_CM = {"20": (589.0, 235.0), "22": (589.0, 235.0), "40": (1203.0, 235.0), "42": (1203.0, 235.0),
                  "45": (1203.0, 235.0), "L5": (1355.0, 235.0)}
DEFAULT_FLOOR_CM = (589.0, 235.0)

Misfit = CargoProblem  # PIECE_TOO_HEAVY or PIECE_TOO_LARGE, naming the line's field

# The share of a container's inner volume that the planner's volume rule (and so space control) fills
# at most: beyond it, mixed LCL cargo does not reliably stuff. bench/stuffing_margin.py packs realistic
# departures and stuffs every container: at this share (a 40HC's 62.6 of 76.3 m³) all of them stuffed;
# at a 40HC's usual 66 "usable" CBM 2 of 129 did not, at 10 % more one in six (README, Stuffing).
STUFFABLE_SHARE = 0.82


def stuffable_cbm(code: str, inner_height_m: float, usable_cbm: float) -> float:
    """The volume the planner may fill in a container type: its ``usable_cbm``, at most ``STUFFABLE_SHARE``
    of its inner volume (the floor from the ISO size code, the type's inner height)."""
    length_cm, width_cm = INNER_FLOOR_CM.get(code[:2], DEFAULT_FLOOR_CM)
    return min(usable_cbm, round(STUFFABLE_SHARE * length_cm * width_cm * inner_height_m / 10_000, 3))


@dataclass(frozen=True)
class ContainerFit:
    """What a package must fit: a container type's payload and inner size."""

    payload_kg: float
    length_cm: float
    width_cm: float
    height_cm: float
    reefer: bool


def container_fit(code: str, payload_kg: float, inner_height_m: float, reefer: bool) -> ContainerFit:
    """A container type's payload and inner size (the floor from the ISO size code's first two characters)."""
    return ContainerFit(payload_kg, *INNER_FLOOR_CM.get(code[:2], DEFAULT_FLOOR_CM), inner_height_m * 100, reefer)


def piece_misfit(cargo: list[Any], usable: list[ContainerFit], service_code: str,
                 type_codes: Iterable[str]) -> CargoProblem | None:
    """The first package too heavy or too large for every one of ``usable``; None when all fit.

    A package lies on either side but is never tipped over: its height stays its height."""
    for index, line in enumerate(cargo):
        piece_kg = line.weight_kg / line.packages
        heaviest = max(c.payload_kg for c in usable)
        if piece_kg > heaviest:
            return CargoProblem(
                "PIECE_TOO_HEAVY",
                f"a package of {piece_kg:g} kg exceeds the {heaviest:g} kg payload of service {service_code}'s containers",
                f"{index}.weight_kg",
            )
        long_side, short_side = max(line.length_cm, line.width_cm), min(line.length_cm, line.width_cm)
        if not any(
            line.height_cm <= c.height_cm and long_side <= c.length_cm and short_side <= c.width_cm for c in usable
        ):
            tallest = max(c.height_cm for c in usable)
            field_name = "height_cm" if line.height_cm > tallest else "length_cm"
            return CargoProblem(
                "PIECE_TOO_LARGE",
                f"a {line.length_cm:g}×{line.width_cm:g}×{line.height_cm:g} cm package fits none of service "
                f"{service_code}'s container types ({', '.join(type_codes)})",
                f"{index}.{field_name}",
            )
    return None
