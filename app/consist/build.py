"""Building a train from a plan's containers, and checking one (pure).

1. Every container within its gross weight on a wagon (``Rules.max_gross_kg_20/40``).
2. 20' containers paired per destination: sorted by gross weight and paired with their neighbour, which
   makes the largest difference within a pair as small as any pairing can; of an odd number, the one left
   alone is chosen so that the pairs stay closest. A pair differs by less than ``pair_max_difference_kg``;
   a single 20' travels only to ``single_20_destinations`` (or when pairing is off).
3. Units (a 40', a pair, a single 20') fill wagons of the first type, ``feu_slots`` units each, grouped by
   destination (so a group can be detached whole), heaviest first within a destination.
4. ``heavy_wagons_off_ends``: wagons are ordered lightest at both ends, heaviest in the middle.
5. The train keeps ``max_feu``, ``max_cargo_kg`` and ``max_train_length_m``.

``build`` raises ``ConsistError`` listing every rule the containers break; ``check`` lists what a consist
breaks (``[]`` when it keeps every rule), so a stored consist is checked before it is stored.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from .model import Box, Consist, ConsistError, LoadedWagon, Rules, Wagon

EPS = 1e-6


def _pairs(boxes: list[Box], rules: Rules) -> tuple[list[tuple[Box, ...]], list[str]]:
    """The 20' of one destination as units (pairs, and at most one single), and the problems."""
    ordered = sorted(boxes, key=lambda b: (-b.gross_kg, b.id))
    destination = ordered[0].destination
    if not rules.pair_20:
        return [(b,) for b in ordered], []
    single: Box | None = None
    if len(ordered) % 2:
        best = None
        for k in range(0, len(ordered), 2):  # leaving out an odd position would split neighbours
            rest = ordered[:k] + ordered[k + 1:]
            worst = max((rest[i].gross_kg - rest[i + 1].gross_kg for i in range(0, len(rest), 2)), default=0.0)
            if best is None or worst < best[0]:
                best = (worst, k)
        single = ordered.pop(best[1])
    units: list[tuple[Box, ...]] = [(ordered[i], ordered[i + 1]) for i in range(0, len(ordered), 2)]
    problems = []
    for a, b in units:
        if a.gross_kg - b.gross_kg >= rules.pair_max_difference_kg - EPS:
            problems.append(f"20' pair {a.id} and {b.id} to {destination}: gross weights {a.gross_kg:g} and "
                            f"{b.gross_kg:g} kg differ by {rules.pair_max_difference_kg:g} kg or more")
    if single is not None:
        if destination not in rules.single_20_destinations:
            problems.append(f"20' {single.id} to {destination} has no partner: a single 20' on a wagon is not "
                            f"accepted there")
        units.append((single,))
    return units, problems


def _ends_light(wagons: list[tuple[Wagon, tuple[Box, ...]]]) -> list[tuple[Wagon, tuple[Box, ...]]]:
    """Lightest wagons at both ends, heaviest in the middle."""
    ordered = sorted(wagons, key=lambda w: (sum(b.gross_kg for b in w[1]), w[1][0].id))
    front: list = []
    back: list = []
    for i, wagon in enumerate(ordered):
        (front if i % 2 == 0 else back).append(wagon)
    return front + back[::-1]


def build(boxes: Sequence[Box], wagon_types: Sequence[Wagon], rules: Rules) -> Consist:
    """The train for ``boxes``; ``ConsistError`` when they break a rule."""
    if not wagon_types:
        raise ConsistError(["no wagon type"])
    wagon = wagon_types[0]
    problems: list[str] = []
    ids = [b.id for b in boxes]
    if len(set(ids)) != len(ids):
        problems.append("a container is listed twice")
    for box in boxes:
        if box.gross_kg > rules.max_gross_kg(box) + EPS:
            problems.append(f"container {box.id}: gross {box.gross_kg:g} kg is more than the "
                            f"{rules.max_gross_kg(box):g} kg a {'20' if box.teu == 1 else '40'}' may weigh on a wagon")
    by_destination: dict[str, list[Box]] = defaultdict(list)
    for box in boxes:
        by_destination[box.destination].append(box)
    units_by_destination: dict[str, list[tuple[Box, ...]]] = {}
    for destination in sorted(by_destination):
        group = by_destination[destination]
        units = [(b,) for b in group if b.teu != 1]
        twenties = [b for b in group if b.teu == 1]
        if twenties:
            pairs, pair_problems = _pairs(twenties, rules)
            units += pairs
            problems += pair_problems
        units.sort(key=lambda u: (-sum(b.gross_kg for b in u), u[0].id))
        units_by_destination[destination] = units
    loaded: list[tuple[Wagon, tuple[Box, ...]]] = []
    for destination, units in units_by_destination.items():
        for i in range(0, len(units), wagon.feu_slots):
            loaded.append((wagon, tuple(b for unit in units[i:i + wagon.feu_slots] for b in unit)))
    if rules.heavy_wagons_off_ends and len(loaded) > 2:
        loaded = _ends_light(loaded)
    consist = Consist(wagons=tuple(LoadedWagon(i + 1, w, bs) for i, (w, bs) in enumerate(loaded)))
    if not problems:
        problems = check(consist, rules, boxes)
    if problems:
        raise ConsistError(problems)
    return Consist(wagons=consist.wagons, warnings=tuple(_warnings(consist)))


def _warnings(consist: Consist) -> list[str]:
    missing = [b.id for b in consist.boxes if not b.number]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        return [f"{len(missing)} container(s) have no container number yet ({shown}): number them before the "
                "consignment notes are issued"]
    return []


def check(consist: Consist, rules: Rules, expected: Sequence[Box] | None = None) -> list[str]:
    """Every rule ``consist`` breaks ([] when none); ``expected``: the containers it must carry, each once."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for wagon in consist.wagons:
        place = f"wagon {wagon.position}"
        teu = sum(b.teu for b in wagon.boxes)
        if not wagon.boxes:
            problems.append(f"{place} is empty")
        if teu > 2 * wagon.wagon.feu_slots:
            problems.append(f"{place} carries {teu} TEU on {wagon.wagon.feu_slots} FEU places")
        if wagon.load_kg > wagon.wagon.payload_kg + EPS:
            problems.append(f"{place} carries {wagon.load_kg:g} kg, more than its {wagon.wagon.payload_kg:g} kg payload")
        twenties = [b for b in wagon.boxes if b.teu == 1]
        if len({b.destination for b in twenties}) > 1:
            problems.append(f"{place}: its 20' containers go to different destinations")
        for box in wagon.boxes:
            seen[box.id] = seen.get(box.id, 0) + 1
            if box.gross_kg > rules.max_gross_kg(box) + EPS:
                problems.append(f"{place}: container {box.id} weighs {box.gross_kg:g} kg gross, more than "
                                f"{rules.max_gross_kg(box):g} kg")
        if rules.pair_20 and len(twenties) == 2:
            a, b = twenties
            if abs(a.gross_kg - b.gross_kg) >= rules.pair_max_difference_kg - EPS:
                problems.append(f"{place}: its 20' pair differs by {abs(a.gross_kg - b.gross_kg):g} kg")
        if rules.pair_20 and len(twenties) % 2 == 1 and twenties[0].destination not in rules.single_20_destinations:
            problems.append(f"{place}: a single 20' to {twenties[0].destination}, where it is not accepted")
    for box_id, count in seen.items():
        if count > 1:
            problems.append(f"container {box_id} is on {count} wagons")
    if expected is not None:
        missing = [b.id for b in expected if b.id not in seen]
        if missing:
            problems.append(f"containers on no wagon: {', '.join(missing)}")
    totals = consist.totals()
    if rules.max_feu is not None and totals["feu"] > rules.max_feu:
        problems.append(f"the train carries {totals['feu']:g} FEU, more than {rules.max_feu}")
    if rules.max_cargo_kg is not None and totals["cargo_kg"] > rules.max_cargo_kg + EPS:
        problems.append(f"the train carries {totals['cargo_kg']:g} kg of cargo, more than {rules.max_cargo_kg:g} kg")
    if rules.max_train_length_m is not None and totals["length_m"] > rules.max_train_length_m + EPS:
        problems.append(f"the train is {totals['length_m']:g} m long, more than {rules.max_train_length_m:g} m")
    if rules.heavy_wagons_off_ends and len(consist.wagons) > 2:
        grosses = sorted(w.gross_kg for w in consist.wagons)
        median = grosses[len(grosses) // 2]
        for end in (consist.wagons[0], consist.wagons[-1]):
            if end.gross_kg > median + EPS:
                problems.append(f"wagon {end.position} at the train's end is heavier than the median wagon")
    return problems
