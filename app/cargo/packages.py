"""Kinds of package: Caravan's names and the UN/ECE Recommendation 21 codes partners send (pure).

Partner systems (a forwarder's TMS, DCSA Booking's ``outerPackaging.packageCode``) name a
package by its two-character Recommendation 21 code; Caravan's own API has named it by word
since its start. Both are taken; a line is stored and answered by its name, and answered
with its code beside it (``package_code``).
"""

from __future__ import annotations

# Each name's code (UN/ECE Recommendation 21, Annex VI).
CODE_OF_NAME: dict[str, str] = {
    "CARTON": "CT",
    "PALLET": "PX",
    "CRATE": "CR",
    "CASE": "CS",
    "DRUM": "DR",
    "BAG": "BG",
    "BALE": "BL",  # BL compressed, BN non-compressed: both are taken as BALE and answered BL
    "ROLL": "RO",
    "COIL": "CL",
    "PACKAGE": "PK",
    "PIECE": "PP",
    "BOX": "BX",
    "SACK": "SA",
}

# Each code taken, and the name it stands for.
NAME_OF_CODE: dict[str, str] = {code: name for name, code in CODE_OF_NAME.items()} | {"BN": "BALE"}


def package_name(value: str) -> str:
    """The name a package type is stored under: a Recommendation 21 code (either case) becomes its
    name; anything else is returned as given, for the caller's own check."""
    return NAME_OF_CODE.get(value.strip().upper(), value) if len(value.strip()) == 2 else value


def package_code(name: str) -> str:
    """The Recommendation 21 code of a package type's name."""
    return CODE_OF_NAME[name]
