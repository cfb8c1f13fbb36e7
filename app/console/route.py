"""A booking's route as a schematic: the hubs it calls at, in order, on one line, each leg in
its mode's colour, what has been done drawn solid. Drawn from the hubs; no map, no tiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.network.service import departures_by_id, list_hubs

MODE_COLOURS = {"RAIL": "#0b6e99", "WATER": "#2a9d8f", "AIR": "#8e6bbf", "ROAD": "#b7791f"}
WIDTH, MARGIN, LINE_Y = 960, 60, 70


@dataclass(frozen=True)
class Call:
    hub: str
    name: str
    x: float
    reached: bool
    label_above: bool


@dataclass(frozen=True)
class Segment:
    x1: float
    x2: float
    mode: str
    colour: str
    done: bool


def _calls_of(departure: Any) -> list[str]:
    service = departure.service
    return [service.origin.code, *(stop.hub.code for stop in service.stops), service.destination.code]


async def route_of(session: AsyncSession, legs: list[dict[str, Any]], tracking_legs: list[dict[str, Any]]) -> dict:
    """Calls and segments to draw for a booking's legs (as read), with how far tracking says it got."""
    departures = await departures_by_id(session, [leg["departure_id"] for leg in legs])
    names = {hub.code: hub.name for hub in await list_hubs(session, 0, 1000)}
    progress = {leg["sequence"]: leg for leg in tracking_legs}
    hubs: list[tuple[str, bool]] = []
    modes: list[tuple[str, bool]] = []
    for leg in legs:
        calls = _calls_of(departures[leg["departure_id"]]) if leg["departure_id"] in departures else []
        if leg["from_hub"] in calls and leg["to_hub"] in calls:
            path = calls[calls.index(leg["from_hub"]): calls.index(leg["to_hub"]) + 1]
        else:
            path = [leg["from_hub"], leg["to_hub"]]
        seen = progress.get(leg["sequence"], {})
        departed = seen.get("actual_departure_at") is not None
        arrived = seen.get("actual_arrival_at") is not None
        for position, hub in enumerate(path):
            if hubs and hubs[-1][0] == hub:
                hubs[-1] = (hub, hubs[-1][1] or departed)
                continue
            last = position == len(path) - 1
            hubs.append((hub, arrived if last else (departed if position == 0 else arrived)))
            if position > 0:
                modes.append((leg["mode"], arrived))
    step = (WIDTH - 2 * MARGIN) / max(1, len(hubs) - 1)
    calls = [Call(hub, names.get(hub, hub), MARGIN + i * step, reached, i % 2 == 0)
             for i, (hub, reached) in enumerate(hubs)]
    segments = [Segment(calls[i].x, calls[i + 1].x, mode, MODE_COLOURS.get(mode, "#555"), done)
                for i, (mode, done) in enumerate(modes) if i + 1 < len(calls)]
    return {"calls": calls, "segments": segments, "width": WIDTH, "line_y": LINE_Y,
            "modes": sorted({m for m, _ in modes}), "colours": MODE_COLOURS}
