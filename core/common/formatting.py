"""Numbers, money and dates in the reader's language (Babel), shared by every layer that
shows money to people: signing pages, web pages and the bot.

Money is an int of base units everywhere; it becomes text only here, with Persian digits for
Persian readers (Babel formats separators per locale but never native digits).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from django.conf import settings

BABEL_LOCALES = {"en": "en", "es": "es", "pt-br": "pt_BR", "ru": "ru", "fa": "fa", "hi": "hi"}
RTL_LANGUAGES = {"fa"}

# Digits people type: Persian (Extended Arabic-Indic), Arabic-Indic and Devanagari.
_NATIVE_DIGITS = "۰۱۲۳۴۵۶۷۸۹" + "٠١٢٣٤٥٦٧٨٩" + "०१२३४५६७८९"
# Typed native digits to ASCII, for reading amounts people type.
TO_ASCII_DIGITS = str.maketrans(_NATIVE_DIGITS, "0123456789" * 3)
# Digits we print: CLDR's default numbering system per language (Persian uses its own digits;
# Hindi's default is Latin digits, which is what Hindi readers see on their phones).
_PRINT_DIGITS = {"fa": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")}


def babel_locale(language: str) -> Locale:
    return Locale.parse(BABEL_LOCALES.get(language, "en"))


def localize_digits(text: str, language: str) -> str:
    table = _PRINT_DIGITS.get(language)
    return text.translate(table) if table else text


@cache
def _money_pattern(language: str):
    pattern = copy.copy(babel_locale(language).decimal_formats[None])
    pattern.frac_prec = (2, settings.STABLE_DECIMALS)  # cents always, base units when present
    return pattern


def format_number(value: int | Decimal, language: str) -> str:
    from babel.numbers import format_decimal

    text = format_decimal(value, locale=babel_locale(language), numbering_system="default")
    return localize_digits(text, language)


def format_amount(units: int, language: str, *, symbol: bool = True) -> str:
    """Base units as the reader writes money: `1,234.50 USDx`, `1.234,50 USDx`, Persian digits
    and signs for Persian readers."""
    value = Decimal(units).scaleb(-settings.STABLE_DECIMALS)
    text = _money_pattern(language).apply(value, babel_locale(language),
                                          numbering_system="default")
    text = localize_digits(text, language)
    return f"{text}\u00a0{settings.STABLE_SYMBOL}" if symbol else text


def format_percent_bps(bps: int, language: str) -> str:
    from babel.numbers import format_percent

    text = format_percent(Decimal(bps) / 10_000, format="#,##0.##%",
                          locale=babel_locale(language), numbering_system="default")
    return localize_digits(text, language)


def format_date(value: dt.date | dt.datetime, language: str) -> str:
    return localize_digits(babel_format_date(value, format="long", locale=babel_locale(language)),
                           language)


def format_time(value: dt.datetime, language: str) -> str:
    """A short clock time in UTC (the zone the bot states next to it)."""
    from babel.dates import format_time as babel_format_time

    return localize_digits(babel_format_time(value, format="short", tzinfo=dt.UTC,
                                             locale=babel_locale(language)), language)
