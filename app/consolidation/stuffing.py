"""Stuffing a departure's planned containers: each container's bookings become a 3D load the CFS crew can follow.

The planner groups bookings by weight and volume; here each container's packages are
placed by the stuffing solver (``app.stuffing``) and the plan is stored on the container
only once the validator (``check_stuffing``) has found it keeps every rule. A container
whose bookings do not all stuff is repaired: the booking with the most volume left out
moves to a new container of the same type and destination (while the departure's TEU
allow it), and both are stuffed again; a booking that does not stuff even alone is left
unassigned. Every repair is written into the plan's warnings, so the operator sees what
changed. Locked containers keep the stuffing they have.

A package is ``<booking reference>/<line sequence>`` in the stuffing documents; its
weight is the line's weight per package, scaled to the CFS's measured weight once the
cargo is received (the CFS measures a booking's totals, not each package).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool

from app import cargo, stuffing
from app.bookings.cargo import counted_figures
from app.bookings.models import Booking
from app.consolidation.models import PlanAssignment, PlanContainer
from app.errors import NotFound
from app.network.models import ContainerType, Departure

# A departure's stuffing takes about STUFFING_BUDGET_S in all (issue aim: 40 containers in 30 s).
# Each container gets its share of what is left (between MIN_TIME_S and MAX_TIME_S); the solver
# stops as soon as everything is placed, so a container that stuffs early leaves its time to the
# rest, and one that did not stuff in its share goes again, once, with up to RETRY_TIME_S.
STUFFING_BUDGET_S = 24.0
MIN_TIME_S, MAX_TIME_S, RETRY_TIME_S = 0.3, 2.0, 6.0
# Partial support the CFS accepts for a package on top of others (FORMAT.md default).
SUPPORT_RATIO = 0.75


def piece_id(reference: str, sequence: int) -> str:
    return f"{reference}/{sequence}"


def container_instance(ctype: ContainerType, bookings: list[Booking], max_payload_kg: float | None) -> dict[str, Any]:
    """The FORMAT.md stuffing instance of one container holding ``bookings``."""
    length_cm, width_cm = cargo.INNER_FLOOR_CM.get(ctype.code[:2], (589.0, 235.0))
    payload = ctype.payload_kg if max_payload_kg is None else min(ctype.payload_kg, max_payload_kg)
    pieces = []
    for booking in bookings:
        weight, _ = counted_figures(booking)
        scale = weight / booking.weight_kg if booking.weight_kg else 1.0
        for line in booking.lines:
            pieces.append({
                "id": piece_id(booking.reference, line.sequence),
                "count": line.packages,
                "length_cm": line.length_cm,
                "width_cm": line.width_cm,
                "height_cm": line.height_cm,
                "weight_kg": round(line.weight_kg / line.packages * scale, 3),
                "vertical": cargo.vertical_sides(line.package_type, line.vertical),
                "stackable": line.stackable,
                "group": booking.reference,
            })
    return {
        "container": {"code": ctype.code, "length_cm": length_cm, "width_cm": width_cm,
                      "height_cm": round(ctype.inner_height_m * 100, 1), "payload_kg": payload},
        "support_ratio": SUPPORT_RATIO,
        "pieces": pieces,
    }


@dataclass
class Stuffed:
    """The outcome for one set of bookings: a valid plan, or the bookings with packages left out."""

    plan: dict[str, Any] | None  # the FORMAT.md plan; stored with the instance it solves under "instance"
    short: dict[str, float] = field(default_factory=dict)  # booking reference -> volume left out (cm³)


def stuff(document: dict[str, Any], time_limit_s: float, seed: int = 0) -> Stuffed:
    """Solve one container (pure; run it off the event loop). Only a plan the validator passes comes back."""
    try:
        instance = stuffing.instance_from_dict(document)
    except stuffing.StuffingInputError as error:  # a package larger than the container, say
        # The error names the package line (``pieces[3].length_cm``): its booking is the one to move.
        index = re.match(r"pieces\[(\d+)\]", error.field)
        pieces = document["pieces"]
        blamed = [pieces[int(index.group(1))]] if index and int(index.group(1)) < len(pieces) else pieces
        return Stuffed(None, {piece["group"]: float("inf") for piece in blamed})
    plan = stuffing.solve(instance, time_limit_s, seed)
    if stuffing.check_stuffing(instance, plan):
        return Stuffed(None, {p["group"]: float("inf") for p in document["pieces"]})
    result = stuffing.plan_to_dict(plan)
    if not result["unplaced"]:
        return Stuffed(result)
    volume = {p["id"]: p["length_cm"] * p["width_cm"] * p["height_cm"] for p in document["pieces"]}
    short: dict[str, float] = {}
    for item in result["unplaced"]:
        reference = item["id"].rsplit("/", 1)[0]
        short[reference] = short.get(reference, 0.0) + volume[item["id"]] * item["count"]
    return Stuffed(None, short)


class Budget:
    """A departure's stuffing time: each container's share is what is left over the containers still to do."""

    def __init__(self, total_s: float = STUFFING_BUDGET_S, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.ends_at = clock() + total_s

    def share(self, containers_left: int, cap_s: float = MAX_TIME_S) -> float:
        left_s = self.ends_at - self.clock()
        return max(MIN_TIME_S, min(cap_s, left_s / max(containers_left, 1)))


def stuff_all(documents: list[dict[str, Any]], budget: Budget,
              solver: Callable[..., Stuffed] = stuff) -> list[Stuffed]:
    """Stuff each container in turn with its share of the budget; those that did not stuff (but might:
    no package too large) go again, once, with what the others left, and another seed."""
    results: list[Stuffed] = []
    again: list[int] = []
    for index, document in enumerate(documents):
        result = solver(document, budget.share(len(documents) - index + len(again)))
        results.append(result)
        if result.plan is None and all(short != float("inf") for short in result.short.values()):
            again.append(index)
    for done, index in enumerate(again):
        results[index] = solver(documents[index], budget.share(len(again) - done, RETRY_TIME_S), 1)
    return results


@dataclass
class Repairs:
    warnings: list[str] = field(default_factory=list)
    unassigned: list[dict[str, Any]] = field(default_factory=list)
    cost_delta: Decimal = Decimal("0")


async def _larger_type(container: PlanContainer, members: list[Booking], types: list[ContainerType],
                       containers: list[PlanContainer], capacity_teu: int, max_payload_kg: float | None,
                       limit_s: float) -> tuple[ContainerType, dict[str, Any]] | None:
    """A larger type of the service that takes the container's bookings as they are, stuffed, within the TEU."""
    current = container.container_type
    teu = sum(c.container_type.teu for c in containers)
    weight = sum(counted_figures(b)[0] for b in members)
    for other in sorted(types, key=lambda t: (t.cost, t.usable_cbm)):
        if (other.id == current.id or other.reefer != current.reefer or other.usable_cbm <= current.usable_cbm
                or other.payload_kg < weight or teu - current.teu + other.teu > capacity_teu):
            continue
        result = await run_in_threadpool(stuff, container_instance(other, members, max_payload_kg), limit_s)
        if result.plan is not None:
            return other, result.plan
    return None


async def stuff_containers(containers: list[PlanContainer], bookings: dict[int, Booking], types: list[ContainerType],
                           capacity_teu: int, max_payload_kg: float | None) -> Repairs:
    """Stuff every container without a stuffing plan, repairing those whose bookings do not stuff (see module)."""
    repairs = Repairs()
    budget = Budget()
    queue = [c for c in containers if c.stuffing is None and c.assignments]
    # First every container with its share of the budget (off the event loop, in one go) ...
    documents = {id(c): container_instance(c.container_type, [bookings[a.booking_id] for a in c.assignments],
                                           max_payload_kg) for c in queue}
    first = dict(zip(documents, await run_in_threadpool(stuff_all, list(documents.values()), budget)))
    # ... then the repairs, each stuffing again with its share of what is left.
    while queue:
        container = queue.pop(0)
        members = [bookings[a.booking_id] for a in container.assignments]
        if not members:
            continue
        document = container_instance(container.container_type, members, max_payload_kg)
        result = first.pop(id(container), None)
        if result is None or document != documents[id(container)]:
            result = await run_in_threadpool(stuff, document, budget.share(len(queue) + 1))
        if result.plan is not None:
            container.stuffing = {**result.plan, "instance": document}
            continue
        label = container.container_number or f"container {container.sequence}"
        if container.locked:  # its cargo stays as the operator locked it: say so, store nothing
            repairs.warnings.append(f"locked {label}: its bookings do not stuff together; unlock it to repair")
            continue
        larger = await _larger_type(container, members, types, containers, capacity_teu, max_payload_kg,
                                    budget.share(len(queue) + 1))
        if larger is not None:
            other, plan = larger
            plan = {**plan, "instance": container_instance(other, members, max_payload_kg)}
            repairs.warnings.append(f"{label}: its bookings do not stuff into a {container.container_type.code}; "
                                    f"it became a {other.code}")
            repairs.cost_delta += Decimal(other.cost) - Decimal(container.container_type.cost)
            container.container_type, container.stuffing = other, plan
            _refigure(container, bookings)
            continue
        worst = max(result.short, key=lambda reference: result.short[reference])
        moved = next(b for b in members if b.reference == worst)
        container.assignments = [a for a in container.assignments if a.booking_id != moved.id]
        _refigure(container, bookings)
        teu = sum(c.container_type.teu for c in containers)
        if len(members) > 1 and teu + container.container_type.teu <= capacity_teu:
            extra = PlanContainer(
                sequence=max(c.sequence for c in containers) + 1, container_type=container.container_type,
                destination=container.destination, locked=False, stuffing=None, assignments=[],
            )
            extra.assignments.append(PlanAssignment(booking_id=moved.id))
            _refigure(extra, bookings)
            containers.append(extra)
            queue.append(extra)
            repairs.cost_delta += Decimal(container.container_type.cost)
            repairs.warnings.append(
                f"{label}: booking {moved.reference} did not stuff beside the others (geometry); "
                f"moved to a container of its own ({container.container_type.code}, container {extra.sequence})"
            )
        else:
            why = ("its packages do not stuff into a " + container.container_type.code) if len(members) == 1 else (
                f"it did not stuff beside the others in {label} and the departure's {capacity_teu} TEU leave no "
                "room for another container")
            repairs.unassigned.append({"booking_id": moved.id, "reason": f"does not stuff: {why}"})
            repairs.warnings.append(f"{label}: booking {moved.reference} taken out of the plan: {why}")
        queue.append(container)
    containers[:] = [c for c in containers if c.assignments]
    return repairs


def _refigure(container: PlanContainer, bookings: dict[int, Booking]) -> None:
    """A container's weight and volume after a booking moved in or out."""
    members = [bookings[a.booking_id] for a in container.assignments]
    container.weight_kg = round(sum(counted_figures(b)[0] for b in members), 3)
    container.occupied_cbm = round(sum(_occupied(b, container.container_type) for b in members), 3)


def _occupied(booking: Booking, ctype: ContainerType) -> float:
    _, volume = counted_figures(booking)
    footprint = cargo.planner_footprint_m2(booking.footprint_m2, booking.lines, volume, ctype.inner_height_m)
    return volume if footprint is None else max(volume, footprint * ctype.inner_height_m)


def stuffing_read(container: PlanContainer, max_payload_kg: float | None) -> dict[str, Any]:
    """The container's stuffing plan for the CFS crew: each package by booking, line and number, in loading order."""
    plan = container.stuffing
    if plan is None:
        raise NotFound(f"container {container.id} has no stuffing plan (plan the departure again)", "container_id")
    document = container_instance(container.container_type, [], max_payload_kg)["container"]
    numbered: dict[str, int] = {}
    placements = []
    for placement in sorted(plan["placements"], key=lambda p: p["step"]):
        reference, line = placement["id"].rsplit("/", 1)
        numbered[placement["id"]] = numbered.get(placement["id"], 0) + 1
        placements.append({
            "step": placement["step"], "booking_reference": reference, "line": int(line),
            "package": numbered[placement["id"]],
            **{k: placement[k] for k in ("x_cm", "y_cm", "z_cm", "length_cm", "width_cm", "height_cm")},
        })
    return {
        "container_id": container.id,
        "type": container.container_type.code,
        "destination": container.destination,
        "container_number": container.container_number,
        "seal_number": container.seal_number,
        **{k: document[k] for k in ("length_cm", "width_cm", "height_cm", "payload_kg")},
        "volume_utilisation": plan["volume_utilisation"],
        "weight_kg": plan["weight_kg"],
        "centre_of_gravity_cm": plan["centre_of_gravity_cm"],
        "placements": placements,
    }


def steps_by_booking(container: PlanContainer) -> dict[str, tuple[int, int]]:
    """Each booking's first and last loading step in the container (empty without a stuffing plan)."""
    steps: dict[str, tuple[int, int]] = {}
    for placement in (container.stuffing or {}).get("placements", []):
        reference = placement["id"].rsplit("/", 1)[0]
        first, last = steps.get(reference, (placement["step"], placement["step"]))
        steps[reference] = (min(first, placement["step"]), max(last, placement["step"]))
    return steps


def stuffing_documents(container: PlanContainer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The instance and the plan of the container's stuffing (404 without one), for pictures and paper."""
    if container.stuffing is None or "instance" not in container.stuffing:
        raise NotFound(f"container {container.id} has no stuffing plan (plan the departure again)", "container_id")
    plan = {key: value for key, value in container.stuffing.items() if key != "instance"}
    return container.stuffing["instance"], plan


def paper_header(container: PlanContainer, departure: Departure, bookings: list[Booking]) -> dict[str, Any]:
    """What the printed loading plan says about the container, beside the pictures."""
    service = departure.service
    return {
        "title": "Loading plan",
        "container_type": container.container_type.code,
        "container_number": container.container_number,
        "seal": container.seal_number,
        "origin": service.origin.code,
        "destination": container.destination,
        "departure": f"{departure.id} · {service.code} · departs {departure.departs_at:%Y-%m-%d %H:%M} UTC",
        "reference": f"plan version {container.plan.version}, container {container.sequence}",
        "marks": {booking.reference: "; ".join(dict.fromkeys(line.description for line in booking.lines))
                  for booking in bookings},
    }
