"""The scorecard compiled to PostgreSQL, so a batch chunk is scored where its features are
computed and no row travels to Python (issue 6).

Everything is generated from the loaded ``Scorecard`` (scorecard_v<N>.json), never written per
bin, and must give exactly what ``Scorecard.evaluate`` gives; tests/scoring/test_batch_sql.py
compares the two on a varied population.

- points: a ``CASE`` per feature over its bins (``value <= upto`` is ``bisect_left``);
- grade: a ``CASE`` over the cut-offs; PD: a lookup array over every reachable score, filled
  by ``Scorecard.pd_bps_of`` so the float maths stays Python's;
- reasons: each feature's lost points become one integer key that sorts like Python's
  ``(-shortfall, feature index)`` and carries the reason's id in its low bits. The top reason
  is the greatest key; the next one is the greatest key with a reason not taken yet, and so
  on, which is the Python loop's "first occurrence of each reason, in order".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.scoring.scorecard import GRADES, Scorecard, _Feature

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class CompiledScorecard:
    def __init__(self, scorecard: Scorecard) -> None:
        self.scorecard = scorecard
        for name in scorecard.feature_names:
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"feature name {name!r} is not a plain SQL identifier")
        reasons: list[str] = []
        for feature in scorecard.features:
            for _, reason in self._bins(feature):
                if reason not in reasons:
                    reasons.append(reason)
        self.reasons = reasons  # a reason's id is its position + 1; 0 means "no reason"
        self._reason_bits = len(reasons).bit_length()
        self._index_bits = len(scorecard.features).bit_length()

    @staticmethod
    def _bins(feature: _Feature) -> list[tuple[int, str]]:
        """(points, reason) of every outcome of a feature, the missing bin included."""
        if feature.kind == "count":
            outcomes = list(zip(feature.points, feature.reasons, strict=True))
        else:
            outcomes = list(feature.categories.values())
        if feature.missing_points is not None:
            outcomes.append((feature.missing_points, feature.missing_reason))
        return outcomes

    def _key(self, feature: _Feature, points: int, reason: str) -> int:
        """Greater for more points lost, then for an earlier feature; 0 when nothing is lost."""
        shortfall = feature.max_points - points
        if shortfall <= 0:
            return 0
        rank = (len(self.scorecard.features) - 1 - feature.index)
        return (((shortfall << self._index_bits) | rank) << self._reason_bits) | (
            self.reasons.index(reason) + 1)

    def _case(self, feature: _Feature, value: str, pick) -> str:
        """A CASE giving pick(points, reason) of the bin `value` falls in. A missing value of a
        feature without a missing bin gives NULL, so the insert fails as evaluate() would."""
        missing = ("NULL" if feature.missing_points is None
                   else str(pick(feature.missing_points, feature.missing_reason)))
        if feature.kind == "count":
            whens = [f"WHEN {value} <= {bound} THEN {pick(points, reason)}"
                     for bound, points, reason in zip(feature.bounds, feature.points,
                                                      feature.reasons, strict=False)]
            last = pick(feature.points[-1], feature.reasons[-1])
            return f"CASE WHEN {value} IS NULL THEN {missing} {' '.join(whens)} ELSE {last} END"
        if feature.kind == "flag":
            (true_points, reason), (false_points, _) = (feature.categories[True],
                                                         feature.categories[False])
            return (f"CASE WHEN {value} THEN {pick(true_points, reason)}"
                    f" WHEN NOT {value} THEN {pick(false_points, reason)} END")
        # An unknown category is scored as not declared, like evaluate() does.
        whens = [f"WHEN {_literal(category)} THEN {pick(points, reason)}"
                 for category, (points, reason) in feature.categories.items()]
        return f"CASE {value} {' '.join(whens)} ELSE {missing} END"

    def select(self, source: str, *, feature_columns: Sequence[str],
               carry: Sequence[str]) -> str:
        """SELECT over `source` (a query with `carry` columns and one column per name in
        `feature_columns`) giving the carried columns, then features (jsonb), score, grade,
        pd_bps and reasons (jsonb)."""
        card = self.scorecard
        mask = (1 << self._reason_bits) - 1

        def value(feature: _Feature) -> str:
            return f"s.{feature.name}" if feature.name in feature_columns else "NULL"

        def top(n: int) -> str:
            """The n-th reason's key: the greatest key whose reason is not among the first."""
            taken = ", ".join(f"s.top_{m} & {mask}" for m in range(1, n))
            return "GREATEST({})".format(", ".join(
                f"CASE WHEN s.key_{f.index} & {mask} IN ({taken}) THEN 0 ELSE s.key_{f.index} END"
                if taken else f"s.key_{f.index}" for f in card.features))

        carried = "".join(f"s.{column}, " for column in carry)
        features_json = ", ".join(f"{_literal(name)}, s.{name}" for name in feature_columns)
        total = " + ".join([str(card.base_points)] + [
            self._case(f, value(f), lambda points, _reason: points) for f in card.features])
        keys = ", ".join(
            f"{self._case(f, value(f), lambda p, r, f=f: self._key(f, p, r))} AS key_{f.index}"
            for f in card.features)
        # Each layer, the source included, stays its own subquery (OFFSET 0): inlined, every
        # use of a column would evaluate its expression again (a feature is read by each WHEN,
        # a key by each later reason). Only generated constants are formatted in.
        layer = (f"SELECT {carried}jsonb_build_object({features_json}) AS features, "  # noqa: S608
                 f"{total} AS score, {keys} "
                 f"FROM (SELECT * FROM ({source}) source OFFSET 0) s OFFSET 0")
        for n in range(1, card.reasons_max):
            layer = f"SELECT s.*, {top(n)} AS top_{n} FROM ({layer}) s OFFSET 0"  # noqa: S608

        names = ", ".join(_literal(reason) for reason in self.reasons)
        reasons = ", ".join(
            f"(ARRAY[{names}])[{f's.top_{n}' if n < card.reasons_max else top(n)} & {mask}]"
            for n in range(1, card.reasons_max + 1))
        grade = " ".join(f"WHEN s.score >= {cutoff} THEN {_literal(grade)}"
                         for cutoff, grade in card._cutoffs)
        pd = ", ".join(str(card.pd_bps_of(score))
                       for score in range(card.lowest, card.highest + 1))
        return (f"SELECT {carried}s.features, s.score, "  # noqa: S608
                f"CASE {grade} ELSE {_literal(GRADES[-1])} END AS grade, "
                f"(ARRAY[{pd}])[s.score - {card.lowest - 1}] AS pd_bps, "
                f"to_jsonb(array_remove(ARRAY[{reasons}], NULL)) AS reasons "
                f"FROM ({layer}) s")
