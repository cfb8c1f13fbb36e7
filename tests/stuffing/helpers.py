"""Small builders shared by the stuffing tests."""

from __future__ import annotations

import json
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "stuffing"


def load_sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def container(length=100, width=100, height=100, payload=10_000, code="TEST") -> dict:
    return {"code": code, "length_cm": length, "width_cm": width, "height_cm": height, "payload_kg": payload}


def piece(pid="A", count=1, l=10, w=10, h=10, kg=1.0, vertical=("height",), stackable=True, group=None) -> dict:
    d = {"id": pid, "count": count, "length_cm": l, "width_cm": w, "height_cm": h, "weight_kg": kg,
         "vertical": list(vertical), "stackable": stackable}
    if group is not None:
        d["group"] = group
    return d


def instance(pieces, support_ratio=0.75, **box) -> dict:
    return {"container": container(**box), "support_ratio": support_ratio, "pieces": list(pieces)}


def place(pid, x, y, z, l, w, h, step) -> dict:
    return {"id": pid, "x_cm": x, "y_cm": y, "z_cm": z, "length_cm": l, "width_cm": w, "height_cm": h, "step": step}


def plan(placements, unplaced=()) -> dict:
    return {"placements": list(placements), "unplaced": [{"id": i, "count": n} for i, n in unplaced]}
