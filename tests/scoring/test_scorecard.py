"""Properties of the scorecard model, on the data file itself."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.scoring.models import Employment, IncomeBand
from core.scoring.reasons import REASON_TEXTS
from core.scoring.scorecard import DATA_DIR, GRADES, Scorecard, ScorecardError, load_scorecard

CARD = load_scorecard()
counts = st.integers(min_value=0, max_value=200)
maybe = lambda strategy: st.none() | strategy  # noqa: E731

features = st.fixed_dictionaries({
    "defaults": st.integers(min_value=0, max_value=6),
    "on_time_installments": counts,
    "late_installments": counts,
    "max_days_late": st.integers(min_value=0, max_value=400),
    "loans_completed": st.integers(min_value=0, max_value=30),
    "exposure_pct": maybe(st.integers(min_value=0, max_value=150)),
    "income_band": maybe(st.sampled_from(IncomeBand.values)),
    "employment": maybe(st.sampled_from(Employment.values)),
    "purpose": maybe(st.sampled_from(["business", "education", "medical", "home", "vehicle",
                                      "debt_consolidation", "personal"])),
    "phone_shared": st.booleans(),
    "wallet_age_days": maybe(st.integers(min_value=0, max_value=3000)),
    "wallet_tx_count": maybe(st.integers(min_value=0, max_value=5000)),
    "tenure_days": st.integers(min_value=0, max_value=2000),
    "telegram_username": st.booleans(),
})


def raw_data() -> dict:
    return json.loads((DATA_DIR / "scorecard_v1.json").read_text())


@given(features)
def test_scoring_is_deterministic(values):
    fresh = Scorecard(raw_data())
    assert CARD.evaluate(values) == CARD.evaluate(dict(values)) == fresh.evaluate(values)


@given(features)
def test_every_score_is_in_range_with_a_grade_a_pd_and_known_reasons(values):
    result = CARD.evaluate(values)
    assert 300 <= result.score <= 850
    assert result.grade == CARD.grade_of(result.score)
    assert 0 < result.pd_bps < 10_000
    assert len(result.reasons) <= 3
    assert all(reason in REASON_TEXTS for reason in result.reasons)
    assert sum(result.points.values()) + CARD.base_points == result.score


@given(features, st.integers(min_value=1, max_value=50))
def test_more_on_time_repayments_never_lower_the_score(values, more):
    better = {**values, "on_time_installments": values["on_time_installments"] + more}
    assert CARD.evaluate(better).score >= CARD.evaluate(values).score


@given(features.filter(lambda v: v["defaults"] <= 3))
def test_a_default_always_lowers_the_score(values):
    worse = {**values, "defaults": values["defaults"] + 1}
    assert CARD.evaluate(worse).score < CARD.evaluate(values).score
    assert CARD.evaluate(worse).pd_bps > CARD.evaluate(values).pd_bps


@given(features)
def test_further_defaults_never_raise_the_score(values):
    worse = {**values, "defaults": values["defaults"] + 1}
    assert CARD.evaluate(worse).score <= CARD.evaluate(values).score


@given(st.integers(min_value=300, max_value=849))
def test_a_higher_score_never_has_a_higher_pd_or_a_worse_grade(score):
    assert CARD.pd_bps_of(score + 1) <= CARD.pd_bps_of(score)
    assert GRADES.index(CARD.grade_of(score + 1)) <= GRADES.index(CARD.grade_of(score))


@settings(max_examples=30)
@given(features)
def test_the_top_reason_is_where_the_most_points_were_lost(values):
    result = CARD.evaluate(values)
    if not result.reasons:
        return
    losses = {f.name: f.max_points - result.points[f.name] for f in CARD.features}
    assert max(losses.values()) > 0


def _best() -> dict:
    return {"defaults": 0, "on_time_installments": 24, "late_installments": 0, "max_days_late": 0,
            "loans_completed": 5, "exposure_pct": 0, "income_band": "3000_plus",
            "employment": "employed", "purpose": "business", "phone_shared": True,
            "wallet_age_days": 800, "wallet_tx_count": 300, "tenure_days": 900,
            "telegram_username": True}


def test_every_grade_is_reachable():
    """Degrade the best borrower one step at a time: each step moves the score less than a
    grade band, so the walk must pass through every grade."""
    steps = [("tenure_days", 0), ("wallet_age_days", None), ("wallet_tx_count", 0),
             ("income_band", None), ("employment", None), ("loans_completed", 0),
             ("on_time_installments", 0), ("exposure_pct", 90), ("late_installments", 2),
             ("max_days_late", 20), ("defaults", 1), ("late_installments", 9),
             ("max_days_late", 90), ("defaults", 2), ("defaults", 5), ("phone_shared", False)]
    values = _best()
    seen = [CARD.evaluate(values).grade]
    for name, value in steps:
        values[name] = value
        seen.append(CARD.evaluate(values).grade)
    assert set(seen) == set(GRADES)
    assert seen[0] == "A" and seen[-1] == "E"


def test_missing_data_is_scored_by_its_own_bin_not_guessed():
    declared = CARD.evaluate(_best())
    undeclared = CARD.evaluate({**_best(), "income_band": None, "wallet_age_days": None})
    assert undeclared.points["income_band"] == 0
    assert undeclared.points["wallet_age_days"] == 5  # "unknown", above a brand-new wallet
    assert "reason_income_not_declared" in undeclared.reasons
    assert declared.score > undeclared.score


def test_an_unknown_category_counts_as_not_declared():
    assert (CARD.evaluate({**_best(), "employment": "astronaut"}).points["employment"]
            == CARD.evaluate({**_best(), "employment": None}).points["employment"])


@pytest.mark.parametrize("breakage", ["non_monotone", "out_of_range", "grades_unordered"])
def test_an_inconsistent_scorecard_file_is_refused(breakage):
    data = copy.deepcopy(raw_data())
    if breakage == "non_monotone":
        data["features"][1]["bins"][-1]["points"] = 1
    elif breakage == "out_of_range":
        data["base_points"] = 400
    else:
        data["grades"][0]["min_score"] = 100
    with pytest.raises(ScorecardError):
        Scorecard(data)


def test_the_model_has_a_version():
    assert CARD.model_version == raw_data()["model_version"] == 1
