"""Filters that write numbers, money and dates the way the page's language does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import translation

from core.common import formatting
from core.loans import labels as loan_labels
from core.web import labels

register = template.Library()


def _language() -> str:
    return translation.get_language() or "en"


@register.filter
def money(units: int | None) -> str:
    return formatting.format_amount(units or 0, _language())


@register.filter
def number(value: int | Decimal | None) -> str:
    return formatting.format_number(value or 0, _language())


@register.filter
def bps(value: int | None) -> str:
    return formatting.format_percent_bps(value or 0, _language())


@register.filter
def percent(fraction: float | Decimal | None) -> str:
    """A fraction (0.0734) as a percentage with up to two decimals."""
    return formatting.format_percent_bps(round(Decimal(str(fraction or 0)) * 10_000),
                                         _language())


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    return formatting.format_date(value, _language()) if value else ""


@register.filter
def clock(value: dt.datetime | None) -> str:
    return formatting.format_time(value, _language()) if value else ""


@register.filter
def digits(value) -> str:
    return formatting.localize_digits(str(value), _language())


@register.filter
def state(value: str) -> str:
    return loan_labels.state_label(value)


@register.filter
def purpose(value: str) -> str:
    return loan_labels.purpose_label(value)


@register.filter
def term(count: int) -> str:
    return loan_labels.term_label(count, _language())


@register.filter
def account(kind: str) -> str:
    return labels.account_label(kind)
