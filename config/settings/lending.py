"""Lending rules that operators tune without a release."""

from __future__ import annotations

import os

KYC_TIER_LIMITS = {  # tier -> max principal a borrower may have outstanding, base units
    0: 0,
    1: 100_000_000,
    2: 1_000_000_000,
    3: 10_000_000_000,
}
STABLE_DECIMALS = 6
STABLE_SYMBOL = os.environ.get("STABLE_SYMBOL", "USDx")
LOAN_INTERVAL_DAYS = 30
FUNDING_WINDOW_DAYS = 7
