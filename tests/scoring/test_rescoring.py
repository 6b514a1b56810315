"""The batch path scores inside PostgreSQL (the scorecard compiled to SQL); it must give exactly
what the Python scorecard gives for the same features, and the same features as the
single-application path. On SQLite the batch path is the Python one and must keep working."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.loans.models import Installment, Loan
from core.loans.states import LoanState
from core.scoring import rescoring
from core.scoring.features import FEATURE_NAMES, features_for_borrower
from core.scoring.models import BorrowerProfile, PostingStatus, Score, WalletSignal
from core.scoring.scorecard import GRADES, load_scorecard
from core.scoring.scorecard_sql import CompiledScorecard
from core.scoring.selectors import score_latest_summary
from core.users.models import TelegramUser
from tests import factories
from tests.scoring.support import LIMITS, repaid_loan

USD = factories.USD
CARD = load_scorecard()
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="the compiled scorecard runs in PostgreSQL")

_SQL_TYPES = {"income_band": "text", "employment": "text", "purpose": "text",
              "phone_shared": "boolean", "telegram_username": "boolean"}


def _edge_values(feature) -> list:
    """Every bin bound and its neighbours, every category, missing (where the scorecard has a
    bin for it), and an unknown category."""
    if feature.kind == "count":
        values = {0, 1, 10_000}
        for bound in feature.bounds:
            values |= {bound - 1, bound, bound + 1}
        missing = [None] if feature.missing_points is not None else []
        return [*sorted(v for v in values if v >= 0), *missing]
    if feature.kind == "flag":
        return [True, False]
    return [*feature.categories, "astronaut", None]


def _varied_features(count: int) -> list[dict]:
    """Each edge value of each feature on an otherwise random borrower, then random ones; the
    best and the worst borrower too, so every grade shows up."""
    rng = random.Random(6)
    edges = {f.name: _edge_values(f) for f in CARD.features}
    rows = []
    for name, values in edges.items():
        for value in values:
            row = {n: rng.choice(v) for n, v in edges.items()}
            row[name] = value
            rows.append(row)
    rows += [{n: rng.choice(v) for n, v in edges.items()} for _ in range(count)]
    best = {f.name: max(edges[f.name], key=lambda v, f=f: f.evaluate(v)[0])
            for f in CARD.features}
    worst = {f.name: min(edges[f.name], key=lambda v, f=f: f.evaluate(v)[0])
             for f in CARD.features}
    return [*rows, best, worst]


@postgres_only
@pytest.mark.django_db
def test_the_compiled_scorecard_gives_what_the_python_scorecard_gives():
    rows = _varied_features(3000)
    columns = ", ".join(f"{name} {_SQL_TYPES.get(name, 'bigint')}" for name in FEATURE_NAMES)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE scoring_cases (borrower_id int, {columns})")
        cursor.executemany(
            f"INSERT INTO scoring_cases VALUES (%s{', %s' * len(FEATURE_NAMES)})",
            [(i, *(row[name] for name in FEATURE_NAMES)) for i, row in enumerate(rows)])
        cursor.execute(CompiledScorecard(CARD).select(
            "SELECT * FROM scoring_cases", feature_columns=FEATURE_NAMES,
            carry=("borrower_id",)) + " ORDER BY borrower_id")
        scored = cursor.fetchall()
    assert len(scored) == len(rows)
    for (_, features, score, grade, pd_bps, reasons), row in zip(scored, rows, strict=True):
        expected = CARD.evaluate(row)
        assert (json.loads(features), score, grade, pd_bps, json.loads(reasons)) == (
            row, expected.score, expected.grade, expected.pd_bps, expected.reasons), row
    assert {row[3] for row in scored} == set(GRADES)


# --- the whole batch path on real rows ------------------------------------------------------

def _loan(borrower, *, state, principal=200 * USD, repaid=0, purpose="business",
          drawn_days_ago=None, paid=(), now):
    """A loan with one installment a month from its drawdown; `paid` says, per installment,
    how many days after its due date it was paid (None: not paid)."""
    loan = Loan.objects.create(
        borrower=borrower, state=state, principal=principal, installments=max(len(paid), 1),
        purpose=purpose, total_due=principal * 11 // 10, repaid_amount=repaid,
        drawn_down_at=None if drawn_days_ago is None else now - timedelta(days=drawn_days_ago))
    Installment.objects.bulk_create([
        Installment(loan=loan, number=k, amount=1, cumulative_due=k, interest=0, principal=1,
                    due_at=loan.drawn_down_at + timedelta(days=30 * k),
                    paid_at=None if late is None
                    else loan.drawn_down_at + timedelta(days=30 * k + late, hours=1))
        for k, late in enumerate(paid, start=1)])
    return loan


def _population(now) -> list[TelegramUser]:
    """Newcomers and veterans, defaulters and late payers, declared and undeclared profiles,
    wallets never read, empty or old, a borrower without a borrowing limit."""
    people = [factories.borrower(telegram_id=2000 + i, username=f"b{i}", tier=1 + i % 3)
              for i in range(12)]
    _newcomer, veteran, defaulter, late_payer, no_limit, quiet, applicant, *others = people
    TelegramUser.objects.filter(pk__in=[p.pk for p in (veteran, late_payer, *others[:3])]).update(
        created_at=now - timedelta(days=800))
    TelegramUser.objects.filter(pk=no_limit.pk).update(kyc_tier=0)
    TelegramUser.objects.filter(pk=quiet.pk).update(username="", phone="")

    for loan_no in range(5):  # five repaid loans, every installment early or on the day
        _loan(veteran, state=LoanState.REPAID, repaid=220 * USD, drawn_days_ago=400 + loan_no,
              paid=(-2, 0, -1), now=now)
    BorrowerProfile.objects.create(user=veteran, income_band="3000_plus", employment="employed")
    WalletSignal.objects.create(user=veteran, address=veteran.wallet_address, tx_count=400,
                                first_tx_at=now - timedelta(days=900), checked_at=now)

    _loan(defaulter, state=LoanState.DEFAULTED, repaid=20 * USD, drawn_days_ago=200,
          paid=(45, None, None), now=now)
    _loan(defaulter, state=LoanState.DEFAULTED, repaid=220 * USD, drawn_days_ago=300,
          paid=(3, 9, 1), now=now)
    _loan(late_payer, state=LoanState.LATE, repaid=70 * USD, drawn_days_ago=100,
          paid=(5, None, None), now=now, purpose="medical")
    _loan(late_payer, state=LoanState.REPAID, repaid=220 * USD, drawn_days_ago=500,
          paid=(0, 20, 0), now=now)
    _loan(no_limit, state=LoanState.ACTIVE, repaid=73 * USD, drawn_days_ago=40, paid=(-1, None),
          now=now, purpose="vehicle")
    _loan(applicant, state=LoanState.SUBMITTED, principal=90 * USD, now=now, purpose="home")
    BorrowerProfile.objects.create(user=quiet, income_band="", employment="")
    BorrowerProfile.objects.create(user=late_payer, income_band="under_500",
                                   employment="astronaut")  # not a declared option
    WalletSignal.objects.create(user=quiet, address=quiet.wallet_address, tx_count=0,
                                first_tx_at=None, checked_at=now)
    WalletSignal.objects.create(user=defaulter, address="0x" + "9" * 40, tx_count=50,
                                first_tx_at=now - timedelta(days=90), checked_at=now)
    for index, person in enumerate(others):  # steadily better histories
        for loan_no in range(index):
            _loan(person, state=LoanState.REPAID, repaid=220 * USD,
                  drawn_days_ago=200 + 100 * loan_no, paid=(0,) * (index + 1), now=now)
        BorrowerProfile.objects.create(user=person, income_band="1500_3000",
                                       employment=["student", "employed", "retired"][index % 3])
        WalletSignal.objects.create(user=person, address=person.wallet_address,
                                    tx_count=10 * index, checked_at=now,
                                    first_tx_at=now - timedelta(days=100 * index + 1))
    return people


@pytest.mark.django_db
def test_the_batch_path_agrees_with_the_single_path_and_the_python_scorecard(clock):
    now = timezone.now()
    people = _population(now)
    first, last = people[0].pk, people[-1].pk
    assert rescoring.scores_rescore_range(first_id=first, last_id=last, batch_key="agree",
                                         now=now) == len(people)
    limits = {int(tier): int(cap) for tier, cap in settings.KYC_TIER_LIMITS.items()}
    grades = set()
    for person in people:
        batch = Score.objects.get(borrower=person, batch_key="agree")
        single, facts = features_for_borrower(borrower_id=person.pk, now=now, kyc_limits=limits)
        expected = CARD.evaluate(single)
        assert batch.features == single, person.username
        assert (batch.score, batch.grade, batch.pd_bps, batch.reasons) == (
            expected.score, expected.grade, expected.pd_bps, expected.reasons), person.username
        assert batch.points == expected.points
        assert batch.wallet_address == facts.wallet_address
        grades.add(batch.grade)
    assert len(grades) >= 4  # the exhaustive check per grade is the compiled-scorecard test


@pytest.mark.django_db
def test_a_rerun_chunk_scores_only_the_borrowers_it_missed(clock, alice, dave):
    now = timezone.now()
    first, last = min(alice.pk, dave.pk), max(alice.pk, dave.pk)
    assert rescoring.scores_rescore_range(first_id=first, last_id=last, batch_key="rerun",
                                         now=now) == 2
    Score.objects.filter(borrower=dave, batch_key="rerun").delete()
    assert rescoring.scores_rescore_range(first_id=first, last_id=last, batch_key="rerun",
                                         now=now) == 1
    assert Score.objects.filter(batch_key="rerun").count() == 2


def test_the_nightly_batch_scores_everyone_once_and_agrees_with_the_single_path(clock, alice,
                                                                               dave, bob):
    repaid_loan(alice, bob)
    now = timezone.now()
    assert rescoring.scores_rescore_all(batch_key="nightly-test", chunk=1, now=now) == 2
    assert rescoring.scores_rescore_all(batch_key="nightly-test", chunk=1, now=now) == 0
    batch = Score.objects.get(borrower=alice, batch_key="nightly-test")
    single, _ = features_for_borrower(borrower_id=alice.pk, now=now, kyc_limits=LIMITS)
    assert batch.features == single
    assert batch.score == load_scorecard().evaluate(single).score
    assert batch.posting_status == PostingStatus.UNSIGNED
    assert score_latest_summary(borrower_id=alice.pk)["score_id"] == batch.pk
    assert not Score.objects.filter(borrower=bob).exists()  # lenders are not scored
