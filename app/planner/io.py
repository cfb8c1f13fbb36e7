"""JSON documents <-> model objects, with strict validation.

``instance_from_dict`` never lets malformed input through and never raises
anything but :class:`PlannerInputError`, whose ``field`` is the JSON path of
the bad value (``shipments[3].weight_kg``).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Sequence

from .model import (
    EPS,
    Container,
    ContainerType,
    Instance,
    Plan,
    PlannerInputError,
    Shipment,
    Unassigned,
)
from .rules import dg_conflict_in, temp_intersection, teu_from_code, type_allows

__all__ = [
    "instance_from_dict",
    "instance_to_dict",
    "plan_to_dict",
    "plan_from_dict",
    "validate_locked",
]


# --------------------------------------------------------------------------- helpers

def _num(v: Any, path: str, *, minimum: float | None = None, strict_min: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise PlannerInputError(path, f"must be a number, got {type(v).__name__}")
    if not math.isfinite(v):
        raise PlannerInputError(path, "must be a finite number")
    if minimum is not None:
        if strict_min and not v > minimum:
            raise PlannerInputError(path, f"must be greater than {minimum:g}")
        if not strict_min and v < minimum:
            raise PlannerInputError(path, f"must be at least {minimum:g}")
    return v


def _int(v: Any, path: str, *, minimum: int | None = None) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise PlannerInputError(path, f"must be an integer, got {type(v).__name__}")
    if minimum is not None and v < minimum:
        raise PlannerInputError(path, f"must be at least {minimum}")
    return v


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str) or not v:
        raise PlannerInputError(path, "must be a non-empty string")
    return v


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise PlannerInputError(path, "must be true or false")
    return v


def _list(v: Any, path: str) -> list:
    if not isinstance(v, list):
        raise PlannerInputError(path, "must be a list")
    return v


def _obj(v: Any, path: str) -> dict:
    if not isinstance(v, dict):
        raise PlannerInputError(path, "must be an object")
    return v


def _datetime(v: Any, path: str) -> datetime:
    if not isinstance(v, str):
        raise PlannerInputError(path, "must be an ISO 8601 date-time string")
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        raise PlannerInputError(path, "must be an ISO 8601 date-time string") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt


def _cost_number(x: float) -> float | int:
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


# --------------------------------------------------------------------------- instance

def _container_type(d: Any, path: str) -> ContainerType:
    d = _obj(d, path)
    for key in ("code", "payload_kg", "usable_cbm", "cost", "reefer"):
        if key not in d:
            raise PlannerInputError(f"{path}.{key}", "is required")
    code = _str(d["code"], f"{path}.code")
    if "teu" in d and d["teu"] is not None:
        teu = _int(d["teu"], f"{path}.teu", minimum=1)
    else:
        derived = teu_from_code(code)
        if derived is None:
            raise PlannerInputError(
                f"{path}.code",
                "TEU cannot be derived from the code (its first two digits must be 20, 40 or 45); "
                "give the type a 'teu' field",
            )
        teu = derived
    inner = d.get("inner_height_m")
    inner_h = 0.0 if inner is None else _num(inner, f"{path}.inner_height_m", minimum=0.0)
    return ContainerType(
        code=code,
        payload_kg=_num(d["payload_kg"], f"{path}.payload_kg", minimum=0.0, strict_min=True),
        usable_cbm=_num(d["usable_cbm"], f"{path}.usable_cbm", minimum=0.0, strict_min=True),
        inner_height_m=inner_h,
        cost=_num(d["cost"], f"{path}.cost", minimum=0.0),
        reefer=_bool(d["reefer"], f"{path}.reefer"),
        teu=teu,
    )


def _shipment(d: Any, path: str) -> Shipment:
    d = _obj(d, path)
    for key in ("id", "destination", "weight_kg", "volume_cbm"):
        if key not in d:
            raise PlannerInputError(f"{path}.{key}", "is required")
    sid = _str(d["id"], f"{path}.id")
    dest = _str(d["destination"], f"{path}.destination")
    weight = _num(d["weight_kg"], f"{path}.weight_kg", minimum=0.0)
    volume = _num(d["volume_cbm"], f"{path}.volume_cbm", minimum=0.0)
    dg = d.get("dg_class")
    if dg is not None:
        dg = _str(dg, f"{path}.dg_class")
    tr = d.get("temp_range_c")
    temp: tuple[float, float] | None = None
    if tr is not None:
        tr = _list(tr, f"{path}.temp_range_c")
        if len(tr) != 2:
            raise PlannerInputError(f"{path}.temp_range_c", "must be [min, max]")
        lo = _num(tr[0], f"{path}.temp_range_c[0]")
        hi = _num(tr[1], f"{path}.temp_range_c[1]")
        if lo > hi:
            raise PlannerInputError(f"{path}.temp_range_c", "min must not exceed max")
        temp = (lo, hi)
    stackable = d.get("stackable", True)
    stackable = True if stackable is None else _bool(stackable, f"{path}.stackable")
    fp = d.get("footprint_m2")
    footprint = None if fp is None else _num(fp, f"{path}.footprint_m2", minimum=0.0)
    pr = d.get("priority")
    priority = 0 if pr is None else _int(pr, f"{path}.priority")
    ba = d.get("booked_at")
    booked = None if ba is None else _datetime(ba, f"{path}.booked_at")
    return Shipment(
        id=sid,
        destination=dest,
        weight_kg=weight,
        volume_cbm=volume,
        dg_class=dg,
        temp_range_c=temp,
        stackable=stackable,
        footprint_m2=footprint,
        priority=priority,
        booked_at=booked,
    )


def validate_locked(inst: Instance, locked: Sequence[Any], field: str = "locked_containers") -> tuple[Container, ...]:
    """Check locked containers against ``inst``; return them with their loads filled in.

    Accepts Container objects or plain dicts ``{"type", "destination", "shipments"}``.
    Raises PlannerInputError naming ``field[i]...`` when a locked container
    names an unknown type or shipment, repeats a shipment, or breaks a rule.
    """
    if not isinstance(locked, (list, tuple)):
        raise PlannerInputError(field, "must be a list")
    seen: dict[str, int] = {}
    out: list[Container] = []
    for i, c in enumerate(locked):
        path = f"{field}[{i}]"
        if isinstance(c, Container):
            code, dest, sids = c.type, c.destination, c.shipments
        else:
            c = _obj(c, path)
            for key in ("type", "destination", "shipments"):
                if key not in c:
                    raise PlannerInputError(f"{path}.{key}", "is required")
            code, dest, sids = c["type"], c["destination"], c["shipments"]
        code = _str(code, f"{path}.type")
        dest = _str(dest, f"{path}.destination")
        if not inst.has_type(code):
            raise PlannerInputError(f"{path}.type", f"unknown container type {code!r}")
        ctype = inst.type_by_code(code)
        if not isinstance(sids, (list, tuple)) or not sids:
            raise PlannerInputError(f"{path}.shipments", "must be a non-empty list of shipment ids")
        ships: list[Shipment] = []
        for j, sid in enumerate(sids):
            sp = f"{path}.shipments[{j}]"
            sid = _str(sid, sp)
            if not inst.has_shipment(sid):
                raise PlannerInputError(sp, f"unknown shipment {sid!r}")
            if sid in seen:
                raise PlannerInputError(sp, f"shipment {sid!r} is already in locked container {seen[sid]}")
            seen[sid] = i
            s = inst.shipment(sid)
            if s.destination != dest:
                raise PlannerInputError(sp, f"shipment {sid!r} goes to {s.destination}, not {dest}")
            if not type_allows(ctype, s):
                kind = "a reefer" if s.reefer else "a non-reefer"
                raise PlannerInputError(sp, f"shipment {sid!r} needs {kind} container type")
            ships.append(s)
        weight = sum(s.weight_kg for s in ships)
        occ = sum(s.occupied_cbm(ctype) for s in ships)
        if weight > inst.payload(ctype) + EPS:
            raise PlannerInputError(f"{path}.shipments", f"weight {weight:g} kg exceeds payload {inst.payload(ctype):g} kg")
        if occ > ctype.usable_cbm + EPS:
            raise PlannerInputError(f"{path}.shipments", f"occupied volume {occ:g} cbm exceeds {ctype.usable_cbm:g} cbm")
        if temp_intersection(s.temp_range_c for s in ships) is None:
            raise PlannerInputError(f"{path}.shipments", "temperature ranges have no common set point")
        bad = dg_conflict_in(inst, [s.dg_class for s in ships])
        if bad is not None:
            raise PlannerInputError(f"{path}.shipments", f"DG classes {bad[0]} and {bad[1]} are incompatible")
        out.append(Container(type=code, destination=dest, shipments=tuple(sids), weight_kg=weight, occupied_cbm=occ))
    return tuple(out)


def instance_from_dict(d: Any) -> Instance:
    """Build an :class:`Instance` from a FORMAT.md instance document.

    Extensions beyond FORMAT.md (all optional): ``max_payload_kg`` (caps every
    type's payload), a container type's ``teu`` (overrides the code-derived
    TEU), ``locked_containers`` (``[{"type", "destination", "shipments"}]``,
    kept as they are by the planner), and the rail rules (``pairs.py``):
    ``pair_20``, ``pair_max_difference_kg``, ``single_20_destinations``,
    ``max_weight_kg``.
    """
    try:
        return _instance_from_dict(d)
    except PlannerInputError:
        raise
    except Exception as exc:  # pragma: no cover - defensive: never crash on bad input
        raise PlannerInputError("$", f"malformed instance ({type(exc).__name__}: {exc})") from None


def _instance_from_dict(d: Any) -> Instance:
    d = _obj(d, "$")
    if "container_types" not in d:
        raise PlannerInputError("container_types", "is required")
    if "shipments" not in d:
        raise PlannerInputError("shipments", "is required")
    raw_types = _list(d["container_types"], "container_types")
    if not raw_types:
        raise PlannerInputError("container_types", "must not be empty")
    types: list[ContainerType] = []
    codes: set[str] = set()
    for i, t in enumerate(raw_types):
        ct = _container_type(t, f"container_types[{i}]")
        if ct.code in codes:
            raise PlannerInputError(f"container_types[{i}].code", f"duplicate code {ct.code!r}")
        codes.add(ct.code)
        types.append(ct)

    pairs: set[frozenset[str]] = set()
    raw_dg = d.get("dg_incompatible")
    if raw_dg is not None:
        for i, p in enumerate(_list(raw_dg, "dg_incompatible")):
            p = _list(p, f"dg_incompatible[{i}]")
            if len(p) != 2:
                raise PlannerInputError(f"dg_incompatible[{i}]", "must be a pair of DG classes")
            a = _str(p[0], f"dg_incompatible[{i}][0]")
            b = _str(p[1], f"dg_incompatible[{i}][1]")
            pairs.add(frozenset((a, b)))

    max_teu = d.get("max_teu")
    if max_teu is not None:
        max_teu = _int(max_teu, "max_teu", minimum=0)
    max_payload = d.get("max_payload_kg")
    if max_payload is not None:
        max_payload = _num(max_payload, "max_payload_kg", minimum=0.0, strict_min=True)

    rail = _rail_settings(d)

    ships: list[Shipment] = []
    ids: set[str] = set()
    for i, s in enumerate(_list(d["shipments"], "shipments")):
        sh = _shipment(s, f"shipments[{i}]")
        if sh.id in ids:
            raise PlannerInputError(f"shipments[{i}].id", f"duplicate id {sh.id!r}")
        ids.add(sh.id)
        ships.append(sh)

    inst = Instance(
        container_types=tuple(types),
        shipments=tuple(ships),
        dg_incompatible=frozenset(pairs),
        max_teu=max_teu,
        max_payload_kg=max_payload,
        **rail,
    )
    raw_locked = d.get("locked_containers")
    if raw_locked is not None:
        locked = validate_locked(inst, _list(raw_locked, "locked_containers"))
        inst = Instance(
            container_types=inst.container_types,
            shipments=inst.shipments,
            dg_incompatible=inst.dg_incompatible,
            max_teu=inst.max_teu,
            max_payload_kg=inst.max_payload_kg,
            locked_containers=locked,
            **rail,
        )
    return inst


def _rail_settings(d: dict) -> dict[str, Any]:
    rail: dict[str, Any] = {}
    if d.get("pair_20") is not None:
        rail["pair_20"] = _bool(d["pair_20"], "pair_20")
    if d.get("pair_max_difference_kg") is not None:
        rail["pair_max_difference_kg"] = _num(d["pair_max_difference_kg"], "pair_max_difference_kg", minimum=0.0,
                                              strict_min=True)
    if d.get("single_20_destinations") is not None:
        raw = _list(d["single_20_destinations"], "single_20_destinations")
        rail["single_20_destinations"] = frozenset(
            _str(v, f"single_20_destinations[{i}]") for i, v in enumerate(raw))
    if d.get("max_weight_kg") is not None:
        rail["max_weight_kg"] = _num(d["max_weight_kg"], "max_weight_kg", minimum=0.0, strict_min=True)
    return rail


def instance_to_dict(inst: Instance) -> dict:
    """The inverse of :func:`instance_from_dict` (handy for tests and tools)."""
    out: dict[str, Any] = {
        "container_types": [
            {
                "code": t.code,
                "payload_kg": t.payload_kg,
                "usable_cbm": t.usable_cbm,
                "inner_height_m": t.inner_height_m,
                "cost": t.cost,
                "reefer": t.reefer,
                "teu": t.teu,
            }
            for t in inst.container_types
        ],
        "dg_incompatible": sorted(sorted(p) * (2 if len(p) == 1 else 1) for p in inst.dg_incompatible),
        "max_teu": inst.max_teu,
        "max_payload_kg": inst.max_payload_kg,
        **({"pair_20": True, "pair_max_difference_kg": inst.pair_max_difference_kg,
            "single_20_destinations": sorted(inst.single_20_destinations)} if inst.pair_20 else {}),
        **({"max_weight_kg": inst.max_weight_kg} if inst.max_weight_kg is not None else {}),
        "shipments": [
            {
                "id": s.id,
                "destination": s.destination,
                "weight_kg": s.weight_kg,
                "volume_cbm": s.volume_cbm,
                "dg_class": s.dg_class,
                "temp_range_c": list(s.temp_range_c) if s.temp_range_c is not None else None,
                "stackable": s.stackable,
                "footprint_m2": s.footprint_m2,
                "priority": s.priority,
                "booked_at": s.booked_at.isoformat().replace("+00:00", "Z") if s.booked_at else None,
            }
            for s in inst.shipments
        ],
    }
    if inst.locked_containers:
        out["locked_containers"] = [
            {"type": c.type, "destination": c.destination, "shipments": list(c.shipments)}
            for c in inst.locked_containers
        ]
    return out


# --------------------------------------------------------------------------- plan

def plan_to_dict(plan: Plan) -> dict:
    """A plan in exactly FORMAT.md's shape."""
    return {
        "containers": [
            {
                "type": c.type,
                "destination": c.destination,
                "shipments": list(c.shipments),
                "weight_kg": round(c.weight_kg, 6),
                "occupied_cbm": round(c.occupied_cbm, 6),
            }
            for c in plan.containers
        ],
        "unassigned": [{"id": u.id, "reason": u.reason} for u in plan.unassigned],
        "cost": _cost_number(plan.cost),
        "lower_bound": _cost_number(plan.lower_bound),
    }


def plan_from_dict(d: Any) -> Plan:
    """Parse a plan document (e.g. to check one made elsewhere with check_plan)."""
    d = _obj(d, "$")
    containers = []
    for i, c in enumerate(_list(d.get("containers", []), "containers")):
        p = f"containers[{i}]"
        c = _obj(c, p)
        sids = tuple(_str(x, f"{p}.shipments[{j}]") for j, x in enumerate(_list(c.get("shipments"), f"{p}.shipments")))
        containers.append(
            Container(
                type=_str(c.get("type"), f"{p}.type"),
                destination=_str(c.get("destination"), f"{p}.destination"),
                shipments=sids,
                weight_kg=_num(c.get("weight_kg", 0.0), f"{p}.weight_kg"),
                occupied_cbm=_num(c.get("occupied_cbm", 0.0), f"{p}.occupied_cbm"),
            )
        )
    unassigned = []
    for i, u in enumerate(_list(d.get("unassigned", []), "unassigned")):
        p = f"unassigned[{i}]"
        u = _obj(u, p)
        unassigned.append(Unassigned(id=_str(u.get("id"), f"{p}.id"), reason=_str(u.get("reason"), f"{p}.reason")))
    return Plan(
        containers=tuple(containers),
        unassigned=tuple(unassigned),
        cost=_num(d.get("cost", 0), "cost"),
        lower_bound=_num(d.get("lower_bound", 0), "lower_bound"),
    )
