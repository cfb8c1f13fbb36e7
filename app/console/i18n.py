"""The console's languages: gettext catalogues (Simplified Chinese and English), the choice of one
per request, and numbers, money and dates written the way that language writes them.

The catalogues are the ``.po`` files under ``locale/``, compiled in memory when this module is
imported (Babel), so nothing compiled is committed and ``make run`` needs only Python.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from app.console.words import N_

LOCALE_DIR = Path(__file__).with_name("locale")
# The console's languages, first the default: (cookie/URL code, Babel locale, <html lang>).
LANGUAGES = {"zh": ("zh_Hans", "zh-Hans"), "en": ("en", "en")}
DEFAULT = "zh"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def _compile(code: str) -> Translations:
    with (LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


CATALOGUES: dict[str, Translations] = {lang: _compile(code) for lang, (code, _) in LANGUAGES.items()}
LOCALES: dict[str, Locale] = {lang: Locale.parse(code) for lang, (code, _) in LANGUAGES.items()}


def negotiate(chosen: str | None, accept_language: str) -> str:
    """The chosen language (the switch's cookie) when it is one of ours, else the best of
    Accept-Language (``zh-CN,zh;q=0.9,en;q=0.8``), else Chinese."""
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


@lru_cache(maxsize=8)
def _number_pattern(digits: int) -> numbers.NumberPattern:
    """Grouped thousands and up to ``digits`` decimals (parsed once: a board formats hundreds)."""
    return numbers.parse_pattern(f"#,##0.{'#' * digits}" if digits else "#,##0")


@dataclass(frozen=True)
class Formats:
    """One request's language: its translations, and its way of writing numbers, money and times.

    Times are shown in the hub's time zone (``zone``) unless a page names another."""

    lang: str
    zone: ZoneInfo

    @property
    def locale(self) -> Locale:
        return LOCALES[self.lang]

    @property
    def html_lang(self) -> str:
        return LANGUAGES[self.lang][1]

    def gettext(self, message: str, **values: Any) -> str:
        text = CATALOGUES[self.lang].gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = CATALOGUES[self.lang].ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def number(self, value: float | int | Decimal | None, digits: int = 2) -> str:
        if value is None:
            return "—"
        return _number_pattern(digits).apply(Decimal(str(value)), self.locale)

    def percent(self, value: float | None) -> str:
        return "—" if value is None else numbers.format_percent(value, format="#,##0%", locale=self.locale)

    def money(self, amount: Decimal | float | str | None, currency: str) -> str:
        if amount is None:
            return "—"
        return numbers.format_currency(Decimal(str(amount)), currency, locale=self.locale)

    def datetime(self, value: datetime | None, zone: str | None = None) -> str:
        """Day and minute in the hub's time zone (or ``zone``), with its offset: 2026年12月7日 11:20 GMT+08:00."""
        if value is None:
            return "—"
        tz = ZoneInfo(zone) if zone else self.zone
        local = value.astimezone(tz)
        return (dates.format_date(local, "medium", locale=self.locale) + " "
                + dates.format_time(local, "HH:mm", tzinfo=tz, locale=self.locale) + " "
                + dates.format_datetime(value, "ZZZZ", tzinfo=tz, locale=self.locale))

    def date(self, value: datetime | None, zone: str | None = None) -> str:
        if value is None:
            return "—"
        return dates.format_date(value.astimezone(ZoneInfo(zone) if zone else self.zone), format="medium",
                                 locale=self.locale)

    def duration(self, seconds: float) -> str:
        """A cut-off countdown: "2 days 4 hours" / "2天4小时"; past: the translation of "closed"."""
        if seconds <= 0:
            return self.gettext("closed")
        return dates.format_timedelta(seconds, granularity="minute", threshold=1.5, locale=self.locale)


# Pydantic's error types, in the words of each language (the field is named beside it).
VALIDATION_MESSAGES = {
    "missing": N_("required"),
    "string_too_short": N_("must not be empty"),
    "string_too_long": N_("is too long"),
    "greater_than": N_("must be greater than %(gt)s"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "less_than": N_("must be less than %(lt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "string_pattern_mismatch": N_("is not in the expected form"),
    "enum": N_("is not one of the choices"),
    "too_short": N_("needs at least %(min_length)s"),
    "too_long": N_("takes at most %(max_length)s"),
    "int_parsing": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "extra_forbidden": N_("is not expected"),
}


def validation_message(fmt: Formats, error: dict[str, Any]) -> str:
    """One Pydantic error in the request's language; a message of a domain's own (a ValueError's
    text, a kind refused by the request bodies) stays as the domain wrote it."""
    kind = error.get("type", "")
    if kind in VALIDATION_MESSAGES:
        ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, (int, float, str, Decimal))}
        try:
            return fmt.gettext(VALIDATION_MESSAGES[kind], **ctx)
        except (KeyError, TypeError, ValueError):
            return fmt.gettext(VALIDATION_MESSAGES[kind].split(" %(")[0])
    message = str(error.get("msg", ""))
    return message.removeprefix("Value error, ")
