"""The factor table: emission intensities as data, loaded from ``factors.csv`` beside this module.

Each factor names its source, table, row and year, so a reader can check it against the
published table. A row whose TTW or WTT figure is empty is listed (the gap shows) but never
used: a leg of that mode has no default factor, and only an operator's own figure (per
service or hub) gives it one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FACTORS_FILE = Path(__file__).with_name("factors.csv")
FACTOR_TABLE_VERSION = "2026-12-07.2"
MODES = ("RAIL", "ROAD", "AIR", "WATER")


@dataclass(frozen=True, slots=True)
class Intensity:
    """g CO2e per tonne-km (transport) or kg CO2e per tonne handled (hub), tank-to-wheel and well-to-tank.

    ``id`` names where it comes from: a factor-table id, or ``service:CODE`` / ``hub:CODE`` for an
    operator's own figure."""

    id: str
    ttw: float
    wtt: float
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("ttw", "wtt"):
            value = getattr(self, name)
            if not (0 <= value < 1e6):
                raise ValueError(f"intensity {self.id}: {name} must be in [0, 1e6), got {value!r}")

    @property
    def wtw(self) -> float:
        return self.ttw + self.wtt


@dataclass(frozen=True, slots=True)
class Factor:
    """One row of the factor table; ``intensity`` is None while a figure is missing."""

    id: str
    mode: str
    vehicle: str
    ttw_g_per_tkm: float | None
    wtt_g_per_tkm: float | None
    source: str
    table: str
    row: str
    year: int
    licence: str

    @property
    def intensity(self) -> Intensity | None:
        if self.ttw_g_per_tkm is None or self.wtt_g_per_tkm is None:
            return None
        return Intensity(self.id, self.ttw_g_per_tkm, self.wtt_g_per_tkm, f"{self.source} {self.year}, {self.row}")

    def as_json(self) -> dict:
        return {
            "id": self.id, "mode": self.mode, "vehicle": self.vehicle, "ttw_g_per_tkm": self.ttw_g_per_tkm,
            "wtt_g_per_tkm": self.wtt_g_per_tkm, "source": self.source, "table": self.table, "row": self.row,
            "year": self.year, "licence": self.licence, "usable": self.intensity is not None,
        }


def _figure(text: str, what: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if not (0 <= value < 1e6):
        raise ValueError(f"{what}: {value} is out of range")
    return value


def parse_factors(lines) -> dict[str, Factor]:
    """Factor rows by id from CSV lines (``#`` lines are comments); a bad row raises ValueError."""
    rows = csv.DictReader(line for line in lines if line.strip() and not line.lstrip().startswith("#"))
    factors: dict[str, Factor] = {}
    for row in rows:
        fid = row["id"].strip()
        if fid in factors:
            raise ValueError(f"factor {fid} appears twice")
        mode = row["mode"].strip()
        if mode not in MODES:
            raise ValueError(f"factor {fid}: unknown mode {mode}")
        factors[fid] = Factor(
            id=fid, mode=mode, vehicle=row["vehicle"].strip(),
            ttw_g_per_tkm=_figure(row["ttw_g_per_tkm"], f"{fid} ttw"),
            wtt_g_per_tkm=_figure(row["wtt_g_per_tkm"], f"{fid} wtt"),
            source=row["source"].strip(), table=row["table"].strip(), row=row["row"].strip(),
            year=int(row["year"]), licence=row["licence"].strip(),
        )
    return factors


class FactorTable:
    """The factors by id, and the default factor of each mode (the first usable row of that mode)."""

    def __init__(self, factors: dict[str, Factor], version: str = FACTOR_TABLE_VERSION):
        self.factors = factors
        self.version = version
        self._default: dict[str, Intensity] = {}
        for factor in factors.values():
            if factor.intensity is not None and factor.mode not in self._default:
                self._default[factor.mode] = factor.intensity

    @classmethod
    def load(cls, path: Path = FACTORS_FILE) -> FactorTable:
        with path.open(encoding="utf-8") as handle:
            return cls(parse_factors(handle))

    def default_for(self, mode: str) -> Intensity | None:
        return self._default.get(mode)


_TABLE: FactorTable | None = None


def factor_table() -> FactorTable:
    """The shipped factor table, read once per process."""
    global _TABLE
    if _TABLE is None:
        _TABLE = FactorTable.load()
    return _TABLE
