"""The operator's departures board and what fills a departure: confirmed and waitlisted space,
by TEU (chargeable volume over the hub's CBM per TEU) and by weight, against its capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking
from app.bookings.schemas import SPACE_HOLDING, BookingStatus
from app.network.models import Departure
from app.network.service import container_types_by_code, departures_query


@dataclass(frozen=True)
class Fill:
    """How full a departure is: what confirmed and waitlisted bookings hold, against its capacity."""

    capacity_teu: float
    confirmed_teu: float
    waitlisted_teu: float
    capacity_kg: float
    confirmed_kg: float
    waitlisted_kg: float

    @staticmethod
    def _share(part: float, whole: float) -> float:
        return min(1.0, part / whole) if whole > 0 else 0.0

    @property
    def teu_share(self) -> tuple[float, float]:
        confirmed = self._share(self.confirmed_teu, self.capacity_teu)
        return confirmed, min(1.0 - confirmed, self._share(self.waitlisted_teu, self.capacity_teu))

    @property
    def kg_share(self) -> tuple[float, float]:
        confirmed = self._share(self.confirmed_kg, self.capacity_kg)
        return confirmed, min(1.0 - confirmed, self._share(self.waitlisted_kg, self.capacity_kg))


async def payload_per_teu(session: AsyncSession, departures: list[Departure]) -> dict[int, float]:
    """The most weight a TEU of each departure's line can carry: its container types' best payload per
    TEU (capped by the departure's max payload per container)."""
    codes = sorted({code for d in departures for code in d.service.container_types})
    types = await container_types_by_code(session, codes)
    best: dict[int, float] = {}
    for departure in departures:
        per_teu = [min(t.payload_kg, departure.max_payload_kg or t.payload_kg) / t.teu
                   for code in departure.service.container_types if (t := types.get(code)) is not None]
        best[departure.id] = max(per_teu, default=0.0)
    return best


async def fills(session: AsyncSession, departures: list[Departure], cbm_per_teu: float) -> dict[int, Fill]:
    ids = [d.id for d in departures]
    holding = [s.value for s in SPACE_HOLDING]
    held: dict[tuple[int, str], tuple[float, float]] = {}
    if ids:
        rows = await session.execute(
            select(Booking.departure_id, Booking.status, func.sum(Booking.chargeable_cbm),
                   func.sum(func.coalesce(Booking.measured_weight_kg, Booking.weight_kg)))
            .where(Booking.departure_id.in_(ids), Booking.status.in_([*holding, BookingStatus.WAITLISTED.value]))
            .group_by(Booking.departure_id, Booking.status)
        )
        for departure_id, status, cbm, kg in rows:
            group = "waitlisted" if status == BookingStatus.WAITLISTED.value else "confirmed"
            was = held.get((departure_id, group), (0.0, 0.0))
            held[(departure_id, group)] = (was[0] + float(cbm or 0), was[1] + float(kg or 0))
    per_teu = await payload_per_teu(session, departures)
    result = {}
    for d in departures:
        confirmed = held.get((d.id, "confirmed"), (0.0, 0.0))
        waitlisted = held.get((d.id, "waitlisted"), (0.0, 0.0))
        result[d.id] = Fill(d.capacity_teu, confirmed[0] / cbm_per_teu, waitlisted[0] / cbm_per_teu,
                            d.capacity_teu * per_teu[d.id], confirmed[1], waitlisted[1])
    return result


MODE_ORDER = {"RAIL": 0, "WATER": 1, "ROAD": 2, "AIR": 3}


async def next_departures(session: AsyncSession, departs_after: datetime, departs_before: datetime,
                          per_line: int, line: str | None = None) -> tuple[list[Departure], dict[int, int]]:
    """The first ``per_line`` departures of each line (or of ``line``) leaving in the window, in
    departure order; and how many each line has in the window."""
    window = departures_query(departs_after=departs_after, departs_before=departs_before, service=line)
    rank = func.row_number().over(partition_by=Departure.service_id,
                                  order_by=(Departure.departs_at, Departure.id)).label("rank")
    ranked = window.with_only_columns(Departure.id, rank).subquery()
    first = select(ranked.c.id).where(ranked.c.rank <= per_line)
    rows = list(await session.scalars(select(Departure).where(Departure.id.in_(first))
                                      .order_by(Departure.departs_at, Departure.id)))
    counted = await session.execute(window.with_only_columns(Departure.service_id, func.count(Departure.id))
                                    .group_by(Departure.service_id))
    return rows, {service_id: count for service_id, count in counted}


def by_line(departures: list[Departure], in_window: dict[int, int]) -> list[tuple[str, str, list[Departure], int]]:
    """The departures grouped by line (service), rail lines first, with how many more each line
    has in the window than are shown."""
    lines: dict[str, list[Departure]] = {}
    ordered = sorted(departures, key=lambda d: (MODE_ORDER.get(d.service.mode, 9), d.service.code, d.departs_at))
    for departure in ordered:
        lines.setdefault(departure.service.code, []).append(departure)
    return [(code, rows[0].service.name, rows, in_window.get(rows[0].service_id, len(rows)) - len(rows))
            for code, rows in lines.items()]


def seconds_until(when: datetime, now: datetime) -> float:
    return (when - now).total_seconds()
