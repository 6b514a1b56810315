"""Every text in every language, and numbers read and written the way each language does."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import (
    Ambiguous,
    Amount,
    Invalid,
    format_amount,
    format_date,
    localize_digits,
    parse_amount,
)

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code, _ in settings.LANGUAGES]
FOLDERS = {"en": "en", "es": "es", "pt-br": "pt_BR", "ru": "ru", "fa": "fa", "hi": "hi"}
KEYWORDS = {"_": None, "gettext": None, "gettext_lazy": None, "ngettext": (1, 2),
            "ngettext_lazy": (1, 2), "pgettext": ((1, "c"), 2)}


SOURCE_FOLDERS = ["bot", "core"]
TEMPLATE_FOLDERS = ["bot/templates", "core/templates", "core/*/templates"]

TRANSLATE_TAG = re.compile(
    r"""{%\s*(?:translate|trans)\s+(?P<quote>["'])(?P<text>.*?)(?P=quote)[^%]*%}""", re.DOTALL)
BLOCK_TAG = re.compile(
    r"{%\s*(?:blocktranslate|blocktrans)\b(?P<options>[^%]*)%}(?P<body>.*?)"
    r"{%\s*end(?:blocktranslate|blocktrans)\s*%}", re.DOTALL)
PLURAL_TAG = re.compile(r"{%\s*plural\s*%}")
TEMPLATE_VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")


def block_message(body: str, trimmed: bool) -> str:
    """The msgid Django looks up for a blocktranslate body: {{ name }} becomes %(name)s."""
    if trimmed:
        body = " ".join(line.strip() for line in body.strip().splitlines() if line.strip())
    return TEMPLATE_VARIABLE.sub(r"%(\1)s", body.replace("%", "%%"))


def template_messages(text: str) -> set:
    """Messages of {% translate %} and {% blocktranslate %} (babel has no Django extractor)."""
    found = {match["text"] for match in TRANSLATE_TAG.finditer(text)}
    for match in BLOCK_TAG.finditer(text):
        trimmed = "trimmed" in match["options"].split()
        parts = [block_message(part, trimmed) for part in PLURAL_TAG.split(match["body"], 1)]
        found.add(parts[0] if len(parts) == 1 else tuple(parts))
    return found


def source_messages() -> set:
    found = set()
    for folder in SOURCE_FOLDERS:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
                str(ROOT / folder), method_map=[("**.py", "python")], keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else tuple(message))
    for pattern in TEMPLATE_FOLDERS:
        for folder in ROOT.glob(pattern):
            for template in sorted(folder.rglob("*.html")) + sorted(folder.rglob("*.txt")):
                found |= template_messages(template.read_text(encoding="utf-8"))
    return found


def test_the_template_extractor_reads_django_tags():
    text = ('{% translate "Plain" %}{% trans \'Short\' as short %}'
            '{% blocktranslate with expires=x|date:"DATETIME_FORMAT" %}Ends at {{ expires }} '
            '(100%){% endblocktranslate %}'
            '{% blocktrans count n=items|length %}{{ n }} item{% plural %}{{ n }} items'
            '{% endblocktrans %}')
    assert template_messages(text) == {"Plain", "Short", "Ends at %(expires)s (100%%)",
                                       ("%(n)s item", "%(n)s items")}
    assert "This link works once and expires at %(expires)s (UTC)." in source_messages()


def catalog(language: str):
    path = ROOT / "locale" / FOLDERS[language] / "LC_MESSAGES" / "django.po"
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_translates_every_message_of_the_bot(language):
    messages = catalog(language)
    known = {message.id if isinstance(message.id, str) else tuple(message.id)
             for message in messages if message.id}
    missing = source_messages() - known
    assert not missing, f"{language} lacks {sorted(map(str, missing))} (run makemessages)"
    untranslated = [message.id for message in messages if message.id and (
        not message.string or not all(message.string if isinstance(message.string, tuple)
                                      else [message.string]))]
    fuzzy = [message.id for message in messages if message.id and message.fuzzy]
    assert not untranslated, f"{language} has untranslated messages: {untranslated}"
    assert not fuzzy, f"{language} has fuzzy messages: {fuzzy}"
    assert not messages.fuzzy, f"the {language} catalog header is marked fuzzy"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for message in catalog(language):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        expected = set(placeholder.findall(ids[-1]))
        for string in strings:
            assert set(placeholder.findall(string)) == expected, (language, message.id, string)


def test_persian_reads_right_to_left():
    with translation.override("fa"):
        assert translation.get_language_bidi()
    with translation.override("hi"):
        assert not translation.get_language_bidi()


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "1,234,567.50\u00a0USDx"), ("es", "1.234.567,50\u00a0USDx"),
    ("pt-br", "1.234.567,50\u00a0USDx"), ("ru", "1\u00a0234\u00a0567,50\u00a0USDx"),
    ("fa", "۱٬۲۳۴٬۵۶۷٫۵۰\u00a0USDx"), ("hi", "12,34,567.50\u00a0USDx"),
])
def test_money_is_written_the_way_each_language_writes_it(language, expected):
    assert format_amount(1_234_567_500_000, language) == expected


def test_dates_are_written_in_the_readers_language():
    import datetime as dt

    day = dt.date(2026, 3, 5)
    assert format_date(day, "en") == "March 5, 2026"
    assert format_date(day, "ru") == "5 марта 2026\u202fг."
    assert format_date(day, "fa") == "۵ مارس ۲۰۲۶"


@pytest.mark.parametrize(("language", "typed", "units"), [
    ("en", "1,234.56", 1_234_560_000), ("en", "250", 250_000_000), ("en", "$ 99.9", 99_900_000),
    ("es", "1.234,56", 1_234_560_000), ("es", "12,5", 12_500_000),
    ("pt-br", "1.234", 1_234_000_000), ("pt-br", "1.234,5 USDx", 1_234_500_000),
    ("ru", "1 234,56", 1_234_560_000), ("ru", "1\u00a0234\u00a0567", 1_234_567_000_000),
    ("ru", "1,234", 1_234_000),
    ("fa", "۱۲۳۴٫۵", 1_234_500_000), ("fa", "۱٬۲۳۴", 1_234_000_000), ("fa", "٢٥٠", 250_000_000),
    ("hi", "१,२३,४५६.७८", 123_456_780_000), ("hi", "12,34,567", 1_234_567_000_000),
    ("hi", "१२५", 125_000_000),
])
def test_amounts_typed_in_each_language_are_read(language, typed, units):
    assert parse_amount(typed, language) == Amount(units)


@pytest.mark.parametrize(("language", "typed"), [
    ("es", "1.234"), ("es", "1,234"), ("ru", "1.234"), ("fa", "1.234"), ("fa", "۱,۲۳۴"),
])
def test_an_amount_that_reads_two_ways_is_asked_back(language, typed):
    assert parse_amount(typed, language) == Ambiguous((1_234_000_000, 1_234_000))


@pytest.mark.parametrize("typed", ["", "abc", "1..2", "1,2,3", "12 34", "1.2.3,4,5", "--5",
                                   "0", "0.0000001", "1e5", "½", "1.234,567.8"])
def test_what_is_not_an_amount_is_refused_with_a_reason(typed):
    assert isinstance(parse_amount(typed, "en"), Invalid)


amounts = st.integers(min_value=1, max_value=10**15)


@given(units=amounts, language=st.sampled_from(LANGUAGES))
def test_any_amount_the_bot_writes_reads_back_the_same(units, language):
    for text in (format_amount(units, language), format_amount(units, language, symbol=False)):
        parsed = parse_amount(text, language)
        assert parsed == Amount(units) or (isinstance(parsed, Ambiguous)
                                           and units in parsed.readings), (text, parsed)


@given(whole=st.integers(min_value=1, max_value=10**9), language=st.sampled_from(LANGUAGES),
       digits=st.sampled_from(["latin", "persian", "arabic", "devanagari"]))
def test_plain_whole_numbers_read_in_any_digits(whole, language, digits):
    tables = {"latin": "0123456789", "persian": "۰۱۲۳۴۵۶۷۸۹", "arabic": "٠١٢٣٤٥٦٧٨٩",
              "devanagari": "०१२३४५६७८९"}
    typed = str(whole).translate(str.maketrans("0123456789", tables[digits]))
    assert parse_amount(typed, language) == Amount(whole * 10**6)


@given(units=amounts, language=st.sampled_from(LANGUAGES))
def test_a_locale_decimal_with_cents_is_never_ambiguous(units, language):
    """Amounts typed with both separators (or with cents) always read one way."""
    value = Decimal(units).scaleb(-6).quantize(Decimal("0.01"))
    if value <= 0:
        return
    text = format_amount(int(value.scaleb(6)), language, symbol=False)
    parsed = parse_amount(text, language)
    assert parsed == Amount(int(value.scaleb(6)))


def test_persian_output_uses_persian_digits_only():
    text = localize_digits("Loan 1234567890", "fa")
    assert text == "Loan ۱۲۳۴۵۶۷۸۹۰"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_defines_a_message_twice(language):
    path = ROOT / "locale" / FOLDERS[language] / "LC_MESSAGES" / "django.po"
    ids, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            current = [line[6:]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            ids.append("".join(current))
            current = None
    twice = sorted({text for text in ids if ids.count(text) > 1})
    assert not twice, f"{language} defines these more than once: {twice}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_keeps_a_message_nothing_uses_any_more(language):
    # Django's own messages (admin, forms) come from Django's catalogs, not ours.
    known = {message.id if isinstance(message.id, str) else tuple(message.id)
             for message in catalog(language) if message.id}
    stale = known - source_messages()
    assert not stale, f"{language} keeps messages nothing uses: {sorted(map(str, stale))}"
