"""Recording events: TRANSPORT on a departure, EQUIPMENT on a container, SHIPMENT on a booking, each
applied to every booking it concerns with a handful of set-based statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.accounts.service import Caller
from app.bookings.models import Booking
from app.bookings.status import transition_many
from app.consolidation.models import DeparturePlan, PlanAssignment, PlanContainer
from app.db import utcnow
from app.errors import Unprocessable
from app.events.models import TrackingEvent
from app.events.schemas import (
    CODES,
    STATUS_CODES,
    EventClassifier,
    EventType,
)
from app.network.models import Departure, Hub
from app.network.schemas import DepartureStatus
from app.network.service import get_departure, hubs_named, route_hubs
from app.tracking.legs import (
    S,
    call_times,
    derive_estimates,
    ensure_calls,
    ensure_legs,
    update_legs,
)
from app.tracking.models import Leg
from app.tracking.publish import (
    check_connections,
    insert_generated,
    notify,
    reporters_of,
    riders_of,
    shipment_payload,
)
from app.tracking.schemas import EventCreate

# An ACT event may be stamped a little ahead of our clock (the sender's clock drifts).
CLOCK_SKEW = timedelta(minutes=5)


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
    await notify(session, [(row, booking.organization_id)])
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

    if data.event_classifier is EventClassifier.ACT:
        _move_departure(departure, kind, index, len(hubs))
    row = _event_row(data, caller, now, hub, departure_id=departure.id, mode=mode)
    row.payload["departure_status"] = departure.status
    session.add(row)

    await ensure_legs(session, departure)
    calls = await ensure_calls(session, departure)
    before = [call_times(c) for c in calls]
    call = calls[index]
    field = {"PLN": "planned", "EST": "reported", "ACT": "actual"}[data.event_classifier.value]
    setattr(call, f"{field}_{kind}_at", data.event_datetime)
    after = derive_estimates([call_times(c) for c in calls])
    for row_call, derived in zip(calls, after):
        row_call.estimated_arrival_at = derived.estimated_arrival_at
        row_call.estimated_departure_at = derived.estimated_departure_at
    await session.flush()
    await update_legs(session, departure.id, before, after)

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
    generated += await check_connections(session, departure.id, now)
    await session.flush()
    rows = await insert_generated(session, generated)
    await notify(session, [(row, await riders_of(session, departure.id)), *rows])
    return Recorded(row, moved, len(rows))


def _move_departure(departure: Departure, kind: str, index: int, calls: int) -> None:
    """An actual departure or arrival moves the departure's status, never back: it is DEPARTED once the
    train has left a hub (its origin, or a later stop: it left its origin before, reported or not) or
    reached a stop before its last, and ARRIVED once it reached its last stop (an arrival reported before
    the departure included). A cancelled departure keeps its status."""
    status = departure.status
    if status in (DepartureStatus.CANCELLED.value, DepartureStatus.ARRIVED.value):
        return
    if kind == "arrival" and index == calls - 1:
        departure.status = DepartureStatus.ARRIVED.value
    elif status != DepartureStatus.DEPARTED.value:
        departure.status = DepartureStatus.DEPARTED.value


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
    await session.flush()  # the event's own reporter is among the departure's reporters
    audience |= await reporters_of(session, departure.id)

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
    rows = await insert_generated(session, generated)
    await notify(session, [(row, frozenset(audience)), *rows])
    return Recorded(row, moved, len(rows), skipped)

