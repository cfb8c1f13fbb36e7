"""Which dangerous-goods classes may not share a container: data after the IMDG Code's
segregation table (7.2.4), and the mapping of a booking's classes to the planner's one key.

IMDG codes: ``1`` away from, ``2`` separated from, ``3`` separated by a complete
compartment or hold, ``4`` separated longitudinally, ``X`` no general
segregation (check the Dangerous Goods List), ``*`` explosives among themselves
(compatibility groups, 7.2.7). In a closed cargo transport unit (7.3.4) goods
that need ``2``–``4`` may never travel together, and ``1`` (away from) only with
the competent authority's approval — Caravan does not ask for one, so every
numbered code means "not in the same container". ``*``: the booking does not
carry compatibility groups, so different explosive entries are kept apart too.
"""

from __future__ import annotations

from itertools import combinations_with_replacement

# Rows and columns in the IMDG table's order. "1.1" stands for 1.1/1.2/1.5,
# "1.3" for 1.3/1.6.
_HEAD = ("1.1", "1.3", "1.4", "2.1", "2.2", "2.3", "3", "4.1", "4.2", "4.3", "5.1", "5.2", "6.1", "6.2", "7", "8", "9")
_TABLE = {
    "1.1": "* * * 4 2 2 4 4 4 4 4 4 2 4 2 4 X",
    "1.3": "* * * 4 2 2 4 3 3 4 4 4 2 4 2 2 X",
    "1.4": "* * * 2 1 1 2 2 2 2 2 2 X 4 2 2 X",
    "2.1": "4 4 2 X X X 2 1 2 X 2 2 X 4 2 1 X",
    "2.2": "2 2 1 X X X 1 X 1 X X 1 X 2 1 X X",
    "2.3": "2 2 1 X X X 2 X 2 X X 2 X 2 1 X X",
    "3":   "4 4 2 2 1 2 X X 2 1 2 2 X 3 2 X X",
    "4.1": "4 3 2 1 X X X X 1 X 1 2 X 3 2 1 X",
    "4.2": "4 3 2 2 1 2 2 1 X 1 2 2 1 3 2 1 X",
    "4.3": "4 4 2 X X X 1 X 1 X 2 2 X 2 2 1 X",
    "5.1": "4 4 2 2 X X 2 1 2 2 X 2 1 3 1 2 X",
    "5.2": "4 4 2 2 1 2 2 2 2 2 2 X 1 3 2 2 X",
    "6.1": "2 2 X X X X X X 1 X 1 1 X 1 X X X",
    "6.2": "4 4 4 4 2 2 3 3 3 2 3 3 1 X 3 3 X",
    "7":   "2 2 2 2 1 1 2 2 2 2 1 2 X 3 X 2 X",
    "8":   "4 2 2 1 X X X 1 1 1 2 2 X 3 2 X X",
    "9":   "X X X X X X X X X X X X X X X X X",
}

# The classes of app.fields.DG_CLASSES mapped to the table's rows ("1": a class-1
# entry without a division is treated as the strictest, 1.1).
_ROW = {"1": "1.1", "1.1": "1.1", "1.2": "1.1", "1.5": "1.1", "1.3": "1.3", "1.6": "1.3", "1.4": "1.4"}


def segregation_code(a: str, b: str) -> str:
    """The IMDG segregation code between classes ``a`` and ``b`` (symmetric)."""
    row, col = _ROW.get(a, a), _ROW.get(b, b)
    return _TABLE[row].split()[_HEAD.index(col)]


def incompatible(a: str, b: str) -> bool:
    """True when goods of classes ``a`` and ``b`` may not share a container."""
    code = segregation_code(a, b)
    if code == "*":
        return a != b  # different explosive entries: no compatibility groups known, keep apart
    return code != "X"


def dg_key(classes: list[str] | tuple[str, ...]) -> str | None:
    """The planner's one ``dg_class`` for a booking: its class, or ``"3+8"`` for several.

    A synthetic key conflicts with every key that conflicts with any of its classes
    (see ``incompatible_pairs``), so the planner keeps exactly the IMDG separation.
    """
    if not classes:
        return None
    return "+".join(sorted(set(classes)))


def internal_conflict(classes: list[str] | tuple[str, ...]) -> tuple[str, str] | None:
    """Two of one booking's classes that may not travel together (or None)."""
    ordered = sorted(set(classes))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if incompatible(a, b):
                return a, b
    return None


def incompatible_pairs(keys: set[str]) -> list[list[str]]:
    """The planner's ``dg_incompatible`` pairs among the keys in use (a key may pair with itself)."""
    pairs = []
    for k1, k2 in combinations_with_replacement(sorted(keys), 2):
        c1, c2 = k1.split("+"), k2.split("+")
        if any(incompatible(a, b) for a in c1 for b in c2):
            pairs.append([k1, k2])
    return pairs
