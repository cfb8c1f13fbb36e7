"""First-fit decreasing: the baseline of REFERENCE.md.

Shipments sorted by volume, largest first, each into the first open container
of the cheapest-per-CBM type where it fits without conflict (a new container
of the cheapest-per-CBM type that holds it when none does); then each
container downsized to the cheapest type that holds it.
"""

from __future__ import annotations

from typing import Sequence

from .assemble import build_plan
from .bound import Group
from .core import GroupData
from .model import Container, Instance, Plan


def ffd_group(gd: GroupData, g: Group | None = None) -> list[tuple[int, list[int]]]:
    order = sorted(range(gd.n), key=lambda i: -gd.ships[i].volume_cbm)  # stable: input order on ties
    per_cbm = sorted(range(gd.T), key=lambda t: (gd.cost[t] / gd.types[t].usable_cbm, t))
    bins: list[list] = []  # [type, items, weight, volume]
    w, cap_w, cap_v, occ = gd.w, gd.cap_w, gd.cap_v, gd.occ
    for i in order:
        wi = w[i]
        for b in bins:
            t = b[0]
            if b[2] + wi <= cap_w[t] and b[3] + occ[t][i] <= cap_v[t] and gd.compatible(i, b[1]):
                b[1].append(i)
                b[2] += wi
                b[3] += occ[t][i]
                break
        else:
            for t in per_cbm:
                if gd.fits[t][i]:
                    bins.append([t, [i], wi, occ[t][i]])
                    break
            # an item that fits no type never reaches a group (build_plan drops it)
    out = []
    for t, items, _, _ in bins:
        best = gd.cheapest_type(items, current=t)
        out.append((t if best is None else best, items))
    return out


def first_fit_decreasing(instance: Instance, locked: Sequence[Container] = ()) -> Plan:
    """The REFERENCE.md baseline plan (keeps every rule, rolls over under max_teu)."""
    from .solve import _effective_locked

    return build_plan(instance, _effective_locked(instance, locked), ffd_group)
