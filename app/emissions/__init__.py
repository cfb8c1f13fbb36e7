"""Emissions by ISO 14083 (pure): per leg, per hub call and per shipment, WTW and TTW, in kg CO2e.

- ``factors``: the versioned factor table (``factors.csv``: mode, vehicle, TTW and WTT, source,
  table, row, year, licence) and the intensities a leg uses.
- ``distance``: a leg's distance, set by the operator or estimated from hub coordinates.
- ``core``: legs and hub calls in, a footprint out, with its inputs echoed.
- ``front``: the Pareto front of options over several criteria (price, arrival, CO2e).
"""

from app.emissions.core import Co2e, Footprint, HubCallIn, LegIn, footprint, hub_co2e, leg_co2e
from app.emissions.distance import AIR_ADDED_KM, DETOUR_FACTOR, great_circle_km, leg_distance
from app.emissions.factors import FACTOR_TABLE_VERSION, Factor, FactorTable, Intensity, factor_table
from app.emissions.front import dominates, front

__all__ = [
    "AIR_ADDED_KM", "DETOUR_FACTOR", "FACTOR_TABLE_VERSION", "Co2e", "Factor", "FactorTable", "Footprint", "HubCallIn",
    "Intensity", "LegIn", "dominates", "factor_table", "footprint", "front", "great_circle_km", "hub_co2e",
    "leg_co2e", "leg_distance",
]
