"""A quote's emissions: each itinerary's footprint, and the options on the front over price, arrival and CO2e.

One call from the quote (:func:`rank`, over the emissions network built with the search network): the footprints of the itineraries the search found (the
declared gross weight, mass-based allocation), the options no other beats on all of door-to-door
price, arrival and well-to-wheel CO2e, in the order the quote asks for. An option whose footprint
is incomplete (a leg without a distance or a factor) counts as emitting more than any complete one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from app.emissions import Footprint, front
from app.network.emissions import EmissionsNetwork, Ride
from app.routing.search import Itinerary


class QuoteSort(StrEnum):
    PRICE = "price"
    ARRIVAL = "arrival"
    CO2E = "co2e"


def co2e_kg(fp: Footprint) -> float:
    """The option's CO2e for ranking: well-to-wheel kg, or infinity when a leg could not be computed."""
    return fp.total.wtw_kg if fp.complete else math.inf


def rank(
    network: EmissionsNetwork, itineraries: list[Itinerary], weight_kg: float,
    price_of: Callable[[Itinerary], Decimal], sort: QuoteSort,
) -> list[tuple[Itinerary, Footprint]]:
    """The itineraries on the (price, arrival, CO2e) front with their footprints, sorted by ``sort``."""
    if not itineraries:
        return []
    footprints = [
        network.footprint([Ride(leg.service_code, leg.from_hub, leg.to_hub, {}) for leg in it.legs], weight_kg)
        for it in itineraries
    ]
    points = [(price_of(it), it.arrives_at, co2e_kg(fp)) for it, fp in zip(itineraries, footprints)]
    kept = front(points)
    order = {
        QuoteSort.PRICE: lambda i: (points[i][0], points[i][1], points[i][2]),
        QuoteSort.ARRIVAL: lambda i: (points[i][1], points[i][0], points[i][2]),
        QuoteSort.CO2E: lambda i: (points[i][2], points[i][0], points[i][1]),
    }[sort]
    return [(itineraries[i], footprints[i]) for i in sorted(kept, key=order)]
