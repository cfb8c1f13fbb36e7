"""Small builders shared by the planner tests."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "tests" / "data" / "planner" / "samples"


def load_sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def ctype(code, payload, cbm, cost, reefer=False, height=2.4, **extra):
    d = {"code": code, "payload_kg": payload, "usable_cbm": cbm, "inner_height_m": height, "cost": cost, "reefer": reefer}
    d.update(extra)
    return d


def ship(sid, dest="DEDUI", w=100.0, v=1.0, dg=None, temp=None, stackable=True, footprint=None, **extra):
    d = {
        "id": sid, "destination": dest, "weight_kg": w, "volume_cbm": v, "dg_class": dg,
        "temp_range_c": list(temp) if temp else None, "stackable": stackable, "footprint_m2": footprint,
    }
    d.update(extra)
    return d


SMALL_TYPES = [
    ctype("20GP", 1000, 10.0, 100, height=2.4),
    ctype("40HC", 2000, 30.0, 150, height=2.7),
    ctype("40RH", 1500, 20.0, 300, reefer=True, height=2.5),
]
