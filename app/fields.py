"""Bounded field types shared by every domain's schemas.

Every string is length-capped and free of control characters and lone
surrogates (PostgreSQL rejects NUL, and a surrogate cannot be encoded), so no
such input ever reaches the database and turns into a 500; and free of format
characters (Unicode Cf: bidi overrides, zero-width characters, the BOM) and of
the line and paragraph separators U+2028/U+2029, which would let what a reader
of a loading list, a CSV, a webhook or a DCSA event sees differ from what was sent.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Path
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

MAX_ID = 2_147_483_647


def _clean_text(value: str) -> str:
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs" or (category == "Cc" and ch not in "\n\t"):
            raise ValueError("must not contain control characters")
        if category == "Cf":
            # Bidi overrides and isolates (U+202E turns "Rhein\u202eexe.fdp" into "Rheinpdf.exe" on
            # screen), zero-width characters, the BOM: what a reader sees would not be what was sent.
            raise ValueError(f"must not contain invisible or text-direction characters (U+{ord(ch):04X})")
        if category in ("Zl", "Zp"):
            raise ValueError(f"must not contain line or paragraph separators (U+{ord(ch):04X})")
    return value


def text(max_length: int, min_length: int = 1) -> object:
    """A trimmed, bounded, printable string type."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_clean_text),
    ]


Name = text(200)
ShortText = text(64)
LongText = text(1000)

# Codes as stored and answered (canonical) ...
UN_LOCODE_PATTERN = r"^[A-Z]{2}[A-Z2-9]{3}$"
HUB_CODE_PATTERN = r"^[A-Z]{2}[A-Z2-9]{3}(-[A-Z0-9]{2,6})?$"
# ... and as taken: in either case (``dedui``, ``cnwuh-wjs``), answered in capitals.
UN_LOCODE_INPUT_PATTERN = r"^[A-Za-z]{2}[A-Za-z2-9]{3}$"
HUB_CODE_INPUT_PATTERN = r"^[A-Za-z]{2}[A-Za-z2-9]{3}(-[A-Za-z0-9]{2,6})?$"


def _upper(value: str) -> str:
    return value.upper()


UnLocode = Annotated[str, StringConstraints(pattern=UN_LOCODE_INPUT_PATTERN), AfterValidator(_upper)]
HubCode = Annotated[str, StringConstraints(pattern=HUB_CODE_INPUT_PATTERN), AfterValidator(_upper)]
ServiceCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")]
ContainerTypeCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}[A-Z0-9]{2}$")]
HS_CODE_INPUT_PATTERN = r"^[0-9]+([. ][0-9]+)*$"


def _hs_code(value: str) -> str:
    digits = value.replace(".", "").replace(" ", "")
    if not 6 <= len(digits) <= 10:
        raise ValueError("an HS code has 6 to 10 digits (dots and spaces between them are dropped)")
    return digits


HsCode = Annotated[
    str, StringConstraints(max_length=20, pattern=HS_CODE_INPUT_PATTERN), AfterValidator(_hs_code),
    Field(description="6 to 10 digits, as written or with dots or spaces between groups (9505.10, 9505 10 00): "
                      "stored and answered as the digits alone (950510)"),
]


def _un_number(value: str) -> str:
    if value == "0000":
        raise ValueError("0000 is not a UN number")
    return value


UnNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$"), AfterValidator(_un_number)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

DG_CLASSES = (
    "1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "3",
    "4.1", "4.2", "4.3", "5.1", "5.2", "6.1", "6.2", "7", "8", "9",
)


def _dg_class(value: str) -> str:
    if value not in DG_CLASSES:
        raise ValueError(f"not a UN dangerous-goods class; one of {', '.join(DG_CLASSES)}")
    return value


DgClass = Annotated[str, StringConstraints(max_length=3), AfterValidator(_dg_class)]


def dg_class_forbidden(dg_class: str, forbidden: list[str]) -> bool:
    """True when ``dg_class`` is forbidden itself or by its main class (``1.4`` by ``1``)."""
    main = dg_class.split(".")[0]
    return dg_class in forbidden or main in forbidden


CURRENCIES = ("EUR", "USD", "CNY", "GBP", "PLN", "CHF", "HUF", "CZK", "KZT", "UZS", "SEK", "DKK", "NOK", "JPY", "HKD")


def _currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"not a supported ISO 4217 currency; one of {', '.join(CURRENCIES)}")
    return value


Currency = Annotated[str, StringConstraints(max_length=3), AfterValidator(_currency)]


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("not an IANA time zone such as Asia/Shanghai") from None
    return value


TimeZone = Annotated[
    str, StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$"),
    AfterValidator(_timezone),
]


def _sane_year(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value


Timestamp = Annotated[AwareDatetime, AfterValidator(_sane_year)]

# Where a day is what is meant, a date alone is taken too: it means the start of that day in UTC.
# Every hub of the trade lies at UTC or east of it, so that instant is never before the day has
# begun at the hub (a cargo "ready on 2026-12-05" in Wuhan counts as ready from 08:00 there).
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DAY_OR_INSTANT = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
_DAY_START = {**_DAY_OR_INSTANT, "description": "A date-time with its offset, or a date alone for 00:00 UTC that day"}
_DAY_END = {**_DAY_OR_INSTANT, "description": "A date-time with its offset (excluded), or a date alone for the last "
                                              "day included (ends 00:00 UTC the day after)"}


def _day(value: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a calendar date (YYYY-MM-DD)") from None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _day_start(value: Any) -> Any:
    return _day(value) if isinstance(value, str) and _DATE_ONLY.fullmatch(value) else value


def _day_end(value: Any) -> Any:
    return _day(value) + timedelta(days=1) if isinstance(value, str) and _DATE_ONLY.fullmatch(value) else value


# A date-time, or a date alone for the start of that day (00:00 UTC).
DayOrTimestamp = Annotated[
    AwareDatetime, BeforeValidator(_day_start), AfterValidator(_sane_year), WithJsonSchema(_DAY_START)
]
# An exclusive end: a date-time, or a date alone for the last day included (the end is 00:00 UTC the day after).
DayEndOrTimestamp = Annotated[
    AwareDatetime, BeforeValidator(_day_end), AfterValidator(_sane_year), WithJsonSchema(_DAY_END)
]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]


# --- money -----------------------------------------------------------------------------

def money(maximum: str) -> object:
    """An amount of money as taken in a request body: a string (``"118.00"``), never a JSON number
    (a binary float cannot hold every amount in cents), 0 to ``maximum``, at most two decimals."""
    return Annotated[
        Decimal,
        Field(ge=0, le=Decimal(maximum), max_digits=12, decimal_places=2),
        WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$", "examples": ["118.00"],
                        "description": f"An amount as a string, 0 to {maximum}, at most two decimals"},
                       mode="validation"),
    ]


# --- ISO 6346 container numbers -------------------------------------------------

def _iso6346_letter_values() -> dict[str, int]:
    values, n = {}, 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if n % 11 == 0:  # 11, 22, 33 are skipped
            n += 1
        values[letter] = n
        n += 1
    return values


_ISO6346_VALUES = _iso6346_letter_values()
CONTAINER_NUMBER_PATTERN = r"^[A-Z]{3}[UJZ][0-9]{7}$"
# As written on the box and in papers: either case, a space or hyphen after the owner code and before
# the check digit (CSQU 305438 3, csqu-305438-3); stored and answered as CSQU3054383.
CONTAINER_NUMBER_INPUT_PATTERN = r"^[A-Za-z]{3}[UJZujz][ -]?[0-9]{6}[ -]?[0-9]$"


def iso6346_check_digit(first_ten: str) -> int:
    """The check digit of an ISO 6346 container number from its first ten characters."""
    total = sum(
        (_ISO6346_VALUES[ch] if ch.isalpha() else int(ch)) * (2 ** position) for position, ch in enumerate(first_ten)
    )
    return total % 11 % 10


def _container_number(value: str) -> str:
    value = value.replace(" ", "").replace("-", "").upper()
    if iso6346_check_digit(value[:10]) != int(value[10]):
        raise ValueError(f"check digit should be {iso6346_check_digit(value[:10])} (ISO 6346)")
    return value


ContainerNumber = Annotated[
    str, StringConstraints(max_length=13, pattern=CONTAINER_NUMBER_INPUT_PATTERN), AfterValidator(_container_number)
]


# --- request bodies: JSON types as sent ---------------------------------------------------

def _json_kinds(annotation: Any) -> frozenset[str] | None:
    """The JSON scalar kinds a field takes ("bool", "number", "string", "null"), or None when the
    field takes objects or arrays, or something this does not judge (left to the field itself)."""
    if annotation is type(None):
        return frozenset({"null"})
    if annotation is bool:
        return frozenset({"bool"})
    if annotation in (int, float):
        return frozenset({"number"})
    if annotation is Decimal:
        return frozenset({"string"})  # money is sent as a string ("118.00"): a JSON number is refused
    if annotation is AwareDatetime or (isinstance(annotation, type) and issubclass(annotation, (str, datetime, Enum))):
        return frozenset({"string"})
    origin = get_origin(annotation)
    if origin is Annotated:
        return _json_kinds(get_args(annotation)[0])
    if origin in (Union, UnionType):
        kinds = [_json_kinds(arg) for arg in get_args(annotation)]
        return None if any(k is None for k in kinds) else frozenset().union(*kinds)
    return None


def _item_kinds(annotation: Any) -> frozenset[str] | None:
    """For a list field (``list[X]``, perhaps optional), the JSON kinds its items take; else None."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _item_kinds(get_args(annotation)[0])
    if origin in (Union, UnionType):
        found = [kinds for arg in get_args(annotation) if (kinds := _item_kinds(arg)) is not None]
        return found[0] if len(found) == 1 else None
    if origin in (list, tuple, set, frozenset) and len(get_args(annotation)) == 1:
        return _json_kinds(get_args(annotation)[0])
    return None


def _kind_of(value: Any) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else None


_KIND_NAMES = {"bool": "true or false", "number": "a number", "string": "a string", "null": "null"}
# Per model and field (its annotation never changes): the kinds of its value and of its items.
_FIELD_KINDS: dict[tuple[type, str], tuple[frozenset[str] | None, frozenset[str] | None]] = {}


def _wrong_kind(kinds: frozenset[str] | None, value: Any) -> str | None:
    kind = _kind_of(value)
    if kinds is None or kind is None or kind in kinds:
        return None
    expected = " or ".join(_KIND_NAMES[k] for k in sorted(kinds - {"null"})) or "null"
    return f"must be {expected}, not {_KIND_NAMES[kind]}"


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused, and so is a JSON value of the wrong
    kind. Pydantic would otherwise convert ``true`` to departure 1 and ``"yes"`` to True; a
    number sent as a string, or a flag as a number, is the client's mistake to hear about."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _json_kind_as_declared(cls, value: Any, info: ValidationInfo) -> Any:
        key = (cls, info.field_name)
        if key not in _FIELD_KINDS:
            annotation = cls.model_fields[info.field_name].annotation
            _FIELD_KINDS[key] = (_json_kinds(annotation), _item_kinds(annotation))
        kinds, item_kinds = _FIELD_KINDS[key]
        if (wrong := _wrong_kind(kinds, value)) is not None:
            raise ValueError(wrong)
        if item_kinds is not None and isinstance(value, list):
            for index, item in enumerate(value):
                if (wrong := _wrong_kind(item_kinds, item)) is not None:
                    raise ValueError(f"item {index} {wrong}")
        return value
