"""Distances: a leg's stored distance, or great-circle distance between its hubs with a stated detour.

ISO 14083 asks for the distance actually travelled or the shortest feasible distance; where the
operator has set none, Caravan estimates it from the hubs' coordinates: the great circle times a
detour factor per surface mode, and for air the great circle plus 95 km (the EN 16258 / ISO 14083
practice for take-off, landing and routing).
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
# Caravan's stated assumptions, not figures from a published table:
DETOUR_FACTOR = {"RAIL": 1.2, "ROAD": 1.2, "WATER": 1.3}
AIR_ADDED_KM = 95.0


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere of the mean earth radius."""
    for lat in (lat1, lat2):
        if not -90 <= lat <= 90:
            raise ValueError(f"latitude {lat} out of range")
    for lon in (lon1, lon2):
        if not -180 <= lon <= 180:
            raise ValueError(f"longitude {lon} out of range")
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def estimated_km(mode: str, great_circle: float) -> float:
    """The distance a leg of ``mode`` is taken to travel when only the great circle is known."""
    if mode == "AIR":
        return great_circle + AIR_ADDED_KM
    return great_circle * DETOUR_FACTOR[mode]


def leg_distance(
    mode: str, set_km: float | None, start: tuple[float, float] | None, end: tuple[float, float] | None
) -> tuple[float | None, str]:
    """(km, how it was found): ``OPERATOR`` (set on the service), ``GREAT_CIRCLE`` (estimated), or ``UNKNOWN``."""
    if set_km is not None:
        return set_km, "OPERATOR"
    if start is not None and end is not None:
        return estimated_km(mode, great_circle_km(*start, *end)), "GREAT_CIRCLE"
    return None, "UNKNOWN"
