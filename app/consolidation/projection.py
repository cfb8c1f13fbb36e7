"""A departure's space as projected containers, in memory: which container each space-holding booking
takes, packed as the planner would (``SpaceState``), with what a placement depends on (its fingerprint).

``space`` loads a state from the rows and caches it per process; the state writes back the
slots it changed (``SpaceSlot``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app import planner
from app.bookings.cargo import counted_figures
from app.bookings.models import Booking
from app.consolidation import segregation
from app.consolidation.models import SpaceSlot
from app.consolidation.service import planner_footprint
from app.db import DriverStatement
from app.errors import Unprocessable
from app.network.models import Departure

# Wall-clock budget of a replanning decision, seconds (the planner degrades towards FFD).
REPLAN_TIME_LIMIT_S = 0.5
EPS = 1e-9


@lru_cache(maxsize=4096)
def keys_conflict(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return any(segregation.incompatible(x, y) for x in a.split("+") for y in b.split("+"))


def fingerprint(weight_kg, volume_cbm, measured_weight_kg, measured_volume_cbm, footprint_m2, dg_classes,
                temperature_min_c, temperature_max_c, destination) -> str:
    """The figures a placement depends on; a booking whose fingerprint changed is placed again."""
    numbers = (weight_kg, volume_cbm, measured_weight_kg, measured_volume_cbm, footprint_m2, temperature_min_c,
               temperature_max_c)
    return "|".join(["" if v is None else repr(float(v)) for v in numbers]
                    + [",".join(sorted(dg_classes or [])), destination])


def booking_fingerprint(booking: Booking, destination: str) -> str:
    return fingerprint(booking.weight_kg, booking.volume_cbm, booking.measured_weight_kg, booking.measured_volume_cbm,
                       booking.footprint_m2, booking.dg_classes, booking.temperature_min_c, booking.temperature_max_c,
                       destination)


_INSERT_SLOTS = DriverStatement(
    insert(SpaceSlot.__table__), ["booking_id", "departure_id", "slot", "container_type", "fingerprint", "footprint_m2"]
)


@dataclass
class Slot:
    """One projected container."""

    ctype: planner.ContainerType
    destination: str
    weight_kg: float = 0.0
    occupied_cbm: float = 0.0
    low_c: float = float("-inf")
    high_c: float = float("inf")
    dg_keys: dict[str, int] = field(default_factory=dict)
    members: set = field(default_factory=set)

    def accepts(self, s: planner.Shipment, payload: float) -> bool:
        if s.destination != self.destination or s.reefer != self.ctype.reefer:
            return False
        if self.weight_kg + s.weight_kg > payload + EPS:
            return False
        if self.occupied_cbm + s.occupied_cbm(self.ctype) > self.ctype.usable_cbm + EPS:
            return False
        if s.temp_range_c is not None and max(self.low_c, s.temp_range_c[0]) > min(self.high_c, s.temp_range_c[1]):
            return False
        return not any(keys_conflict(s.dg_class, key) for key in self.dg_keys)

    def add(self, key, s: planner.Shipment) -> None:
        self.weight_kg += s.weight_kg
        self.occupied_cbm += s.occupied_cbm(self.ctype)
        if s.temp_range_c is not None:
            self.low_c, self.high_c = max(self.low_c, s.temp_range_c[0]), min(self.high_c, s.temp_range_c[1])
        if s.dg_class is not None:
            self.dg_keys[s.dg_class] = self.dg_keys.get(s.dg_class, 0) + 1
        self.members.add(key)


@dataclass
class Entry:
    shipment: planner.Shipment
    fingerprint: str
    footprint_m2: float | None
    slot: int | None = None


class SpaceState:
    """The departure's projection in memory: slots, the bookings in them, and what changed."""

    def __init__(self, departure: Departure, types: list[planner.ContainerType], min_height_m: float) -> None:
        self.departure = departure
        self.types = types
        self.min_height_m = min_height_m
        self.capacity_teu = departure.capacity_teu
        self.instance_stub = planner.Instance(container_types=tuple(types), shipments=(),
                                              max_payload_kg=departure.max_payload_kg)
        self.slots: dict[int, Slot] = {}
        self.entries: dict[object, Entry] = {}
        self.dirty: set = set()
        self.replans = 0
        # Slots still shared with the cached state this one was forked from (copied on first write).
        self.shared_slots: set[int] = set()

    def fork(self, departure: Departure) -> SpaceState:
        """A copy to decide on, sharing what it does not change with this (cached) state."""
        twin = object.__new__(SpaceState)
        twin.__dict__.update(self.__dict__)
        twin.departure, twin.capacity_teu = departure, departure.capacity_teu
        twin.slots, twin.entries = dict(self.slots), dict(self.entries)
        twin.dirty, twin.replans, twin.shared_slots = set(), 0, set(self.slots)
        return twin

    def rekey(self, old, new) -> None:
        entry = self.entries.pop(old)
        self.entries[new] = entry
        members = self.slots[entry.slot].members
        members.discard(old)
        members.add(new)

    # -- building ------------------------------------------------------------------
    @property
    def teu_used(self) -> int:
        return sum(slot.ctype.teu for slot in self.slots.values())

    def payload(self, ctype: planner.ContainerType) -> float:
        return self.instance_stub.payload(ctype)

    def _place_in(self, number: int, key, entry: Entry) -> None:
        if number in self.shared_slots:
            slot = self.slots[number]
            self.slots[number] = replace(slot, dg_keys=dict(slot.dg_keys), members=set(slot.members))
            self.shared_slots.discard(number)
        self.slots[number].add(key, entry.shipment)
        entry.slot = number

    def first_fit(self, key, entry: Entry) -> bool:
        """Best fit among the projected containers, else a new container within capacity_teu."""
        s = entry.shipment
        best, best_room = None, None
        for number, slot in self.slots.items():
            if slot.accepts(s, self.payload(slot.ctype)):
                room = slot.ctype.usable_cbm - slot.occupied_cbm - s.occupied_cbm(slot.ctype)
                if best_room is None or room < best_room:
                    best, best_room = number, room
        if best is None:
            free_teu = self.capacity_teu - self.teu_used
            fitting = [t for t in self.types if t.teu <= free_teu and planner_fits_alone(self.instance_stub, s, t)]
            if not fitting:
                return False
            ctype = max(fitting, key=lambda t: (t.usable_cbm, -t.cost))
            best = max(self.slots, default=0) + 1
            self.slots[best] = Slot(ctype=ctype, destination=s.destination)
        self.entries[key] = entry
        self._place_in(best, key, entry)
        self.dirty.add(key)
        return True

    async def replan(self, extra: dict[object, Entry]) -> bool:
        """Plan every booking plus ``extra`` from scratch; adopt the plan when it fits capacity_teu."""
        self.replans += 1
        everything = {**self.entries, **extra}
        ids = {f"S{i}": key for i, key in enumerate(everything)}
        shipments = []
        for sid, key in ids.items():
            s = everything[key].shipment
            shipments.append(planner.Shipment(
                id=sid, destination=s.destination, weight_kg=s.weight_kg, volume_cbm=s.volume_cbm,
                dg_class=s.dg_class, temp_range_c=s.temp_range_c, stackable=s.stackable,
                footprint_m2=s.footprint_m2, booked_at=s.booked_at,
            ))
        keys = {s.dg_class for s in shipments if s.dg_class}
        instance = planner.Instance(
            container_types=tuple(self.types), shipments=tuple(shipments),
            dg_incompatible=frozenset(frozenset(p) for p in segregation.incompatible_pairs(keys)),
            max_payload_kg=self.departure.max_payload_kg,
        )
        plan = await run_in_threadpool(planner.solve, instance, REPLAN_TIME_LIMIT_S)
        teu = sum(instance.type_by_code(c.type).teu for c in plan.containers)
        if plan.unassigned or teu > self.capacity_teu:
            return False
        self.slots = {}
        self.entries = everything
        for number, container in enumerate(plan.containers, start=1):
            self.slots[number] = Slot(ctype=instance.type_by_code(container.type), destination=container.destination)
            for sid in container.shipments:
                self._place_in(number, ids[sid], everything[ids[sid]])
        self.dirty = set(everything)
        return True

    async def add(self, key, entry: Entry, *, allow_replan: bool = True) -> bool:
        return self.first_fit(key, entry) or (allow_replan and await self.replan({key: entry}))

    # -- storing -----------------------------------------------------------------------
    async def save(self, session: AsyncSession, booking_ids: dict[object, int] | None = None) -> None:
        """Write the slot rows of every booking placed anew (same transaction, under the lock).

        ``booking_ids`` maps keys that are not booking ids (a new booking's "new")
        to the id it was given; such a booking has no old row to replace.
        """
        booking_ids = booking_ids or {}
        rows, replaced = [], []
        for key in self.dirty:
            entry = self.entries[key]
            slot = self.slots[entry.slot]
            if key in booking_ids:
                key = booking_ids[key]
            else:
                replaced.append(key)
            rows.append({"booking_id": key, "departure_id": self.departure.id, "slot": entry.slot,
                         "container_type": slot.ctype.code, "fingerprint": entry.fingerprint,
                         "footprint_m2": entry.footprint_m2})
        if replaced:
            await session.execute(delete(SpaceSlot).where(
                SpaceSlot.booking_id.in_(replaced), SpaceSlot.departure_id == self.departure.id
            ))
        await _INSERT_SLOTS.many(session, rows)
        self.dirty = set()


def planner_fits_alone(instance: planner.Instance, s: planner.Shipment, ctype: planner.ContainerType) -> bool:
    return (ctype.reefer == s.reefer and s.weight_kg <= instance.payload(ctype) + EPS
            and s.occupied_cbm(ctype) <= ctype.usable_cbm + EPS)


def entry_for(booking: Booking, destination: str, min_height_m: float, key) -> Entry:
    """The planner's view of a booking (with its lines loaded)."""
    clash = segregation.internal_conflict(booking.dg_classes)
    if clash:
        raise Unprocessable("cargo", f"dangerous goods of classes {clash[0]} and {clash[1]} may not share a container "
                                     "(IMDG segregation); book them separately")
    weight, volume = counted_figures(booking)
    footprint = planner_footprint(booking, volume, min_height_m)
    temp = (booking.temperature_min_c, booking.temperature_max_c) if booking.temperature_min_c is not None else None
    shipment = planner.Shipment(
        id=str(key), destination=destination, weight_kg=weight, volume_cbm=volume,
        dg_class=segregation.dg_key(booking.dg_classes), temp_range_c=temp, stackable=footprint is None,
        footprint_m2=footprint, booked_at=booking.created_at,
    )
    return Entry(shipment=shipment, fingerprint=booking_fingerprint(booking, destination), footprint_m2=footprint)
