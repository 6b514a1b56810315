"""Numbers, money and dates in the reader's language, and amounts typed the way they write.

Money is an int of base units everywhere; it becomes text through core.common.formatting
(Babel, in the user's locale, with Persian digits for Persian readers, re-exported here for
the handlers) and text becomes base units only through `parse_amount`, which reads local
separators and Persian, Arabic-Indic and Devanagari digits, and refuses to guess when a typed
amount reads two ways in the user's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings

from core.common.formatting import (  # noqa: F401 (the bot's i18n API, shared with web pages)
    BABEL_LOCALES,
    RTL_LANGUAGES,
    TO_ASCII_DIGITS,
    babel_locale,
    format_amount,
    format_date,
    format_number,
    format_percent_bps,
    localize_digits,
)

# --- reading typed amounts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Amount:
    units: int


@dataclass(frozen=True)
class Ambiguous:
    """The text reads as either amount; the person is asked which one they meant."""

    readings: tuple[int, int]


@dataclass(frozen=True)
class Invalid:
    reason: str  # "not_a_number" | "too_precise" | "not_positive" | "too_large"


ParsedAmount = Amount | Ambiguous | Invalid


def invalid_amount_text(parsed: Invalid | None, example: str) -> str:
    """Why a typed amount was refused, with an example of one that would be read."""
    from django.utils.translation import gettext as _

    reason = parsed.reason if parsed is not None else "not_a_number"
    if reason == "too_precise":
        return _("An amount can have at most six decimal places.")
    if reason == "not_positive":
        return _("The amount must be more than zero.")
    if reason == "too_large":
        return _("That amount is too large.")
    return _("I could not read that as an amount. Type only the number, for example "
             "%(example)s.") % {"example": example}

# How a lone "." or "," followed by exactly three digits ("1.234", "1,234") reads in each
# language: as a decimal point, as a thousands separator, or either (then we ask). In Spain
# "1.234" is a thousand; in Mexico it is one and a bit — both write Spanish.
_LONE_SEPARATOR = {
    "en": {".": "decimal", ",": "group"},
    "hi": {".": "decimal", ",": "group"},
    "pt-br": {".": "group", ",": "decimal"},
    "es": {".": "ask", ",": "ask"},
    "ru": {".": "ask", ",": "decimal"},
    "fa": {".": "ask", ",": "ask"},
}
_MAX_UNITS = 10**15  # a billion tokens: beyond anything a person means to type here
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_SYMBOLS = re.compile(r"(?i)usdx|usdt|usdc|usd|\$|dollars?")
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+$|^\d{1,2}(?:,\d{2})*,\d{3}$")


def parse_amount(text: str, language: str) -> ParsedAmount:
    """Read an amount of the stable token as typed in `language` into base units."""
    raw = _SYMBOLS.sub("", text.translate(TO_ASCII_DIGITS)).strip()
    raw = raw.replace("\u066b", ".d").replace("\u066c", ",g")  # Persian decimal and group signs
    raw = raw.replace("\u060c", ",")  # Arabic comma
    if raw.startswith(("-", "\u2212")):
        return Invalid("not_positive")
    if _SPACES.search(raw):
        # Spaces only ever group thousands ("1 234 567,5").
        if not re.fullmatch(r"\d{1,3}(?:[\s\u00a0\u202f\u2009']\d{3})+(?:[.,]\d+)?", raw):
            return Invalid("not_a_number")
        raw = _SPACES.sub("", raw)
    if ".d" in raw or ",g" in raw:
        # Persian signs say outright which is which.
        integer, _, fraction = raw.replace(",g", "").partition(".d")
        return _from_parts(integer, fraction)
    if not re.fullmatch(r"[\d.,]+", raw) or not re.search(r"\d", raw):
        return Invalid("not_a_number")
    dots, commas = raw.count("."), raw.count(",")
    if dots and commas:
        decimal_sign = "." if raw.rfind(".") > raw.rfind(",") else ","
        group_sign = "," if decimal_sign == "." else "."
        integer, _, fraction = raw.rpartition(decimal_sign)
        if raw.count(decimal_sign) > 1 or not _valid_grouping(integer, group_sign):
            return Invalid("not_a_number")
        return _from_parts(integer.replace(group_sign, ""), fraction)
    if not dots and not commas:
        return _from_parts(raw, "")
    sign = "." if dots else ","
    if raw.count(sign) > 1:
        # "1.234.567": only grouping repeats.
        if not _valid_grouping(raw, sign):
            return Invalid("not_a_number")
        return _from_parts(raw.replace(sign, ""), "")
    integer, _, fraction = raw.partition(sign)
    if not integer:
        return _from_parts("0", fraction)
    if len(fraction) != 3 or not _valid_grouping(raw, sign):
        return _from_parts(integer, fraction)  # "12,5", "12.50", "1234.567": a decimal sign
    meaning = _LONE_SEPARATOR.get(language, _LONE_SEPARATOR["en"])[sign]
    as_decimal, as_group = _from_parts(integer, fraction), _from_parts(integer + fraction, "")
    if meaning == "decimal":
        return as_decimal
    if meaning == "group":
        return as_group
    if isinstance(as_decimal, Amount) and isinstance(as_group, Amount):
        return Ambiguous((as_group.units, as_decimal.units))
    return as_group


def _valid_grouping(integer: str, sign: str) -> bool:
    """Western (1,234,567) or Indian (12,34,567) grouping, with either sign."""
    return bool(_GROUPED.match(integer.replace(sign, ",")))


def _from_parts(integer: str, fraction: str) -> ParsedAmount:
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        return Invalid("not_a_number")
    if len(fraction) > settings.STABLE_DECIMALS:
        return Invalid("too_precise")
    try:
        value = Decimal(f"{integer}.{fraction or '0'}")
    except InvalidOperation:
        return Invalid("not_a_number")
    units = int(value.scaleb(settings.STABLE_DECIMALS))
    if units <= 0:
        return Invalid("not_positive")
    if units > _MAX_UNITS:
        return Invalid("too_large")
    return Amount(units)
