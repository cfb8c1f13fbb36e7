"""The cargo core: what one booking's cargo is, in figures, and what it costs (pure).

Plain functions and dataclasses, no database and no web: bookings, quotes, space
control and the planner's instance builder all take their cargo rules from here,
so each rule is written once.

- ``figures``: a line's volume, the occupied volume of a non-stackable line (its
  footprint up to :data:`NON_STACKABLE_HEIGHT_M`), the W/M chargeable volume, a
  booking's totals, how a chargeable volume was reached (``explain_chargeable``), and
  the rules a cargo keeps on its own (one climate, a bounded size) or on a service
  (dangerous-goods classes, reefer).
- ``containers``: whether a package fits a container type, by weight and by size.
- ``pricing``: a rate's terms and a chargeable volume in, a price breakdown out.

Cargo lines are read by attribute (``packages``, ``length_cm``, ``width_cm``,
``height_cm``, ``weight_kg``, ``stackable``…), so a request's lines and stored
rows both pass as they are (:class:`figures.Line`).
"""

from app.cargo.containers import (
    INNER_FLOOR_CM,
    STUFFABLE_SHARE,
    ContainerFit,
    Misfit,
    container_fit,
    piece_misfit,
    stuffable_cbm,
)
from app.cargo.figures import (
    MAX_BOOKING_CBM,
    MINIMUM_CHARGEABLE_CBM,
    NON_STACKABLE_HEIGHT_M,
    SP_NOT_DG,
    CargoProblem,
    CargoTotals,
    ChargeableExplained,
    LineChargeable,
    LineFigures,
    chargeable_cbm,
    climate_problem,
    dg_class_forbidden,
    explain_chargeable,
    line_figures,
    line_is_dg,
    occupied_uplift_cbm,
    planner_footprint_m2,
    service_problem,
    size_problem,
    totals,
    vertical_sides,
)
from app.cargo.rail import RailRules, WagonType, dg_problem, is_20, weight_problem
from app.cargo.pricing import (
    END_LINES,
    END_TERMS,
    CargoFigures,
    Ends,
    PriceBreakdown,
    RateTerms,
    price,
    price_on_rate,
)

__all__ = [
    "INNER_FLOOR_CM", "STUFFABLE_SHARE", "MAX_BOOKING_CBM", "MINIMUM_CHARGEABLE_CBM", "NON_STACKABLE_HEIGHT_M",
    "END_LINES", "END_TERMS", "CargoFigures", "CargoProblem", "CargoTotals", "ChargeableExplained", "ContainerFit",
    "Ends", "LineChargeable", "LineFigures", "Misfit", "PriceBreakdown", "RateTerms", "chargeable_cbm",
    "climate_problem", "container_fit", "dg_class_forbidden", "explain_chargeable", "line_figures",
    "occupied_uplift_cbm", "piece_misfit", "planner_footprint_m2", "price", "price_on_rate", "service_problem",
    "size_problem", "stuffable_cbm", "totals", "vertical_sides", "line_is_dg", "RailRules", "WagonType", "dg_problem",
    "is_20", "weight_problem", "SP_NOT_DG",
]
