"""Tracking rules: legs from the timetable, events in, fan-out to the bookings riding them, ETAs and risk.

How the pieces fit:

- A departure's live timetable is a row per call (``DepartureCall``), created from
  the schedule the first time something needs it. TRANSPORT events set a call's
  reported estimate (EST), actual time (ACT) or plan (PLN); the estimates of every
  later call are then derived again from those facts (``derive_estimates``), so a
  delay at any stop shifts the rest of the run and late or out-of-order events give
  the same answer as in-order ones.
- A confirmed booking has legs: one per hop between consecutive calls of its
  departure, from its origin to its destination. They are written in the
  transaction that confirms it (a ``before_flush`` hook reads the ``StatusChanged``
  events ``transition()`` records), and lazily for older bookings.
- An event on a departure updates, with a handful of set-based statements, the legs
  of every booking riding it, their statuses (``transition_many``), one SHIPMENT
  event per status change, and the webhook outbox. Nothing on that path loops over
  bookings in Python except bookings with a transfer to another departure, whose
  connection risk is checked one by one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, event, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from app.accounts.service import Caller
from app.bookings.models import Booking
from app.bookings.schemas import BookingStatus
from app.bookings.service import SPACE_HOLDING, StatusChanged, get_booking, transition_many
from app.consolidation.models import DeparturePlan, PlanAssignment, PlanContainer
from app.routing.models import BookingLeg
from app.db import DriverStatement, utcnow
from app.errors import Unprocessable
from app.network.models import Departure, Hub
from app.network.schemas import DepartureStatus
from app.network.service import get_departure, hubs_named, route_hubs
from app.tracking.models import DepartureCall, Leg, TrackingEvent
from app.tracking.schemas import (
    AT_RISK_CODE,
    CODES,
    RECOVERED_CODE,
    STATUS_CODES,
    EventClassifier,
    EventCreate,
    EventType,
)

S = BookingStatus
RIDING = tuple(s.value for s in SPACE_HOLDING)
# An ACT event may be stamped a little ahead of our clock (the sender's clock drifts).
CLOCK_SKEW = timedelta(minutes=5)
TIMELINE_LIMIT = 500


# --- the timetable ----------------------------------------------------------------

@dataclass
class CallTimes:
    """One call's times, as plain data (the derivation is pure)."""

    hub_id: int
    planned_arrival_at: datetime | None
    planned_departure_at: datetime | None
    reported_arrival_at: datetime | None = None
    reported_departure_at: datetime | None = None
    actual_arrival_at: datetime | None = None
    actual_departure_at: datetime | None = None
    estimated_arrival_at: datetime | None = None
    estimated_departure_at: datetime | None = None


def schedule(departure: Departure) -> list[CallTimes]:
    """The departure's calls as timetabled: origin, stops at departs_at + offset, destination."""
    service = departure.service
    calls = [CallTimes(service.origin.id, None, departure.departs_at)]
    for stop in service.stops:
        at = departure.departs_at + timedelta(hours=stop.offset_hours)
        calls.append(CallTimes(stop.hub.id, at, at))
    calls.append(CallTimes(service.destination.id, departure.arrives_at, None))
    return derive_estimates(calls)


def derive_estimates(calls: list[CallTimes]) -> list[CallTimes]:
    """Fill ``estimated_*`` along the run from the facts: actual, else reported, else the previous
    estimate plus the timetabled gap (so a delay, or a gain, carries on to every later point)."""
    previous_planned: datetime | None = None
    previous_estimate: datetime | None = None
    for call in calls:
        for kind in ("arrival", "departure"):
            planned = getattr(call, f"planned_{kind}_at")
            if planned is None and kind == "arrival" and call is calls[0]:
                continue
            if planned is None and kind == "departure" and call is calls[-1]:
                continue
            actual = getattr(call, f"actual_{kind}_at")
            reported = getattr(call, f"reported_{kind}_at")
            if actual is not None:
                estimate = actual
            elif reported is not None:
                estimate = reported
            elif previous_estimate is not None and previous_planned is not None and planned is not None:
                estimate = previous_estimate + (planned - previous_planned)
            else:
                estimate = planned
            setattr(call, f"estimated_{kind}_at", estimate)
            if planned is not None:
                previous_planned = planned
            previous_estimate = estimate
    return calls


CALL_FIELDS = (
    "planned_arrival_at", "planned_departure_at", "reported_arrival_at", "reported_departure_at",
    "actual_arrival_at", "actual_departure_at", "estimated_arrival_at", "estimated_departure_at",
)


def _times(row: Any) -> CallTimes:
    """From a DepartureCall, or a row of its hub_id and CALL_FIELDS."""
    return CallTimes(row.hub_id, **{f: getattr(row, f) for f in CALL_FIELDS})


async def ensure_calls(session: AsyncSession, departure: Departure) -> list[DepartureCall]:
    """The departure's call rows, created from the schedule when missing (its row lock should be held)."""
    rows = list(
        await session.scalars(
            select(DepartureCall).where(DepartureCall.departure_id == departure.id).order_by(DepartureCall.sequence)
        )
    )
    if rows:
        return rows
    rows = [
        DepartureCall(departure_id=departure.id, sequence=i, **{"hub_id": c.hub_id, **{f: getattr(c, f) for f in CALL_FIELDS}})
        for i, c in enumerate(schedule(departure))
    ]
    session.add_all(rows)
    await session.flush()
    return rows


_CALL_TIMES_OF = DriverStatement(
    select(DepartureCall.hub_id, *(getattr(DepartureCall, f) for f in CALL_FIELDS))
    .where(DepartureCall.departure_id == bindparam("departure_id")).order_by(DepartureCall.sequence)
)


def _current_calls_sync(session: Session, departure: Departure) -> list[CallTimes]:
    rows = session.execute(_CALL_TIMES_OF.statement, {"departure_id": departure.id}).all()
    return [_times(r) for r in rows] if rows else schedule(departure)


# --- legs ---------------------------------------------------------------------------

def legs_along(departure: Departure, calls: list[CallTimes], origin_hub_id: int, destination_hub_id: int) -> list[dict]:
    """Leg rows (as dicts) for a ride on ``departure`` from one of its calls to a later one."""
    hubs = [c.hub_id for c in calls]
    start, end = hubs.index(origin_hub_id), hubs.index(destination_hub_id)
    legs = []
    for i in range(start, end):
        here, there = calls[i], calls[i + 1]
        legs.append(
            {
                "mode": departure.service.mode,
                "departure_id": departure.id,
                "from_hub_id": here.hub_id,
                "to_hub_id": there.hub_id,
                "planned_departure_at": here.planned_departure_at,
                "estimated_departure_at": here.estimated_departure_at,
                "actual_departure_at": here.actual_departure_at,
                "planned_arrival_at": there.planned_arrival_at,
                "estimated_arrival_at": there.estimated_arrival_at,
                "actual_arrival_at": there.actual_arrival_at,
            }
        )
    return legs


async def ensure_legs(session: AsyncSession, departure: Departure) -> None:
    """Give legs to riding bookings of ``departure`` made before tracking existed (one query when none lack them)."""
    missing = list(
        await session.execute(
            select(Booking.id, Booking.origin_hub_id, Booking.destination_hub_id).where(
                Booking.departure_id == departure.id,
                Booking.status.in_(RIDING),
                ~exists().where(Leg.booking_id == Booking.id),
            )
        )
    )
    if not missing:
        return
    calls = [_times(c) for c in await ensure_calls(session, departure)]
    rows = []
    for booking_id, origin_id, destination_id in missing:
        for sequence, leg in enumerate(legs_along(departure, calls, origin_id, destination_id), start=1):
            rows.append({**leg, "booking_id": booking_id, "sequence": sequence, "at_risk": False})
    await session.execute(insert(Leg), rows)


async def booking_legs(session: AsyncSession, booking: Booking) -> list[Leg]:
    """The booking's legs; a riding booking without any gets them now (persisted with the request)."""
    query = select(Leg).where(Leg.booking_id == booking.id).order_by(Leg.sequence)
    legs = list(await session.scalars(query))
    if not legs and booking.status in RIDING:
        # Writing them takes the departure's lock, as every writer of its legs and calls does:
        # two readers at once would both insert them (a unique key error).
        await ensure_legs(session, await get_departure(session, booking.departure_id, lock=True))
        legs = list(await session.scalars(query))
    return legs


# --- publishing booking status changes (same transaction) -----------------------------

def shipment_payload(
    reference: str, status: BookingStatus | None, code: str, at: datetime, created_at: datetime, reason: str | None
) -> dict[str, Any]:
    return {
        "event_type": EventType.SHIPMENT.value,
        "event_classifier": EventClassifier.ACT.value,
        "code": code,
        "event_datetime": at.isoformat(),
        "event_created_at": created_at.isoformat(),
        "location": None,
        "un_locode": None,
        "mode": None,
        "departure_id": None,
        "container_number": None,
        "booking_reference": reference,
        "booking_status": status.value if status else None,
        "reason": reason,
    }


def _shipment_event(booking: Booking, change: StatusChanged) -> dict[str, Any]:
    """The SHIPMENT event row (as column values) a booking's status change publishes."""
    now = utcnow()
    code = STATUS_CODES[change.current]
    return {
        "event_type": EventType.SHIPMENT.value,
        "event_classifier": EventClassifier.ACT.value,
        "code": code,
        "event_datetime": change.at,
        "created_at": now,
        "payload": shipment_payload(booking.reference, change.current, code, change.at, now, change.reason),
    }


def _publish_status_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """before_flush: turn the StatusChanged events bookings recorded into SHIPMENT events
    (and legs, on confirmation), so they are written in the same flush as the change."""
    bookings = [obj for obj in [*session.new, *session.dirty] if isinstance(obj, Booking)]
    published: list[tuple[TrackingEvent, int]] = []
    for booking in bookings:
        for change in booking.pop_events():
            if not isinstance(change, StatusChanged):
                continue
            if change.current is S.CONFIRMED:
                _add_legs_sync(session, booking)
            row = TrackingEvent(booking=booking, **_shipment_event(booking, change))
            session.add(row)
            published.append((row, booking.organization_id))
    if published:
        from app.webhooks.service import enqueue_sync

        enqueue_sync(session, published)


_EVENT_COLUMNS = ["event_type", "event_classifier", "code", "event_datetime", "created_at", "payload", "booking_id"]
_INSERT_EVENT = DriverStatement(insert(TrackingEvent.__table__).returning(TrackingEvent.__table__.c.id), _EVENT_COLUMNS)
_INSERT_LEGS = DriverStatement(insert(Leg.__table__), [
    "booking_id", "sequence", "at_risk", "mode", "departure_id", "from_hub_id", "to_hub_id",
    *(f for f in CALL_FIELDS if f.startswith(("planned", "estimated", "actual"))),
])


async def publish_new_booking(session: AsyncSession, booking: Booking) -> None:
    """What ``_publish_status_changes`` does, for a new booking written with Core (``bookings.service.insert_new``):
    its SHIPMENT event, its legs when it is confirmed, and the webhook outbox rows."""
    from app.webhooks.service import enqueue

    published: list[tuple[dict, int]] = []
    for change in booking.pop_events():
        if not isinstance(change, StatusChanged):
            continue
        if change.current is S.CONFIRMED:
            departure = booking.departure
            rows = await _CALL_TIMES_OF.named_rows(session, {"departure_id": departure.id})
            calls = [_times(row) for row in rows] if rows else schedule(departure)
            legs = legs_along(departure, calls, booking.origin_hub_id, booking.destination_hub_id)
            await _INSERT_LEGS.many(session, [
                {**leg, "booking_id": booking.id, "sequence": sequence, "at_risk": False}
                for sequence, leg in enumerate(legs, start=1)
            ])
        values = {**_shipment_event(booking, change), "booking_id": booking.id}
        (event_id,) = await _INSERT_EVENT.one(session, values)
        published.append(({"id": event_id, "payload": values["payload"]}, booking.organization_id))
    await enqueue(session, published)


def _add_legs_sync(session: Session, booking: Booking) -> None:
    if booking.id is not None and session.scalar(select(Leg.id).where(Leg.booking_id == booking.id).limit(1)):
        return
    rides = _rides_sync(session, booking)
    if rides:  # a booking made from a quote option, confirmed later (off the waitlist)
        sequence = 0
        for departure_id, from_hub_id, to_hub_id in rides:
            departure = session.get(Departure, departure_id)
            calls = _current_calls_sync(session, departure)
            for leg in legs_along(departure, calls, from_hub_id, to_hub_id):
                sequence += 1
                session.add(Leg(booking=booking, sequence=sequence, at_risk=False, **leg))
        return
    departure = booking.departure
    calls = _current_calls_sync(session, departure)
    for sequence, leg in enumerate(legs_along(departure, calls, booking.origin.id, booking.destination.id), start=1):
        session.add(Leg(booking=booking, sequence=sequence, at_risk=False, **leg))


event.listen(Session, "before_flush", _publish_status_changes)


def _rides_sync(session: Session, booking: Booking) -> list[Any]:
    """The rides (departure, board, alight) of a booking made from a quote option, in order; [] otherwise."""
    if booking.id is None:
        return []
    return list(session.execute(
        select(BookingLeg.departure_id, BookingLeg.from_hub_id, BookingLeg.to_hub_id)
        .where(BookingLeg.booking_id == booking.id).order_by(BookingLeg.sequence)
    ))


async def itinerary_legs(session: AsyncSession, booking: Booking) -> None:
    """Give a booking made from a quote option its tracking legs from its stored itinerary (``booking_legs``).

    Called once its ``booking_legs`` are written: the legs the confirmation wrote from
    the main departure alone are replaced by a ride per quoted leg (road pre-carriage,
    then rail…), stop by stop, with each departure's current times. A delay on one ride
    then flags the connection to the next ride's cut-off (``_check_connections``).
    Departures other than the booking's own are read, not locked: their call rows are
    used when they exist, else their schedule (the TRANSPORT path creates them).
    """
    rides = list(await session.execute(
        select(BookingLeg.departure_id, BookingLeg.from_hub_id, BookingLeg.to_hub_id)
        .where(BookingLeg.booking_id == booking.id).order_by(BookingLeg.sequence)
    ))
    if not rides:
        return
    await session.execute(delete(Leg).where(Leg.booking_id == booking.id).execution_options(synchronize_session=False))
    if booking.status not in RIDING:
        return  # legs come with the confirmation (``_add_legs_sync`` reads the rides then)
    rows, sequence = [], 0
    for departure_id, from_hub_id, to_hub_id in rides:
        departure = await get_departure(session, departure_id)
        existing = list(await session.scalars(
            select(DepartureCall).where(DepartureCall.departure_id == departure.id).order_by(DepartureCall.sequence)
        ))
        calls = [_times(c) for c in existing] if existing else schedule(departure)
        hubs = [c.hub_id for c in calls]
        if from_hub_id not in hubs or to_hub_id not in hubs[hubs.index(from_hub_id) + 1:]:
            raise Unprocessable("quote_option_id", f"departure {departure_id} no longer runs the quoted leg")
        for leg in legs_along(departure, calls, from_hub_id, to_hub_id):
            sequence += 1
            rows.append({**leg, "booking_id": booking.id, "sequence": sequence, "at_risk": False})
    await session.execute(insert(Leg), rows)


# --- recording events ------------------------------------------------------------------

@dataclass
class Recorded:
    """What ``record_event`` wrote: the event, and the bookings it moved or left."""

    event: TrackingEvent
    # The organisation of each booking the event moved, one entry per booking.
    moved: list[int]
    events_generated: int
    # EQUIPMENT STUF ACT: bookings of the container that were left as they were, and why,
    # each with its organisation.
    skipped: list[tuple[int, dict]] | None = None

    @property
    def bookings_updated(self) -> int:
        return len(self.moved)

    def seen_by(self, caller: Caller) -> dict[str, Any]:
        """The fan-out as the caller may see it: a partner's report (events:write) neither names
        nor counts other organisations' bookings; the hub operator's shows them all."""
        def visible(organization_id: int) -> bool:
            return caller.is_operator or organization_id == caller.organization_id

        skipped = None if self.skipped is None else [entry for org, entry in self.skipped if visible(org)]
        return {"bookings_updated": sum(1 for org in self.moved if visible(org)), "skipped": skipped}


async def _resolve_location(session: AsyncSession, location: str, among: list[Hub] | None = None) -> Hub:
    """A hub by code or by UN/LOCODE (which must then name one hub, or one of ``among``)."""
    hubs = hubs_named(location, await session.scalars(
        select(Hub).where(or_(Hub.code == location, Hub.un_locode == location))
    ))
    if not hubs:
        raise Unprocessable("location", f"no hub has the code or UN/LOCODE {location}")
    if among is not None:
        allowed = {h.id for h in among}
        hubs = [h for h in hubs if h.id in allowed]
        if not hubs:
            raise Unprocessable("location", f"the departure does not call at {location}")
    if len(hubs) > 1:
        raise Unprocessable("location", f"{location} names several hubs; give the hub code")
    return hubs[0]


def _check_shape(data: EventCreate, now: datetime) -> None:
    if data.code not in CODES[data.event_type]:
        raise Unprocessable(
            "code", f"{data.code} is not a {data.event_type.value} event code; one of {', '.join(CODES[data.event_type])}"
        )
    subject = {
        EventType.TRANSPORT: "departure_id",
        EventType.EQUIPMENT: "container_number",
        EventType.SHIPMENT: "booking_reference",
    }[data.event_type]
    for name in ("departure_id", "container_number", "booking_reference"):
        given = getattr(data, name) is not None
        if name == subject and not given:
            raise Unprocessable(name, f"a {data.event_type.value} event names its {name}")
        if name == "departure_id" and data.event_type is EventType.EQUIPMENT:
            continue  # optional: says which departure's container, when a number is on several
        if name != subject and given:
            raise Unprocessable(name, f"a {data.event_type.value} event names a {subject}, not a {name}")
    if data.event_classifier is EventClassifier.ACT and data.event_datetime > now + CLOCK_SKEW:
        raise Unprocessable("event_datetime", "an actual (ACT) event cannot be in the future")
    if data.event_type is not EventType.SHIPMENT and data.location is None:
        raise Unprocessable("location", f"a {data.event_type.value} event happens at a hub")


async def record_event(session: AsyncSession, caller: Caller, data: EventCreate) -> Recorded:
    """Validate and store one event, then apply it to every booking it concerns."""
    now = utcnow()
    _check_shape(data, now)
    if data.event_type is EventType.TRANSPORT:
        return await _record_transport(session, caller, data, now)
    if data.event_type is EventType.EQUIPMENT:
        return await _record_equipment(session, caller, data, now)
    return await _record_shipment(session, caller, data, now)


def _event_row(data: EventCreate, caller: Caller, now: datetime, hub: Hub | None, **subject: Any) -> TrackingEvent:
    payload = {
        "event_type": data.event_type.value,
        "event_classifier": data.event_classifier.value,
        "code": data.code,
        "event_datetime": data.event_datetime.isoformat(),
        "event_created_at": now.isoformat(),
        "location": hub.code if hub else None,
        "un_locode": hub.un_locode if hub else None,
        "mode": subject.pop("mode", None),
        "departure_id": subject.get("departure_id"),
        "container_number": subject.get("container_number"),
        "booking_reference": subject.pop("booking_reference", None),
        "booking_status": subject.pop("booking_status", None),
        "reason": data.reason,
    }
    return TrackingEvent(
        event_type=data.event_type.value,
        event_classifier=data.event_classifier.value,
        code=data.code,
        event_datetime=data.event_datetime,
        created_at=now,
        hub_id=hub.id if hub else None,
        mode=payload["mode"],
        recorded_by_organization_id=caller.organization_id,
        payload=payload,
        **subject,
    )


async def _record_shipment(session: AsyncSession, caller: Caller, data: EventCreate, now: datetime) -> Recorded:
    """A SHIPMENT event is recorded on the booking as told; it does not move the booking's status."""
    booking = await session.scalar(select(Booking).where(Booking.reference == data.booking_reference))
    if booking is None or (not caller.is_operator and booking.organization_id != caller.organization_id):
        raise Unprocessable("booking_reference", f"unknown booking {data.booking_reference}")
    hub = await _resolve_location(session, data.location) if data.location else None
    row = _event_row(
        data, caller, now, hub, booking_id=booking.id, booking_reference=booking.reference,
        mode=data.mode.value if data.mode else None,
    )
    session.add(row)
    await session.flush()
    await _notify(session, [(row, booking.organization_id)])
    return Recorded(row, [], 0)


async def _record_transport(session: AsyncSession, caller: Caller, data: EventCreate, now: datetime) -> Recorded:
    try:
        departure = await get_departure(session, data.departure_id, lock=True)
    except Exception as error:  # NotFound → the field is wrong, not the path
        if getattr(error, "status", None) == 404:
            raise Unprocessable("departure_id", f"unknown departure {data.departure_id}") from None
        raise
    mode = departure.service.mode
    if data.mode is not None and data.mode.value != mode:
        raise Unprocessable("mode", f"departure {departure.id} runs by {mode}")
    hubs = route_hubs(departure.service)
    hub = await _resolve_location(session, data.location, hubs)
    index = [h.id for h in hubs].index(hub.id)
    kind = "departure" if data.code == "DEPA" else "arrival"
    if kind == "departure" and index == len(hubs) - 1:
        raise Unprocessable("location", f"departure {departure.id} ends at {hub.code}; it does not depart from there")
    if kind == "arrival" and index == 0:
        raise Unprocessable("location", f"departure {departure.id} starts at {hub.code}; it does not arrive there")

    row = _event_row(data, caller, now, hub, departure_id=departure.id, mode=mode)
    session.add(row)

    await ensure_legs(session, departure)
    calls = await ensure_calls(session, departure)
    before = [_times(c) for c in calls]
    call = calls[index]
    field = {"PLN": "planned", "EST": "reported", "ACT": "actual"}[data.event_classifier.value]
    setattr(call, f"{field}_{kind}_at", data.event_datetime)
    after = derive_estimates([_times(c) for c in calls])
    for row_call, derived in zip(calls, after):
        row_call.estimated_arrival_at = derived.estimated_arrival_at
        row_call.estimated_departure_at = derived.estimated_departure_at
    await session.flush()
    await _update_legs(session, departure.id, before, after)

    generated: list[tuple[TrackingEvent | dict, int]] = []
    moved: list[int] = []
    if data.event_classifier is EventClassifier.ACT:
        changes = []
        if kind == "departure":
            reason = f"departed {hub.code} on departure {departure.id}"
            first_legs = select(Leg.booking_id).where(
                Leg.departure_id == departure.id, Leg.from_hub_id == hub.id, Leg.sequence == 1
            )
            changes += await transition_many(session, first_legs, S.IN_TRANSIT, reason)
        else:
            reason = f"arrived at {hub.code} on departure {departure.id}"
            later = aliased(Leg)
            last_legs = select(Leg.booking_id).where(
                Leg.departure_id == departure.id,
                Leg.to_hub_id == hub.id,
                ~exists().where(later.booking_id == Leg.booking_id, later.sequence > Leg.sequence),
            )
            # A booking whose departure was never reported travelled all the same.
            changes += await transition_many(session, last_legs, S.IN_TRANSIT, reason)
            changes += await transition_many(session, last_legs, S.ARRIVED, reason)
        moved = list({c.booking_id: c.organization_id for c in changes}.values())
        generated += [
            (shipment_payload(c.reference, c.current, STATUS_CODES[c.current], data.event_datetime, now, reason)
             | {"_booking_id": c.booking_id}, c.organization_id)
            for c in changes
        ]
    generated += await _check_connections(session, departure.id, now)
    await session.flush()
    rows = await _insert_generated(session, generated)
    await _notify(session, [(row, None), *rows])
    return Recorded(row, moved, len(rows))


# --- equipment events -------------------------------------------------------------------

# Equipment codes Caravan accepts on a consolidation container (the API contract's list).
CONTAINER_CODES = ("GTIN", "GTOT", "STUF", "STRP", "LOAD", "DISC")


async def _container_candidates(session: AsyncSession, number: str, departure_id: int | None) -> list[Any]:
    """Containers numbered ``number``: (container id, departure id, its plan version, the departure's latest version)."""
    latest = (
        select(DeparturePlan.departure_id, func.max(DeparturePlan.version).label("latest"))
        .group_by(DeparturePlan.departure_id)
        .subquery()
    )
    query = (
        select(PlanContainer.id, DeparturePlan.departure_id, DeparturePlan.version, latest.c.latest)
        .join(DeparturePlan, DeparturePlan.id == PlanContainer.plan_id)
        .join(latest, latest.c.departure_id == DeparturePlan.departure_id)
        .where(PlanContainer.container_number == number)
        .order_by(DeparturePlan.departure_id, DeparturePlan.version.desc())
    )
    if departure_id is not None:
        query = query.where(DeparturePlan.departure_id == departure_id)
    return list(await session.execute(query))


async def _resolve_container(session: AsyncSession, data: EventCreate) -> tuple[Departure, int]:
    """The departure and the container (of its CURRENT plan version) an EQUIPMENT event names; its row lock is taken.

    A number found only on superseded plan versions is refused: the container may
    no longer hold what it held then, so the event could reach the wrong bookings.
    """
    number = data.container_number
    rows = await _container_candidates(session, number, data.departure_id)
    current = [r for r in rows if r.version == r.latest]
    if not current:
        if rows:
            older = rows[0]
            raise Unprocessable(
                "container_number",
                f"{number} is on plan version {older.version} of departure {older.departure_id} only; the current "
                f"plan (version {older.latest}) has no container with that number — number it with PATCH /v1/containers/{{id}}",
            )
        where = f" on departure {data.departure_id}" if data.departure_id is not None else ""
        raise Unprocessable("container_number", f"unknown container {number}{where}: no current departure plan has it")
    departures = sorted({r.departure_id for r in current})
    if len(departures) > 1:
        raise Unprocessable(
            "departure_id",
            f"{number} is a container of departures {', '.join(map(str, departures))}; name the departure_id",
        )
    departure = await get_departure(session, departures[0], lock=True)
    # A plan stored while we waited for the lock may have replaced the container.
    again = [r for r in await _container_candidates(session, number, departure.id) if r.version == r.latest]
    if not again:
        raise Unprocessable("container_number", f"{number} is no longer in the current plan of departure {departure.id}")
    return departure, again[0].id


async def _record_equipment(session: AsyncSession, caller: Caller, data: EventCreate, now: datetime) -> Recorded:
    """An EQUIPMENT event on a consolidation container, fanned out to the bookings in it.

    One event row (container number + departure) is written; it appears on the
    timeline of every booking the container holds and in their exporters' feeds. Only
    STUF ACT moves bookings: CARGO_RECEIVED → STUFFED, set-based. Bookings whose cargo
    never reached the CFS (CONFIRMED) are left alone and listed in ``skipped``; later
    statuses (an out-of-order STUF after the departure) are left as they are. STRP
    (stripping at the destination CFS) does not deliver: delivery is its own fact.
    """
    if data.code not in CONTAINER_CODES:
        raise Unprocessable("code", f"{data.code} is not recorded on consolidation containers; one of {', '.join(CONTAINER_CODES)}")
    departure, container_id = await _resolve_container(session, data)
    hub = await _resolve_location(session, data.location)
    row = _event_row(
        data, caller, now, hub, departure_id=departure.id, container_number=data.container_number,
        container_id=container_id, mode=data.mode.value if data.mode else None,
    )
    session.add(row)
    inside = select(PlanAssignment.booking_id).where(PlanAssignment.container_id == container_id)
    audience = set(
        await session.scalars(select(Booking.organization_id).where(Booking.id.in_(inside)).distinct())
    )

    generated: list[tuple[dict, int]] = []
    moved: list[int] = []
    skipped: list[tuple[int, dict]] | None = None
    if data.code == "STUF" and data.event_classifier is EventClassifier.ACT:
        not_received = list(
            await session.execute(
                select(Booking.reference, Booking.status, Booking.organization_id)
                .where(Booking.id.in_(inside), Booking.status == S.CONFIRMED.value)
                .order_by(Booking.reference)
            )
        )
        skipped = [
            (organization_id, {"booking_reference": ref, "status": status,
                               "reason": "its cargo was never received at the CFS; it was not marked STUFFED"})
            for ref, status, organization_id in not_received
        ]
        reason = f"stuffed into {data.container_number} at {hub.code}"
        changes = await transition_many(session, inside, S.STUFFED, reason)
        moved = [c.organization_id for c in changes]
        generated = [
            (shipment_payload(c.reference, c.current, STATUS_CODES[c.current], data.event_datetime, now, reason)
             | {"_booking_id": c.booking_id}, c.organization_id)
            for c in changes
        ]
    await session.flush()
    rows = await _insert_generated(session, generated)
    await _notify(session, [(row, frozenset(audience)), *rows])
    return Recorded(row, moved, len(rows), skipped)


async def _update_legs(session: AsyncSession, departure_id: int, before: list[CallTimes], after: list[CallTimes]) -> None:
    """Copy the calls' changed times onto every leg of the departure: one executemany UPDATE, one row version per leg.

    A leg is a hop between consecutive calls, so (departure, from hub, to hub) names
    all the legs of one hop, whoever's booking they belong to.
    """
    hops = []
    for (old_here, old_there), (here, there) in zip(zip(before, before[1:]), zip(after, after[1:])):
        new = (here.planned_departure_at, here.estimated_departure_at, here.actual_departure_at,
               there.planned_arrival_at, there.estimated_arrival_at, there.actual_arrival_at)
        old = (old_here.planned_departure_at, old_here.estimated_departure_at, old_here.actual_departure_at,
               old_there.planned_arrival_at, old_there.estimated_arrival_at, old_there.actual_arrival_at)
        if new != old:
            hops.append({"d": departure_id, "f": here.hub_id, "t": there.hub_id, "pd": new[0], "ed": new[1], "ad": new[2],
                         "pa": new[3], "ea": new[4], "aa": new[5]})
    if not hops:
        return
    legs = Leg.__table__
    await session.execute(
        legs.update()
        .where(legs.c.departure_id == bindparam("d"), legs.c.from_hub_id == bindparam("f"),
               legs.c.to_hub_id == bindparam("t"))
        .values(planned_departure_at=bindparam("pd"), estimated_departure_at=bindparam("ed"),
                actual_departure_at=bindparam("ad"), planned_arrival_at=bindparam("pa"),
                estimated_arrival_at=bindparam("ea"), actual_arrival_at=bindparam("aa")),
        hops,
    )


async def _check_connections(session: AsyncSession, departure_id: int, now: datetime) -> list[tuple[dict, int]]:
    """Re-check the transfers of bookings riding the departure onto another departure.

    A connection is at risk when the estimated (or actual) arrival at the transfer
    hub is later than the next leg's departure cut-off. Flags the leg; a SHIPMENT
    event RISK (or SAFE, when a later estimate recovers) reports each change.
    """
    other = aliased(Leg)
    transferring = (
        select(Leg.booking_id)
        .join(other, and_(other.booking_id == Leg.booking_id, other.departure_id != Leg.departure_id))
        .where(Leg.departure_id == departure_id)
    )
    rows = list(
        await session.execute(
            select(Leg, Departure.cutoff_at, Booking.reference, Booking.organization_id, Booking.status,
                   Departure.status)
            .join(Departure, Departure.id == Leg.departure_id)
            .join(Booking, Booking.id == Leg.booking_id)
            .where(Leg.booking_id.in_(transferring), Booking.status.in_(RIDING))
            .order_by(Leg.booking_id, Leg.sequence)
            .execution_options(populate_existing=True)
        )
    )
    by_booking: dict[int, list] = defaultdict(list)
    for leg, cutoff, reference, org_id, status, departure_status in rows:
        by_booking[leg.booking_id].append((leg, cutoff, reference, org_id, status, departure_status))
    generated: list[tuple[dict, int]] = []
    for booking_id, legs in by_booking.items():
        was = any(leg.at_risk for leg, *_ in legs)
        reasons = [f"departure {leg.departure_id} of this itinerary was cancelled by the hub"
                   for leg, *_, departure_status in legs if departure_status == DepartureStatus.CANCELLED.value]
        for leg, *_, departure_status in legs:
            if departure_status == DepartureStatus.CANCELLED.value:
                leg.at_risk = True
        for (leg, *_, leg_departure_status), (nxt, next_cutoff, *_) in zip(legs, legs[1:]):
            if leg_departure_status == DepartureStatus.CANCELLED.value:
                continue
            risk = False
            if nxt.departure_id != leg.departure_id and nxt.actual_departure_at is None:
                arrival = leg.actual_arrival_at or leg.estimated_arrival_at
                risk = arrival is not None and arrival > next_cutoff
                if risk:
                    reasons.append(
                        f"estimated arrival at the transfer hub {arrival.isoformat()} is after the cut-off "
                        f"{next_cutoff.isoformat()} of departure {nxt.departure_id}"
                    )
            if leg.at_risk != risk:
                leg.at_risk = risk
        now_at_risk = bool(reasons)
        if now_at_risk != was:
            _, _, reference, org_id, status, _ = legs[0]
            code = AT_RISK_CODE if now_at_risk else RECOVERED_CODE
            reason = "; ".join(reasons) if now_at_risk else "the connection is expected to be made again"
            generated.append(
                (shipment_payload(reference, S(status), code, now, now, reason[:1000]) | {"_booking_id": booking_id},
                 org_id)
            )
    return generated


async def feeder_departure_cancelled(session: AsyncSession, departure_id: int, now: datetime) -> None:
    """The hub cancelled a departure that quoted bookings ride on a feeder leg (their own departure
    is another): their connection is at risk. Each such leg is flagged and the booking reports a
    SHIPMENT event RISK naming the cancelled departure; the booking keeps its space elsewhere."""
    rows = list(
        await session.execute(
            select(Leg, Booking.reference, Booking.organization_id, Booking.status, Booking.departure_id)
            .join(Booking, Booking.id == Leg.booking_id)
            .where(Leg.departure_id == departure_id, Booking.departure_id != departure_id, Booking.status.in_(RIDING))
            .order_by(Leg.booking_id, Leg.sequence)
        )
    )
    generated: list[tuple[dict, int]] = []
    for leg, reference, org_id, status, own_departure_id in rows:
        leg.at_risk = True
        if generated and generated[-1][0]["_booking_id"] == leg.booking_id:
            continue
        reason = (
            f"departure {departure_id}, a feeder leg of this itinerary, was cancelled by the hub; the booking "
            f"keeps its space on departure {own_departure_id}: the cargo needs another way to make the connection"
        )
        generated.append(
            (shipment_payload(reference, S(status), AT_RISK_CODE, now, now, reason) | {"_booking_id": leg.booking_id},
             org_id)
        )
    await _notify(session, await _insert_generated(session, generated))


async def _insert_generated(session: AsyncSession, generated: list[tuple[dict, int]]) -> list[tuple[dict, int]]:
    """Insert generated SHIPMENT events in one statement; returns (row dict with id, audience org)."""
    if not generated:
        return []
    params = []
    for payload, _org in generated:
        payload = dict(payload)
        booking_id = payload.pop("_booking_id")
        params.append(
            {
                "event_type": EventType.SHIPMENT.value,
                "event_classifier": EventClassifier.ACT.value,
                "code": payload["code"],
                "event_datetime": datetime.fromisoformat(payload["event_datetime"]),
                "created_at": datetime.fromisoformat(payload["event_created_at"]),
                "booking_id": booking_id,
                "payload": payload,
            }
        )
    table = TrackingEvent.__table__
    ids = list(await session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), params))
    return [({"id": i, **p}, org) for i, p, (_, org) in zip(ids, params, generated)]


async def _notify(session: AsyncSession, events: list[tuple[Any, int | None]]) -> None:
    """Hand new events to the webhook outbox (same transaction)."""
    from app.webhooks.service import enqueue

    await enqueue(session, events)


# --- reading ------------------------------------------------------------------------------

def event_read(row: TrackingEvent | dict) -> dict:
    if isinstance(row, dict):
        return {"id": row["id"], **row["payload"]}
    return {"id": row.id, **row.payload}


def _riding_departures(booking_ids: Select) -> Select:
    """Departures the given bookings ride (legs of space-holding bookings)."""
    return (
        select(Leg.departure_id)
        .join(Booking, Booking.id == Leg.booking_id)
        .where(Leg.booking_id.in_(booking_ids), Booking.status.in_(RIDING))
    )


def visible_to(caller: Caller):
    """SQL condition: the events the caller may see. Operators see all; an exporter sees the
    events of its own bookings, the TRANSPORT events of departures its bookings ride and the
    EQUIPMENT events of containers holding its bookings (not the other bookings' events)."""
    if caller.is_operator:
        return None
    own = select(Booking.id).where(Booking.organization_id == caller.organization_id)
    return or_(
        TrackingEvent.booking_id.in_(own),
        and_(TrackingEvent.event_type == EventType.TRANSPORT.value, TrackingEvent.departure_id.in_(_riding_departures(own))),
        _equipment_of_containers_holding(PlanAssignment.booking_id.in_(own)),
    )


def _equipment_of_containers_holding(assignment_condition):
    """SQL condition: EQUIPMENT events of containers holding a booking matching ``assignment_condition``
    (a condition on PlanAssignment.booking_id): the very container the event was recorded on. Events
    recorded before that was kept (no container_id) go by departure and number, any plan version."""
    return and_(
        TrackingEvent.event_type == EventType.EQUIPMENT.value,
        or_(
            exists().where(assignment_condition, PlanAssignment.container_id == TrackingEvent.container_id),
            and_(
                TrackingEvent.container_id.is_(None),
                exists().where(
                    assignment_condition,
                    PlanAssignment.container_id == PlanContainer.id,
                    PlanContainer.plan_id == DeparturePlan.id,
                    DeparturePlan.departure_id == TrackingEvent.departure_id,
                    PlanContainer.container_number == TrackingEvent.container_number,
                ),
            ),
        ),
    )


async def list_events(
    session: AsyncSession,
    caller: Caller,
    after_id: int,
    limit: int,
    *,
    booking: str | None = None,
    container: str | None = None,
    departure_id: int | None = None,
    event_type: EventType | None = None,
    since: datetime | None = None,
) -> list[TrackingEvent]:
    """The feed in the order events were recorded (id); filters combine with AND."""
    query = select(TrackingEvent).where(TrackingEvent.id > after_id)
    condition = visible_to(caller)
    if condition is not None:
        query = query.where(condition)
    if booking is not None:
        found = await session.scalar(select(Booking).where(Booking.reference == booking))
        if found is None or (not caller.is_operator and found.organization_id != caller.organization_id):
            return []
        query = query.where(_about_booking(found.id))
    if container is not None:
        query = query.where(TrackingEvent.container_number == container)
    if departure_id is not None:
        query = query.where(TrackingEvent.departure_id == departure_id)
    if event_type is not None:
        query = query.where(TrackingEvent.event_type == event_type.value)
    if since is not None:
        query = query.where(TrackingEvent.created_at >= since)
    return list(await session.scalars(query.order_by(TrackingEvent.id).limit(limit + 1)))


def _about_booking(booking_id: int):
    """Events on the booking, TRANSPORT events of its departures at the hubs its legs touch,
    and EQUIPMENT events of the containers it was planned into."""
    legs_at = select(Leg.departure_id, Leg.from_hub_id, Leg.to_hub_id).where(Leg.booking_id == booking_id).subquery()
    return or_(
        TrackingEvent.booking_id == booking_id,
        and_(
            TrackingEvent.event_type == EventType.TRANSPORT.value,
            exists().where(
                legs_at.c.departure_id == TrackingEvent.departure_id,
                or_(legs_at.c.from_hub_id == TrackingEvent.hub_id, legs_at.c.to_hub_id == TrackingEvent.hub_id),
            ),
        ),
        _equipment_of_containers_holding(PlanAssignment.booking_id == booking_id),
    )


async def tracking_for(session: AsyncSession, caller: Caller, reference: str) -> dict:
    booking = await get_booking(session, caller, reference)
    legs = await booking_legs(session, booking)
    events = list(
        await session.scalars(
            select(TrackingEvent)
            .where(_about_booking(booking.id))
            .order_by(TrackingEvent.event_datetime, TrackingEvent.id)
            .limit(TIMELINE_LIMIT)
        )
    )
    riding = booking.status in RIDING
    last = legs[-1] if legs and riding else None
    return {
        "reference": booking.reference,
        "status": booking.status,
        # End to end: a booking made from a quote rides feeder legs before and after its departure.
        "origin": legs[0].from_hub.code if legs else booking.origin.code,
        "destination": legs[-1].to_hub.code if legs else booking.destination.code,
        "eta": (last.actual_arrival_at or last.estimated_arrival_at or last.planned_arrival_at) if last else None,
        "at_risk": riding and any(leg.at_risk for leg in legs),
        "legs": [
            {
                "sequence": leg.sequence,
                "mode": leg.mode,
                "departure_id": leg.departure_id,
                "from_hub": leg.from_hub.code,
                "to_hub": leg.to_hub.code,
                "planned_departure_at": leg.planned_departure_at,
                "estimated_departure_at": leg.estimated_departure_at,
                "actual_departure_at": leg.actual_departure_at,
                "planned_arrival_at": leg.planned_arrival_at,
                "estimated_arrival_at": leg.estimated_arrival_at,
                "actual_arrival_at": leg.actual_arrival_at,
                "connection_at_risk": leg.at_risk,
            }
            for leg in legs
        ],
        "events": [event_read(e) for e in events],
    }


async def add_ride(session: AsyncSession, booking: Booking, departure_id: int, from_hub_id: int, to_hub_id: int) -> None:
    """Append a ride on another departure to a booking's itinerary (a transfer), as legs.

    The hook for itineraries over several departures (quote options): the booking's
    own departure gives its first legs on confirmation; each further ride is added here.
    """
    departure = await get_departure(session, departure_id, lock=True)
    calls = [_times(c) for c in await ensure_calls(session, departure)]
    hubs = [c.hub_id for c in calls]
    if from_hub_id not in hubs or to_hub_id not in hubs[hubs.index(from_hub_id) + 1:]:
        raise Unprocessable("departure_id", f"departure {departure_id} does not run from the transfer hub to the next")
    last = await session.scalar(select(func.max(Leg.sequence)).where(Leg.booking_id == booking.id)) or 0
    for offset, leg in enumerate(legs_along(departure, calls, from_hub_id, to_hub_id), start=1):
        session.add(Leg(booking_id=booking.id, sequence=last + offset, at_risk=False, **leg))
    await session.flush()
