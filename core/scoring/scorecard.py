"""The scorecard model: points per feature bin from a versioned data file, mapped to a
300-850 score, a grade A-E, an estimated probability of default and the top reasons.

The file (scorecard_v<N>.json) is validated when loaded: bins ascending, declared monotonicity
held, and every possible total inside the score range, so scores are never clamped (a clamp
would hide a default or an extra on-time payment). Evaluation is a tight loop over compiled
features (bisect on bin bounds, dict look-ups), deterministic and without I/O.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent
CURRENT_VERSION = 1
GRADES = ("A", "B", "C", "D", "E")


class ScorecardError(ValueError):
    """The scorecard data file is inconsistent."""


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: int
    grade: str
    pd_bps: int
    points: dict[str, int]
    reasons: list[str]
    model_version: int


class _Feature:
    __slots__ = ("bounds", "categories", "index", "kind", "max_points", "missing_points",
                 "missing_reason", "name", "points", "reasons")

    def __init__(self, index: int, spec: dict[str, Any]) -> None:
        self.index = index
        self.name = spec["name"]
        self.kind = spec["kind"]
        default_reason = spec["reason"]
        missing = spec.get("missing")
        self.missing_points = missing["points"] if missing else None
        self.missing_reason = (missing.get("reason") or default_reason) if missing else None
        if self.kind == "count":
            bins = spec["bins"]
            if bins[-1]["upto"] is not None or any(b["upto"] is None for b in bins[:-1]):
                raise ScorecardError(f"{self.name}: only the last bin is open-ended")
            bounds = [b["upto"] for b in bins[:-1]]
            if bounds != sorted(set(bounds)):
                raise ScorecardError(f"{self.name}: bin bounds must be strictly ascending")
            self.bounds = bounds
            self.points = [b["points"] for b in bins]
            self.reasons = [b.get("reason", default_reason) for b in bins]
            self._check_monotone(spec.get("monotone"))
        elif self.kind == "category":
            self.categories = {key: (points, default_reason)
                               for key, points in spec["categories"].items()}
            if missing is None:
                raise ScorecardError(f"{self.name}: a category feature needs a missing bin")
        elif self.kind == "flag":
            self.categories = {True: (spec["points"]["true"], default_reason),
                               False: (spec["points"]["false"], default_reason)}
        else:
            raise ScorecardError(f"{self.name}: unknown kind {self.kind!r}")
        self.max_points = max(self.all_points())

    def _check_monotone(self, monotone: str | None) -> None:
        pairs = list(zip(self.points, self.points[1:], strict=False))
        ok = {
            None: True,
            "increasing": all(a <= b for a, b in pairs),
            "decreasing": all(a >= b for a, b in pairs),
            "strictly_decreasing": all(a > b for a, b in pairs),
        }.get(monotone)
        if not ok:
            raise ScorecardError(f"{self.name}: points are not {monotone}")

    def all_points(self) -> list[int]:
        if self.kind == "count":
            values = list(self.points)
        else:
            values = [points for points, _ in self.categories.values()]
        if self.missing_points is not None:
            values.append(self.missing_points)
        return values

    def evaluate(self, value: Any) -> tuple[int, str]:
        if value is None:
            if self.missing_points is None:
                raise ScorecardError(f"{self.name} is missing and has no missing bin")
            return self.missing_points, self.missing_reason
        if self.kind == "count":
            position = bisect_left(self.bounds, value)
            return self.points[position], self.reasons[position]
        found = self.categories.get(value)
        if found is None:  # an unknown category is treated as not declared, never guessed
            return self.missing_points, self.missing_reason
        return found


class Scorecard:
    def __init__(self, data: dict[str, Any]) -> None:
        self.model_version = int(data["model_version"])
        self.base_points = int(data["base_points"])
        self.score_min, self.score_max = int(data["score_min"]), int(data["score_max"])
        self.reasons_max = int(data["reasons_max"])
        self.features = [_Feature(i, spec) for i, spec in enumerate(data["features"])]
        self.feature_names = [feature.name for feature in self.features]
        if len(set(self.feature_names)) != len(self.feature_names):
            raise ScorecardError("feature names must be unique")
        lowest = self.base_points + sum(min(f.all_points()) for f in self.features)
        highest = self.base_points + sum(f.max_points for f in self.features)
        if lowest < self.score_min or highest > self.score_max:
            raise ScorecardError(f"totals {lowest}..{highest} leave "
                                 f"{self.score_min}..{self.score_max}")
        grades = data["grades"]
        if [g["grade"] for g in grades] != list(GRADES):
            raise ScorecardError("grades must be listed A to E")
        cutoffs = [g["min_score"] for g in grades]
        if cutoffs != sorted(cutoffs, reverse=True) or cutoffs[-1] > lowest:
            raise ScorecardError("grade cut-offs must descend and cover the lowest score")
        self._cutoffs = [(g["min_score"], g["grade"]) for g in grades]
        pd = data["pd"]
        self._pd_anchor = pd["anchor_score"]
        self._pd_odds = pd["anchor_odds"]
        self._pd_pdo = pd["points_to_double_odds"]
        self.lowest, self.highest = lowest, highest

    def grade_of(self, score: int) -> str:
        for cutoff, grade in self._cutoffs:
            if score >= cutoff:
                return grade
        return GRADES[-1]

    def pd_bps_of(self, score: int) -> int:
        """Odds of repaying double every `points_to_double_odds` points (the usual
        scorecard scaling); PD = 1 / (1 + odds), in basis points."""
        odds = self._pd_odds * 2.0 ** ((score - self._pd_anchor) / self._pd_pdo)
        return round(10_000 / (1.0 + odds))

    def evaluate(self, features: dict[str, Any]) -> ScoreResult:
        total = self.base_points
        points: dict[str, int] = {}
        lost: list[tuple[int, int, str]] = []
        for feature in self.features:
            got, reason = feature.evaluate(features.get(feature.name))
            points[feature.name] = got
            total += got
            shortfall = feature.max_points - got
            if shortfall > 0:
                lost.append((-shortfall, feature.index, reason))
        lost.sort()
        reasons: list[str] = []
        for _, _, reason in lost:
            if reason not in reasons:
                reasons.append(reason)
                if len(reasons) == self.reasons_max:
                    break
        return ScoreResult(score=total, grade=self.grade_of(total), pd_bps=self.pd_bps_of(total),
                           points=points, reasons=reasons, model_version=self.model_version)


@cache
def load_scorecard(version: int = CURRENT_VERSION) -> Scorecard:
    path = DATA_DIR / f"scorecard_v{version}.json"
    return Scorecard(json.loads(path.read_text()))
