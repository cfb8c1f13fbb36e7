"""A shipment's CO2e by ISO 14083: legs and hub calls in, per element and total kg out (pure).

A leg's emissions are its transport activity (mass in tonnes × distance in km, t·km) times the
intensity of its mode or service (g CO2e per t·km), tank-to-wheel (TTW) and well-to-tank (WTT)
apart, well-to-wheel = TTW + WTT. A hub call's emissions are the tonnes handled times the hub's
intensity (kg CO2e per tonne). An LCL shipment's share of a vehicle's emissions is by its mass
(mass-based allocation): its own tonnes times the per-tonne-km intensity.

Every figure is echoed (mass, distance and how it was found, the factor's id and figures), so a
reader can redo each sum; kg are rounded to the gram, and totals are the sums of the rounded parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.emissions.factors import Intensity

KG_DIGITS = 3


def _kg(value: float) -> float:
    return round(value, KG_DIGITS)


@dataclass(frozen=True, slots=True)
class LegIn:
    mode: str
    mass_t: float
    distance_km: float | None
    intensity: Intensity | None
    distance_basis: str = "OPERATOR"
    echo: dict[str, Any] = field(default_factory=dict)  # from_hub, to_hub, service… carried to the output

    def __post_init__(self) -> None:
        if not (0 <= self.mass_t <= 1e6):
            raise ValueError(f"mass_t must be in [0, 1e6], got {self.mass_t!r}")
        if self.distance_km is not None and not (0 <= self.distance_km <= 1_000_000):
            raise ValueError(f"distance_km must be in [0, 1e6], got {self.distance_km!r}")


@dataclass(frozen=True, slots=True)
class HubCallIn:
    hub: str
    mass_t: float
    intensity: Intensity | None  # kg CO2e per tonne handled

    def __post_init__(self) -> None:
        if not (0 <= self.mass_t <= 1e6):
            raise ValueError(f"mass_t must be in [0, 1e6], got {self.mass_t!r}")


@dataclass(frozen=True, slots=True)
class Co2e:
    ttw_kg: float
    wtt_kg: float
    wtw_kg: float

    def as_json(self) -> dict:
        return {"ttw_kg": self.ttw_kg, "wtt_kg": self.wtt_kg, "wtw_kg": self.wtw_kg}


def _co2e(ttw: float, wtt: float) -> Co2e:
    ttw_kg, wtt_kg = _kg(ttw), _kg(wtt)
    return Co2e(ttw_kg, wtt_kg, _kg(ttw_kg + wtt_kg))


def _factor_json(intensity: Intensity | None, unit: str) -> dict | None:
    if intensity is None:
        return None
    return {"id": intensity.id, f"ttw_{unit}": intensity.ttw, f"wtt_{unit}": intensity.wtt,
            f"wtw_{unit}": round(intensity.wtw, 6), "source": intensity.source}


@dataclass(frozen=True, slots=True)
class LegOut:
    leg: LegIn
    tkm: float | None
    co2e: Co2e | None
    status: str  # OK, NO_DISTANCE, NO_FACTOR

    def as_json(self) -> dict:
        return {
            **self.leg.echo,
            "mode": self.leg.mode,
            "mass_t": self.leg.mass_t,
            "distance_km": None if self.leg.distance_km is None else round(self.leg.distance_km, 1),
            "distance_basis": self.leg.distance_basis,
            "tkm": self.tkm,
            "factor": _factor_json(self.leg.intensity, "g_per_tkm"),
            "co2e": None if self.co2e is None else self.co2e.as_json(),
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class HubOut:
    call: HubCallIn
    co2e: Co2e | None
    status: str  # OK, NO_FACTOR

    def as_json(self) -> dict:
        return {
            "hub": self.call.hub,
            "mass_t": self.call.mass_t,
            "factor": _factor_json(self.call.intensity, "kg_per_t"),
            "co2e": None if self.co2e is None else self.co2e.as_json(),
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Footprint:
    legs: tuple[LegOut, ...]
    hubs: tuple[HubOut, ...]
    total: Co2e
    complete: bool  # every leg had a distance and a factor

    def by_mode(self) -> dict[str, Co2e]:
        sums: dict[str, list[float]] = {}
        for leg in self.legs:
            if leg.co2e is not None:
                acc = sums.setdefault(leg.leg.mode, [0.0, 0.0])
                acc[0] += leg.co2e.ttw_kg
                acc[1] += leg.co2e.wtt_kg
        return {mode: _co2e(ttw, wtt) for mode, (ttw, wtt) in sorted(sums.items())}

    def as_json(self) -> dict:
        return {
            "allocation": "MASS",
            "complete": self.complete,
            **self.total.as_json(),
            "legs": [leg.as_json() for leg in self.legs],
            "hubs": [hub.as_json() for hub in self.hubs],
        }


def leg_co2e(leg: LegIn) -> LegOut:
    """One leg: t·km × g/t·km ÷ 1000 = kg."""
    if leg.distance_km is None:
        return LegOut(leg, None, None, "NO_DISTANCE")
    tkm = leg.mass_t * leg.distance_km
    if leg.intensity is None:
        return LegOut(leg, round(tkm, 3), None, "NO_FACTOR")
    return LegOut(leg, round(tkm, 3), _co2e(tkm * leg.intensity.ttw / 1000, tkm * leg.intensity.wtt / 1000), "OK")


def hub_co2e(call: HubCallIn) -> HubOut:
    """One hub call: tonnes handled × kg/t."""
    if call.intensity is None:
        return HubOut(call, None, "NO_FACTOR")
    return HubOut(call, _co2e(call.mass_t * call.intensity.ttw, call.mass_t * call.intensity.wtt), "OK")


def footprint(legs: list[LegIn], hubs: list[HubCallIn] = ()) -> Footprint:  # type: ignore[assignment]
    """Every leg and hub call, and the totals of what could be computed."""
    leg_out = tuple(leg_co2e(leg) for leg in legs)
    hub_out = tuple(hub_co2e(call) for call in hubs)
    parts = [p.co2e for p in (*leg_out, *hub_out) if p.co2e is not None]
    total = _co2e(sum(p.ttw_kg for p in parts), sum(p.wtt_kg for p in parts))
    return Footprint(leg_out, hub_out, total, all(leg.status == "OK" for leg in leg_out))
