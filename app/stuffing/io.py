"""JSON documents <-> model objects, with strict validation.

``instance_from_dict`` and ``plan_from_dict`` never let malformed input
through and never raise anything but :class:`StuffingInputError`, whose
``field`` is the JSON path of the bad value (``pieces[3].length_cm``).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable

from .model import (
    EPS,
    SIDES,
    Container,
    Instance,
    Piece,
    Placement,
    Plan,
    StuffingInputError,
    Unplaced,
)

__all__ = [
    "MAX_COUNT",
    "MAX_PACKAGES",
    "MAX_PIECE_LINES",
    "build_plan",
    "instance_from_dict",
    "instance_to_dict",
    "plan_from_dict",
    "plan_to_dict",
]

# Bounds that keep one request's work finite (a 40HC of small cartons holds a few thousand).
MAX_PACKAGES = 5_000  # packages in one instance, all lines together
MAX_COUNT = MAX_PACKAGES  # packages in one piece line
MAX_PIECE_LINES = 1_000
MAX_DIMENSION_CM = 10_000.0  # no container is 100 m long
DEFAULT_SUPPORT_RATIO = 0.75


# --------------------------------------------------------------------------- helpers

def _num(v: Any, path: str, *, minimum: float | None = None, strict_min: bool = False,
         maximum: float | None = None) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise StuffingInputError(path, f"must be a number, got {type(v).__name__}")
    if not math.isfinite(v):
        raise StuffingInputError(path, "must be a finite number")
    if minimum is not None:
        if strict_min and not v > minimum:
            raise StuffingInputError(path, f"must be greater than {minimum:g}")
        if not strict_min and v < minimum:
            raise StuffingInputError(path, f"must be at least {minimum:g}")
    if maximum is not None and v > maximum:
        raise StuffingInputError(path, f"must be at most {maximum:g}")
    return float(v)


def _int(v: Any, path: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise StuffingInputError(path, f"must be an integer, got {type(v).__name__}")
    if minimum is not None and v < minimum:
        raise StuffingInputError(path, f"must be at least {minimum}")
    if maximum is not None and v > maximum:
        raise StuffingInputError(path, f"must be at most {maximum}")
    return v


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str) or not v:
        raise StuffingInputError(path, "must be a non-empty string")
    return v


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise StuffingInputError(path, "must be true or false")
    return v


def _list(v: Any, path: str) -> list:
    if not isinstance(v, list):
        raise StuffingInputError(path, "must be a list")
    return v


def _obj(v: Any, path: str) -> dict:
    if not isinstance(v, dict):
        raise StuffingInputError(path, "must be an object")
    return v


def _require(d: dict, keys: Iterable[str], path: str) -> None:
    for key in keys:
        if key not in d:
            raise StuffingInputError(f"{path}.{key}" if path else key, "is required")


def _dim(v: Any, path: str) -> float:
    return _num(v, path, minimum=0.0, strict_min=True, maximum=MAX_DIMENSION_CM)


def _round(x: float, digits: int = 6) -> float | int:
    r = round(x, digits)
    return int(r) if float(r).is_integer() else r


# --------------------------------------------------------------------------- instance

def _container(d: Any, path: str) -> Container:
    d = _obj(d, path)
    _require(d, ("code", "length_cm", "width_cm", "height_cm", "payload_kg"), path)
    return Container(
        code=_str(d["code"], f"{path}.code"),
        length_cm=_dim(d["length_cm"], f"{path}.length_cm"),
        width_cm=_dim(d["width_cm"], f"{path}.width_cm"),
        height_cm=_dim(d["height_cm"], f"{path}.height_cm"),
        payload_kg=_num(d["payload_kg"], f"{path}.payload_kg", minimum=0.0, strict_min=True),
    )


def _piece(d: Any, path: str, container: Container) -> Piece:
    d = _obj(d, path)
    _require(d, ("id", "count", "length_cm", "width_cm", "height_cm", "weight_kg"), path)
    vertical_raw = d.get("vertical")
    if vertical_raw is None:
        vertical: tuple[str, ...] = ("height",)
    else:
        items = _list(vertical_raw, f"{path}.vertical")
        if not items:
            raise StuffingInputError(f"{path}.vertical", "must name at least one side")
        seen: list[str] = []
        for j, side in enumerate(items):
            if side not in SIDES:
                raise StuffingInputError(f"{path}.vertical[{j}]", "must be one of 'length', 'width', 'height'")
            if side not in seen:
                seen.append(side)
        vertical = tuple(s for s in SIDES if s in seen)
    stackable = d.get("stackable")
    group = d.get("group")
    piece = Piece(
        id=_str(d["id"], f"{path}.id"),
        count=_int(d["count"], f"{path}.count", minimum=1, maximum=MAX_COUNT),
        length_cm=_dim(d["length_cm"], f"{path}.length_cm"),
        width_cm=_dim(d["width_cm"], f"{path}.width_cm"),
        height_cm=_dim(d["height_cm"], f"{path}.height_cm"),
        weight_kg=_num(d["weight_kg"], f"{path}.weight_kg", minimum=0.0),
        vertical=vertical,
        stackable=True if stackable is None else _bool(stackable, f"{path}.stackable"),
        group=None if group is None else _str(group, f"{path}.group"),
    )
    c = container
    if not any(a <= c.length_cm + EPS and b <= c.width_cm + EPS and h <= c.height_cm + EPS
               for a, b, h in piece.orientations()):
        raise StuffingInputError(
            path, f"a {piece.length_cm:g} x {piece.width_cm:g} x {piece.height_cm:g} cm package fits the "
            f"{c.code} ({c.length_cm:g} x {c.width_cm:g} x {c.height_cm:g} cm) in none of its allowed orientations")
    return piece


def instance_from_dict(d: Any) -> Instance:
    """Parse and validate a FORMAT.md instance document."""
    d = _obj(d, "body")
    _require(d, ("container", "pieces"), "")
    container = _container(d["container"], "container")
    ratio_raw = d.get("support_ratio")
    ratio = DEFAULT_SUPPORT_RATIO if ratio_raw is None else _num(ratio_raw, "support_ratio", minimum=0.0,
                                                                    strict_min=True, maximum=1.0)
    raw = _list(d["pieces"], "pieces")
    if len(raw) > MAX_PIECE_LINES:
        raise StuffingInputError("pieces", f"at most {MAX_PIECE_LINES} piece lines per instance")
    pieces: list[Piece] = []
    ids: set[str] = set()
    total = 0
    for i, item in enumerate(raw):
        piece = _piece(item, f"pieces[{i}]", container)
        if piece.id in ids:
            raise StuffingInputError(f"pieces[{i}].id", f"repeats the id {piece.id!r}")
        ids.add(piece.id)
        total += piece.count
        if total > MAX_PACKAGES:
            raise StuffingInputError(f"pieces[{i}].count", f"at most {MAX_PACKAGES} packages per instance in all")
        pieces.append(piece)
    return Instance(container=container, pieces=tuple(pieces), support_ratio=ratio)


def instance_to_dict(inst: Instance) -> dict:
    c = inst.container
    return {
        "container": {"code": c.code, "length_cm": _round(c.length_cm), "width_cm": _round(c.width_cm),
                      "height_cm": _round(c.height_cm), "payload_kg": _round(c.payload_kg)},
        "support_ratio": inst.support_ratio,
        "pieces": [
            {"id": p.id, "count": p.count, "length_cm": _round(p.length_cm), "width_cm": _round(p.width_cm),
             "height_cm": _round(p.height_cm), "weight_kg": _round(p.weight_kg), "vertical": list(p.vertical),
             "stackable": p.stackable, **({"group": p.group} if p.group is not None else {})}
            for p in inst.pieces
        ],
    }


# --------------------------------------------------------------------------- plan

def build_plan(inst: Instance, placements: Iterable[Placement]) -> Plan:
    """A plan with its figures (unplaced counts, utilisation, weight, centre of gravity) filled in."""
    placements = tuple(placements)
    weight_of = {p.id: p.weight_kg for p in inst.pieces}
    placed = Counter(pl.id for pl in placements)
    unplaced = tuple(Unplaced(p.id, p.count - placed[p.id]) for p in inst.pieces if p.count > placed[p.id])
    volume = sum(pl.volume for pl in placements)
    weight = sum(weight_of.get(pl.id, 0.0) for pl in placements)
    cog = None
    if placements:
        # Each package's weight at its centre; weightless packages count by volume.
        use_volume = weight <= 0
        mass = [pl.volume if use_volume else weight_of.get(pl.id, 0.0) for pl in placements]
        total = sum(mass)
        cog = tuple(
            sum(m * (lo + size / 2) for m, lo, size in zip(mass, los, sizes)) / total
            for los, sizes in (
                ([pl.x_cm for pl in placements], [pl.length_cm for pl in placements]),
                ([pl.y_cm for pl in placements], [pl.width_cm for pl in placements]),
                ([pl.z_cm for pl in placements], [pl.height_cm for pl in placements]),
            )
        )
    return Plan(
        placements=placements,
        unplaced=unplaced,
        volume_utilisation=volume / inst.container.volume,
        weight_kg=weight,
        centre_of_gravity_cm=cog,  # type: ignore[arg-type]
    )


def plan_to_dict(plan: Plan) -> dict:
    """A plan in exactly FORMAT.md's shape."""
    cog = plan.centre_of_gravity_cm
    return {
        "placements": [
            {"id": p.id, "x_cm": _round(p.x_cm), "y_cm": _round(p.y_cm), "z_cm": _round(p.z_cm),
             "length_cm": _round(p.length_cm), "width_cm": _round(p.width_cm), "height_cm": _round(p.height_cm),
             "step": p.step}
            for p in plan.placements
        ],
        "unplaced": [{"id": u.id, "count": u.count} for u in plan.unplaced],
        "volume_utilisation": round(plan.volume_utilisation, 4),
        "weight_kg": _round(plan.weight_kg, 3),
        "centre_of_gravity_cm": None if cog is None else
        {"x": round(cog[0], 1), "y": round(cog[1], 1), "z": round(cog[2], 1)},
    }


def plan_from_dict(d: Any) -> Plan:
    """Parse a FORMAT.md plan document (shape only; ``check_stuffing`` judges the rules)."""
    d = _obj(d, "body")
    _require(d, ("placements",), "")
    placements = []
    for i, item in enumerate(_list(d["placements"], "placements")):
        path = f"placements[{i}]"
        item = _obj(item, path)
        _require(item, ("id", "x_cm", "y_cm", "z_cm", "length_cm", "width_cm", "height_cm", "step"), path)
        placements.append(Placement(
            id=_str(item["id"], f"{path}.id"),
            x_cm=_num(item["x_cm"], f"{path}.x_cm"),
            y_cm=_num(item["y_cm"], f"{path}.y_cm"),
            z_cm=_num(item["z_cm"], f"{path}.z_cm"),
            length_cm=_num(item["length_cm"], f"{path}.length_cm", minimum=0.0, strict_min=True),
            width_cm=_num(item["width_cm"], f"{path}.width_cm", minimum=0.0, strict_min=True),
            height_cm=_num(item["height_cm"], f"{path}.height_cm", minimum=0.0, strict_min=True),
            step=_int(item["step"], f"{path}.step", minimum=1),
        ))
    unplaced = []
    for i, item in enumerate(_list(d.get("unplaced") or [], "unplaced")):
        path = f"unplaced[{i}]"
        item = _obj(item, path)
        _require(item, ("id", "count"), path)
        unplaced.append(Unplaced(_str(item["id"], f"{path}.id"), _int(item["count"], f"{path}.count", minimum=1)))
    cog_raw = d.get("centre_of_gravity_cm")
    cog = None
    if cog_raw is not None:
        cog_raw = _obj(cog_raw, "centre_of_gravity_cm")
        _require(cog_raw, ("x", "y", "z"), "centre_of_gravity_cm")
        cog = tuple(_num(cog_raw[k], f"centre_of_gravity_cm.{k}") for k in ("x", "y", "z"))
    util = d.get("volume_utilisation")
    weight = d.get("weight_kg")
    return Plan(
        placements=tuple(placements),
        unplaced=tuple(unplaced),
        volume_utilisation=0.0 if util is None else _num(util, "volume_utilisation", minimum=0.0),
        weight_kg=0.0 if weight is None else _num(weight, "weight_kg", minimum=0.0),
        centre_of_gravity_cm=cog,  # type: ignore[arg-type]
    )
