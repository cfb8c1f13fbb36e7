"""A booking's route as a schematic: the hubs it calls at, in order, on one line, each leg in
its mode's colour, what has been done drawn solid. Drawn from the hubs; no map, no tiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.network.service import list_hubs
from app.network.snapshots import departures_by_id

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
    state: str  # done, moving (departed, not arrived) or ahead


def _calls_of(departure: Any) -> list[str]:
    service = departure.service
    return [service.origin.code, *(stop.hub.code for stop in service.stops), service.destination.code]


def _hops_of_booking(legs: list[dict[str, Any]], departures: dict[int, Any]) -> list[tuple[str, str, str, bool, bool]]:
    """Before tracking has legs: each booking leg's calls from its departure's route, none done yet."""
    hops = []
    for leg in legs:
        calls = _calls_of(departures[leg["departure_id"]]) if leg["departure_id"] in departures else []
        if leg["from_hub"] in calls and leg["to_hub"] in calls:
            path = calls[calls.index(leg["from_hub"]): calls.index(leg["to_hub"]) + 1]
        else:
            path = [leg["from_hub"], leg["to_hub"]]
        hops += [(a, b, leg["mode"], False, False) for a, b in zip(path, path[1:])]
    return hops


async def route_of(session: AsyncSession, legs: list[dict[str, Any]], tracking_legs: list[dict[str, Any]]) -> dict:
    """Calls and segments to draw for a booking: its tracking legs (one per hop, with the actual
    departures and arrivals so far), or before there are any, its legs' calls."""
    if tracking_legs:
        hops = [(leg["from_hub"], leg["to_hub"], leg["mode"], leg.get("actual_departure_at") is not None,
                 leg.get("actual_arrival_at") is not None) for leg in sorted(tracking_legs, key=lambda l: l["sequence"])]
    else:
        hops = _hops_of_booking(legs, await departures_by_id(session, [leg["departure_id"] for leg in legs]))
    names = {hub.code: hub.name for hub in await list_hubs(session, 0, 1000)}
    hubs: list[tuple[str, bool]] = []
    for from_hub, to_hub, _mode, departed, arrived in hops:
        if not hubs or hubs[-1][0] != from_hub:
            hubs.append((from_hub, departed))
        else:
            hubs[-1] = (from_hub, hubs[-1][1] or departed)
        hubs.append((to_hub, arrived))
    step = (WIDTH - 2 * MARGIN) / max(1, len(hubs) - 1)
    calls = [Call(hub, names.get(hub, hub), MARGIN + i * step, reached, i % 2 == 0)
             for i, (hub, reached) in enumerate(hubs)]
    segments = [Segment(calls[i].x, calls[i + 1].x, mode, MODE_COLOURS.get(mode, "#555"),
                        "done" if arrived else "moving" if departed else "ahead")
                for i, (_a, _b, mode, departed, arrived) in enumerate(hops) if i + 1 < len(calls)]
    return {"calls": calls, "segments": segments, "width": WIDTH, "line_y": LINE_Y}
