"""Rate cards in the database: versions per service, and the terms that price a departure.

A service without a card is priced by its own ``currency/rate_per_cbm/minimum_charge``
fields and no surcharges (the foundation's rule), so nothing changes until an
operator publishes a card.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import BookingLeg
from app.cargo import END_TERMS, RateTerms
from app.db import DriverStatement, utcnow
from app.errors import NotFound
from app.network.models import Departure, Service
from app.network.snapshots import DepartureForBooking
from app.routing.models import RateCard
from app.routing.schemas import RateCardCreate


async def service_by_code(session: AsyncSession, code: str) -> Service:
    """The service of a path, or 404."""
    service = await session.scalar(select(Service).where(Service.code == code))
    if service is None:
        raise NotFound(f"service {code} not found")
    return service


async def create_rate_card(session: AsyncSession, service: Service, data: RateCardCreate) -> RateCard:
    """Publish the next version of the service's card (the service row is locked so versions never clash)."""
    await session.execute(select(Service.id).where(Service.id == service.id).with_for_update())
    latest = await session.scalar(select(func.max(RateCard.version)).where(RateCard.service_id == service.id))
    card = RateCard(
        service_id=service.id,
        version=(latest or 0) + 1,
        currency=data.currency,
        rate_per_cbm=data.rate_per_cbm,
        minimum_charge=data.minimum_charge,
        dg_surcharge_per_cbm=data.dg_surcharge_per_cbm,
        reefer_surcharge_per_cbm=data.reefer_surcharge_per_cbm,
        non_stackable_surcharge_per_m2=data.non_stackable_surcharge_per_m2,
        **{name: getattr(data, name) for name in END_TERMS},
        valid_from=data.valid_from or utcnow(),
        valid_to=data.valid_to,
        note=data.note,
    )
    session.add(card)
    await session.flush()
    return card


async def list_rate_cards(session: AsyncSession, service: Service, after_id: int, limit: int) -> list[RateCard]:
    rows = await session.scalars(
        select(RateCard)
        .where(RateCard.service_id == service.id, RateCard.id > after_id)
        .order_by(RateCard.id)
        .limit(limit + 1)
    )
    return list(rows)


def rate_card_read(card: RateCard, service_code: str) -> dict:
    return {
        "id": card.id,
        "service": service_code,
        "version": card.version,
        "currency": card.currency,
        "rate_per_cbm": card.rate_per_cbm,
        "minimum_charge": card.minimum_charge,
        "dg_surcharge_per_cbm": card.dg_surcharge_per_cbm,
        "reefer_surcharge_per_cbm": card.reefer_surcharge_per_cbm,
        "non_stackable_surcharge_per_m2": card.non_stackable_surcharge_per_m2,
        **{name: getattr(card, name) for name in END_TERMS},
        "valid_from": card.valid_from,
        "valid_to": card.valid_to,
        "note": card.note,
        "created_at": card.created_at,
    }


def terms_of_card(card: RateCard) -> RateTerms:
    return RateTerms(
        currency=card.currency,
        rate_per_cbm=card.rate_per_cbm,
        minimum_charge=card.minimum_charge,
        dg_surcharge_per_cbm=card.dg_surcharge_per_cbm,
        reefer_surcharge_per_cbm=card.reefer_surcharge_per_cbm,
        non_stackable_surcharge_per_m2=card.non_stackable_surcharge_per_m2,
        rate_card_id=card.id,
        rate_card_version=card.version,
        **{name: getattr(card, name) for name in END_TERMS},
    )


def service_terms(service: Service) -> RateTerms:
    """The fallback when no card covers a departure: the service's own fields, no surcharges."""
    return RateTerms(currency=service.currency, rate_per_cbm=service.rate_per_cbm, minimum_charge=service.minimum_charge)


def pick_card(cards: Iterable[RateCard], at: datetime) -> RateCard | None:
    """The highest version whose window [valid_from, valid_to) holds ``at``."""
    best = None
    for card in cards:
        if card.valid_from <= at and (card.valid_to is None or at < card.valid_to):
            if best is None or card.version > best.version:
                best = card
    return best


_CARD_TERMS = DriverStatement(
    select(RateCard.currency, RateCard.rate_per_cbm, RateCard.minimum_charge, RateCard.dg_surcharge_per_cbm,
           RateCard.reefer_surcharge_per_cbm, RateCard.non_stackable_surcharge_per_m2, RateCard.id, RateCard.version,
           *(getattr(RateCard, name) for name in END_TERMS))
    .where(
        RateCard.service_id == bindparam("service_id"),
        RateCard.valid_from <= bindparam("departs_at"),
        or_(RateCard.valid_to.is_(None), RateCard.valid_to > bindparam("departs_at")),
    )
    .order_by(RateCard.version.desc())
    .limit(1)
)


def _card_columns() -> list:
    return [RateCard.currency, RateCard.rate_per_cbm, RateCard.minimum_charge, RateCard.dg_surcharge_per_cbm,
            RateCard.reefer_surcharge_per_cbm, RateCard.non_stackable_surcharge_per_m2, RateCard.id, RateCard.version,
            *(getattr(RateCard, name) for name in END_TERMS)]


# The card covering the departure (the highest version valid when it leaves), joined to its locked row.
_candidate = RateCard.__table__.alias("candidate")
_COVERING_CARD = (
    select(_candidate.c.id)
    .where(_candidate.c.service_id == Departure.service_id, _candidate.c.valid_from <= Departure.departs_at,
           or_(_candidate.c.valid_to.is_(None), _candidate.c.valid_to > Departure.departs_at))
    .order_by(_candidate.c.version.desc())
    .limit(1)
    .correlate(Departure)
    .scalar_subquery()
)
_DEPARTURE_WITH_CARD = DepartureForBooking(RateCard, RateCard.id == _COVERING_CARD, _card_columns())
_CardRow = namedtuple("_CardRow", [column.key for column in _card_columns()])  # type: ignore[misc]


async def departure_with_terms(session: AsyncSession, departure_id: int) -> tuple[Departure, RateTerms]:
    """The departure under its row lock (``network.snapshots.departure_for_booking``) and the terms that price it
    (``terms_for_departure``), read in one statement."""
    departure, card = await _DEPARTURE_WITH_CARD(session, departure_id)
    row = _CardRow(*card)
    return departure, (terms_of_card(row) if row.id is not None else service_terms(departure.service))


async def terms_for_departure(session: AsyncSession, service: Service, departs_at: datetime) -> RateTerms:
    """The terms that price a departure of ``service`` leaving at ``departs_at``."""
    rows = await _CARD_TERMS.named_rows(session, {"service_id": service.id, "departs_at": departs_at})
    return terms_of_card(rows[0]) if rows else service_terms(service)


async def cards_by_service(session: AsyncSession, service_ids: list[int]) -> dict[int, list[RateCard]]:
    """Every card of the given services (cards are few: a handful of versions per service)."""
    result: dict[int, list[RateCard]] = {sid: [] for sid in service_ids}
    if service_ids:
        for card in await session.scalars(select(RateCard).where(RateCard.service_id.in_(service_ids))):
            result[card.service_id].append(card)
    return result


async def held_legs(session: AsyncSession, booking_id: int) -> list[BookingLeg]:
    """The legs of a booking made from a quote (empty for a booking of one departure)."""
    rows = await session.scalars(
        select(BookingLeg).where(BookingLeg.booking_id == booking_id).order_by(BookingLeg.sequence)
    )
    return list(rows)
