"""Space control backed by the planner: does a booking still fit the departure as actually packed?

A departure's space-holding bookings are kept packed in a *projection*: one
``space_slots`` row per booking naming the container (slot number and type) it
would ride in. A decision, taken under the departure's row lock:

1. loads the space-holding bookings with their slot rows in one query, and
   rebuilds the containers (a booking whose figures changed since it was placed,
   e.g. by a CFS receipt, or that has no row, is placed again);
2. tries the cheap sufficient test: put the booking into an existing container
   that keeps every planner rule (destination, payload capped by the departure's
   ``max_payload_kg``, volume with non-stackable footprints, reefer set point,
   DG segregation), best fit first, or open a new container if
   ``capacity_teu`` leaves room for one;
3. only when that fails, runs the planner on all the bookings plus this one
   (a short time limit) and accepts if its plan places everything within
   ``capacity_teu``; the plan becomes the new projection.

Both ways the answer is a concrete packing that keeps every rule, so a booking
is never confirmed into an infeasible departure. The converse is not promised:
the planner is a heuristic (and minimises cost, not TEU), so a booking that some
cleverer packing could take may be waitlisted.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    and_,
    bindparam,
    cast,
    func,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import planner
from app.bookings.models import Booking, BookingLeg
from app.bookings.schemas import SPACE_HOLDING as BOOKING_SPACE_HOLDING
from app.consolidation import segregation
from app.consolidation.models import SpaceSlot
from app.consolidation.projection import Entry, Slot, SpaceState, entry_for, fingerprint
from app.consolidation.service import planner_container_types, service_container_types
from app.db import DriverStatement
from app.errors import Unprocessable
from app.network.models import Departure, Hub

SPACE_HOLDING = tuple(s.value for s in BOOKING_SPACE_HOLDING)


# Container types never change once created, nor does a service's list of them:
# the planner's view of a service's types is kept per service (id and creation time).
_types_of_service: dict[tuple, tuple[planner.ContainerType, ...]] = {}


async def planner_types(session: AsyncSession, departure: Departure) -> tuple[planner.ContainerType, ...]:
    service = departure.service
    key = (service.id, service.created_at)
    types = _types_of_service.get(key)
    if types is None:
        types = planner_container_types(await service_container_types(session, service.container_types), service)
        if len(_types_of_service) >= CACHE_SIZE:
            _types_of_service.clear()
        _types_of_service[key] = types
    return types


def _riders(departures=None):
    """The space-holding bookings riding departure ``:departure_id``, each with the hub it alights at.

    A booking rides its own departure to its destination; a booking made from a quote
    also rides the departures of its other legs (road, barge, air feeders), alighting
    at each leg's end. Two indexed branches, disjoint by construction (a feeder leg's
    departure is not the booking's own), rather than one OR, which would scan.

    ``departures`` (a function of the departure id column giving the condition) widens it to
    several departures; the rows then carry the departure they ride (``departure_id``).
    """
    rides = departures or (lambda column: column == bindparam("departure_id"))
    own = select(Booking.id.label("booking_id"), Booking.version, Booking.destination_hub_id.label("alight_hub_id"),
                 Booking.departure_id.label("departure_id")).where(
        rides(Booking.departure_id), Booking.status.in_(SPACE_HOLDING)
    )
    # Each feeder leg's booking is looked up by primary key in a correlated subquery,
    # which the planner runs per leg and never turns into a join: a prepared statement's
    # generic plan, made while the tables were small, otherwise joined by scanning every
    # booking, on every space decision.
    version = (
        select(Booking.version)
        .where(Booking.id == BookingLeg.booking_id, Booking.departure_id != BookingLeg.departure_id,
               Booking.status.in_(SPACE_HOLDING))
        .scalar_subquery()
    )
    feeder = select(BookingLeg.booking_id, version.label("version"), BookingLeg.to_hub_id, BookingLeg.departure_id).where(
        rides(BookingLeg.departure_id), version.is_not(None)
    )
    return union_all(own, feeder).subquery("riders")


_PLACED_RIDERS = _riders()
_PLACED_BOOKINGS = DriverStatement(
    select(Booking.id, _PLACED_RIDERS.c.version, Booking.weight_kg, Booking.volume_cbm, Booking.measured_weight_kg,
           Booking.measured_volume_cbm, Booking.footprint_m2, Booking.dg_classes, Booking.temperature_min_c,
           Booking.temperature_max_c, Hub.un_locode,
           SpaceSlot.slot, SpaceSlot.container_type, SpaceSlot.fingerprint, SpaceSlot.footprint_m2.label("slot_fp"))
    .select_from(_PLACED_RIDERS)
    .join(Booking, Booking.id == _PLACED_RIDERS.c.booking_id)
    .join(Hub, Hub.id == _PLACED_RIDERS.c.alight_hub_id)
    .outerjoin(SpaceSlot, and_(SpaceSlot.booking_id == Booking.id, SpaceSlot.departure_id == bindparam("departure_id")))
    .where(Booking.id != bindparam("exclude_id"))
    .order_by(Booking.id)
)


async def load_state(session: AsyncSession, departure: Departure, exclude_id: int | None = None) -> SpaceState | None:
    """The departure's projection, every space-holding booking placed; None when they no longer fit at all."""
    return (await _load(session, departure, exclude_id))[0]


async def _load(
    session: AsyncSession, departure: Departure, exclude_id: int | None = None
) -> tuple[SpaceState | None, tuple[int, ...] | None]:
    """``load_state``, and the riders' fingerprint (``booking_fingerprint_of``) of exactly the rows it was
    built from when one statement's rows built it all (every booking in its saved slot); else None."""
    types = await planner_types(session, departure)
    state = SpaceState(departure, list(types), min((t.inner_height_m for t in types), default=2.39))
    if not types:
        return state, None
    by_code = {t.code: t for t in types}
    loose: dict[int, str] = {}  # booking id -> where it alights from this departure
    placed = await _PLACED_BOOKINGS.named_rows(session, {"departure_id": departure.id, "exclude_id": exclude_id or 0})
    read = (len(placed), sum(row.id for row in placed), sum(row.id * row.id for row in placed),
            sum(row.id * row.version for row in placed))
    for row in placed:
        print_ = fingerprint(row.weight_kg, row.volume_cbm, row.measured_weight_kg, row.measured_volume_cbm,
                             row.footprint_m2, row.dg_classes, row.temperature_min_c, row.temperature_max_c,
                             row.un_locode)
        if row.slot is None or row.fingerprint != print_ or row.container_type not in by_code:
            loose[row.id] = row.un_locode
            continue
        weight = row.measured_weight_kg if row.measured_weight_kg is not None else row.weight_kg
        volume = max(row.measured_volume_cbm if row.measured_volume_cbm is not None else row.volume_cbm, 0.001)
        temp = (row.temperature_min_c, row.temperature_max_c) if row.temperature_min_c is not None else None
        shipment = planner.Shipment(
            id=str(row.id), destination=row.un_locode, weight_kg=weight, volume_cbm=volume,
            dg_class=segregation.dg_key(row.dg_classes or []), temp_range_c=temp, stackable=row.slot_fp is None,
            footprint_m2=row.slot_fp,
        )
        entry = Entry(shipment=shipment, fingerprint=print_, footprint_m2=row.slot_fp)
        slot = state.slots.get(row.slot)
        if slot is None:
            slot = state.slots[row.slot] = Slot(ctype=by_code[row.container_type], destination=row.un_locode)
        if slot.ctype.code != row.container_type or not slot.accepts(shipment, state.payload(slot.ctype)):
            loose[row.id] = row.un_locode
            continue
        state.entries[row.id] = entry
        state._place_in(row.slot, row.id, entry)
    if state.teu_used > state.capacity_teu:  # capacity was lowered: start afresh
        loose.update({key: entry.shipment.destination for key, entry in state.entries.items()})
        state.slots, state.entries = {}, {}
    if loose:
        bookings = await session.scalars(
            select(Booking).where(Booking.id.in_(list(loose))).options(selectinload(Booking.lines)).order_by(Booking.id)
        )
        extra = {}
        for booking in bookings:
            try:
                entry = entry_for(booking, loose[booking.id], state.min_height_m, booking.id)
            except Unprocessable:  # classes that may not travel together: no packing holds it
                return None, None
            if not state.first_fit(booking.id, entry):
                extra[booking.id] = entry
        if extra and not await state.replan(extra):
            return None, None
        return state, None  # loose bookings were read by a second statement: not one snapshot
    return state, read


# --- the per-process cache of projections --------------------------------------------
#
# Loading a projection reads every space-holding booking of the departure; with a
# thousand bookings that dominates a decision. Each process keeps the projections
# it built, keyed by a fingerprint of the departure's space-holding bookings (their
# count and sums over ids and versions, read under the row lock). A cached
# projection is used only when the fingerprint read now equals the one it was built
# for: the same bookings with the same figures (every change of figures bumps a
# booking's version), so it is a valid packing of exactly what the database holds,
# whichever process wrote the database's own slot rows. Anything else, and any
# booking the cached packing cannot take by first fit, goes the full way.
#
# The cache must hold every departure open for booking, or bookings spread over the
# network evict each other and every decision goes the full way: the demo network
# alone has 768 departures (rail, barge, road and air over eight weeks).

CACHE_SIZE = 8192
_cache: OrderedDict[tuple, tuple[tuple[int, ...], SpaceState]] = OrderedDict()


def _cache_key(departure: Departure) -> tuple:
    """The departure as a packing depends on it (an id alone could be reused after rows are deleted)."""
    return departure.id, departure.created_at, departure.service_id, departure.max_payload_kg


def _fingerprint_of(riders, *group_by):
    wide_id = cast(riders.c.booking_id, BigInteger)
    return DriverStatement(
        select(*group_by, func.count(), func.coalesce(func.sum(wide_id), 0),
               func.coalesce(func.sum(wide_id * wide_id), 0),
               func.coalesce(func.sum(wide_id * riders.c.version), 0))
        .select_from(riders)
        .group_by(*group_by)
    )


_FINGERPRINT = _fingerprint_of(_riders())
# The fingerprints of several departures in one round trip (PostgreSQL: ``= ANY(:departure_ids)``).
_MANY_RIDERS = _riders(lambda column: column == func.any(bindparam("departure_ids", type_=ARRAY(Integer))))
_FINGERPRINTS = _fingerprint_of(_MANY_RIDERS, _MANY_RIDERS.c.departure_id)


async def booking_fingerprint_of(session: AsyncSession, departure_id: int) -> tuple[int, ...]:
    row = await _FINGERPRINT.one(session, {"departure_id": departure_id})
    return tuple(int(v) for v in row)


async def booking_fingerprints_of(session: AsyncSession, departure_ids: list[int]) -> dict[int, tuple[int, ...]]:
    """``booking_fingerprint_of`` for several departures: one round trip on PostgreSQL (one each elsewhere)."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return {departure_id: await booking_fingerprint_of(session, departure_id) for departure_id in departure_ids}
    found = {departure_id: (0, 0, 0, 0) for departure_id in departure_ids}
    for departure_id, *figures in await _FINGERPRINTS.rows(session, {"departure_ids": list(departure_ids)}):
        found[departure_id] = tuple(int(v) for v in figures)
    return found


@dataclass
class _Reservation:
    """A new booking's place in a departure's packing, written once the booking has its id."""

    cache_key: tuple
    before: tuple[int, ...]
    state: SpaceState


def _reserve_new(booking: Booking, cache_key: tuple, before: tuple[int, ...], state: SpaceState) -> None:
    booking.__dict__.setdefault("_space_reservations", []).append(_Reservation(cache_key, before, state))


async def write_reservation(session: AsyncSession, booking: Booking) -> None:
    """Write the slots a new booking (now inserted, with its id) was given by ``reserve``, and cache the packings.

    One slot per departure it rides (its own, and a quoted itinerary's feeder legs).
    Each cached packing is keyed by the fingerprint the departure's riders will have
    once this transaction commits: the one read before, plus this booking.
    """
    reservations: list[_Reservation] = booking.__dict__.pop("_space_reservations", [])
    for reservation in reservations:
        state = reservation.state
        await state.save(session, {"new": booking.id})
        state.rekey("new", booking.id)
        count, ids, squares, versions = reservation.before
        after = (count + 1, ids + booking.id, squares + booking.id * booking.id, versions + booking.id * booking.version)
        _cache[reservation.cache_key] = (after, state)
        _cache.move_to_end(reservation.cache_key)
        refused = _refused.get(reservation.cache_key)
        if refused is not None and refused[0] == reservation.before:
            _refused[reservation.cache_key] = (after, refused[1])
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)


# Refusals remembered per departure and fingerprint: a new booking that is at least as
# large in weight, volume and footprint as one refused on the same bookings, and packs
# under the same rules (destination, DG key, temperature range), is refused without
# running the planner again: any packing that took it could take the smaller one.
# And once the planner has failed MAX_FAILED_REPLANS times on the same bookings, later
# bookings get first fit only until the departure's bookings change. A booking this
# process adds (``write_reservation``) keeps what was remembered: with more cargo on
# board, what did not fit fits no better. Any other change, or one made by another
# process, starts afresh.
MAX_FAILED_REPLANS = 3
_refused: dict[tuple, tuple[tuple[int, ...], list[tuple[tuple, float, float, float]]]] = {}


def _shape(shipment: planner.Shipment) -> tuple[tuple, float, float, float]:
    rules = (shipment.destination, shipment.dg_class, shipment.temp_range_c, shipment.footprint_m2 is None)
    return rules, shipment.weight_kg, shipment.volume_cbm, shipment.footprint_m2 or 0.0


def _dominates_a_refusal(key: tuple, fingerprint: tuple[int, ...], shipment: planner.Shipment) -> bool:
    known = _refused.get(key)
    if known is None or known[0] != fingerprint:
        return False
    if len(known[1]) >= MAX_FAILED_REPLANS:
        return True
    rules, weight, volume, footprint = _shape(shipment)
    return any(r == rules and weight >= w and volume >= v and footprint >= f for r, w, v, f in known[1])


def _remember_refusal(key: tuple, fingerprint: tuple[int, ...], shipment: planner.Shipment) -> None:
    known = _refused.get(key)
    if known is None or known[0] != fingerprint:
        known = _refused[key] = (fingerprint, [])
        while len(_refused) > CACHE_SIZE:
            del _refused[next(iter(_refused))]
    if len(known[1]) < 64:
        known[1].append(_shape(shipment))


async def reserve(session: AsyncSession, departure: Departure, booking: Booking, alight_at: str | None = None) -> bool:
    """True, and the booking's slot written, when it fits the departure together with the space-holding ones.

    The departure's row lock must be held. ``alight_at`` is the UN/LOCODE where the
    cargo leaves this departure (a feeder leg's end), by default the booking's
    destination. A booking already holding space on the departure (an amendment) is
    placed anew with its current figures. A new booking (no id yet) has its slot
    written by ``write_reservation`` once it is inserted.
    """
    if not departure.service.container_types:
        return False
    alight_at = alight_at or booking.destination.un_locode
    before = None
    cache_key = _cache_key(departure)
    if booking.id is None:
        before = await booking_fingerprint_of(session, departure.id)
        cached = _cache.get(cache_key)
        if cached is not None and cached[0] == before:
            state = cached[1].fork(departure)
            entry = entry_for(booking, alight_at, state.min_height_m, "new")
            if state.teu_used <= state.capacity_teu and state.first_fit("new", entry):
                _reserve_new(booking, cache_key, before, state)
                return True
            if _dominates_a_refusal(cache_key, before, entry.shipment):
                return False
    state = await load_state(session, departure, exclude_id=booking.id)
    if state is None or not state.types:
        if state is None:
            entry_for(booking, alight_at, 2.39, "new")  # a 422 for the booking's own DG clash
        return False
    key = booking.id if booking.id is not None else "new"
    entry = entry_for(booking, alight_at, state.min_height_m, key)
    if not await state.add(key, entry):
        if before is not None:
            _remember_refusal(cache_key, before, entry.shipment)
        return False
    if before is None:
        await state.save(session)
    else:
        _reserve_new(booking, cache_key, before, state)
    return True


async def fits_as_it_stands(
    session: AsyncSession, departure: Departure, booking: Booking, alight_at: str, riders: tuple[int, ...] | None = None
) -> bool:
    """An estimate for quotes, without the row lock: whether the booking would take a place by first fit
    in the departure's projection as it stands now.

    Nothing is written, and the planner is not run: a departure that only a replan could
    still fit counts as full here (a booking would try the replan). A projection loaded here
    is cached when the rows it was built from are exactly those fingerprinted, so that the
    next quote in this process does not load it again.
    """
    if not departure.service.container_types:
        return False
    key = _cache_key(departure)
    cached = _cache.get(key)
    if riders is None:  # the departure's booking_fingerprint_of, when the caller has read it already
        riders = await booking_fingerprint_of(session, departure.id)
    if cached is not None and cached[0] == riders:
        state = cached[1].fork(departure)
    elif riders[0] == 0:  # nobody rides it yet: the empty projection, exact whenever it was read
        types = await planner_types(session, departure)
        empty = SpaceState(departure, list(types), min((t.inner_height_m for t in types), default=2.39))
        _cache[key] = (riders, empty)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        state = empty.fork(departure)
    else:
        state, read = await _load(session, departure)
        if state is not None and read == riders:  # exactly the riders fingerprinted: later quotes may use it
            _cache[key] = (riders, state)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
            state = state.fork(departure)
    if state is None or not state.types:
        return False
    try:
        entry = entry_for(booking, alight_at, state.min_height_m, "new")
    except Unprocessable:
        return False
    return state.teu_used <= state.capacity_teu and state.first_fit("new", entry)


async def promote(session: AsyncSession, departure: Departure, waiting: list[Booking], max_replans: int = 2) -> list[Booking]:
    """The waitlisted bookings (oldest first) that fit, placed; replans at most ``max_replans`` times."""
    state = await load_state(session, departure)
    if state is None or not state.types:
        return []
    fitting = []
    for booking in waiting:
        try:
            entry = entry_for(booking, booking.destination.un_locode, state.min_height_m, booking.id)
        except Unprocessable:
            continue
        if await state.add(booking.id, entry, allow_replan=state.replans < max_replans):
            fitting.append(booking)
    await state.save(session)
    return fitting


async def fits_capacity(session: AsyncSession, departure: Departure, capacity_teu: int) -> bool:
    """Whether the departure's space-holding bookings still pack within ``capacity_teu`` (row lock held)."""
    if not departure.service.container_types:
        return True
    current = departure.capacity_teu
    departure.capacity_teu = capacity_teu
    try:
        state = await load_state(session, departure)
    finally:
        departure.capacity_teu = current
    return state is not None and state.teu_used <= capacity_teu
