"""Messages that time sends (reminders, overdue notices, keeper alerts, the admin digest) read
well in every language, and reach people through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import translation

from bot.notifications import render
from bot.outbox import deliver_outbox_once
from core.loans.reminders import installment_reminders_queue
from core.notifications.models import OutboxMessage, OutboxStatus
from core.users.services import user_set_language
from tests import factories

SAMPLES = {
    "installment_due_soon": {"loan_id": 42, "installment": 1, "due_date": "2026-12-05",
                             "amount": 125_500_000, "days_left": 3},
    "installment_due_today": {"loan_id": 42, "installment": 1, "due_date": "2026-12-05",
                              "amount": 125_500_000},
    "installment_overdue": {"loan_id": 42, "installment": 1, "due_date": "2026-12-05",
                            "amount": 125_500_000, "days_late": 2},
    "keeper_action_failed": {"loan_id": 42, "action": "default", "error": "node refused"},
    "admin_digest": {"day": "2026-12-05", "applications": 12, "new_loans": 7, "funded": 5,
                     "repaid": 2, "late": 3, "defaulted": 1, "expired": 0, "active": 40,
                     "late_now": 4, "outstanding": 12_345_000_000, "default_rate_bps": 125,
                     "par30_bps": 310, "pool_assets": 50_000_000_000,
                     "reconciliation": {"ok": False, "differences": 2,
                                        "at": "2026-12-05T03:00:00+00:00"},
                     "review_waiting": 6, "review_sla_breaches": 1,
                     "review_oldest_hours": 30, "sla_hours": 24},
}
NATIVE_DIGITS = {"fa": "۴"}  # Hindi readers get Latin digits (core.common.formatting)


def rendered(key: str, language: str, **overrides) -> str:
    with translation.override(language):
        return render(key, {**SAMPLES[key], **overrides}, language).text


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_each_schedule_message_is_written_in_the_readers_language(key, language):
    text = rendered(key, language)
    assert "%(" not in text
    if language != "en":
        assert text != rendered(key, "en")
    if language in NATIVE_DIGITS:  # every number in the reader's digits
        assert NATIVE_DIGITS[language] in text
        assert not any(c.isascii() and c.isdigit() for c in text.replace("PAR30", ""))


def test_the_overdue_notice_counts_days_with_the_languages_plural():
    assert "1 day overdue" in rendered("installment_overdue", "en", days_late=1)
    assert "5 days overdue" in rendered("installment_overdue", "en", days_late=5)
    assert "на 2 дня" in rendered("installment_overdue", "ru", days_late=2)
    assert "на 5 дней" in rendered("installment_overdue", "ru", days_late=5)


def test_the_digest_says_when_the_pool_or_the_reconciliation_is_unknown():
    text = rendered("admin_digest", "en", pool_assets=None, reconciliation=None)
    assert "Backstop pool: the chain did not answer." in text
    assert "Reconciliation: not run yet." in text
    agreed = rendered("admin_digest", "en", reconciliation={"ok": True, "differences": 0,
                                                             "at": "2026-12-05T03:00:00+00:00"})
    assert "ledger and chain agree" in agreed


def test_the_keeper_alert_names_what_failed():
    assert "could not expire the listing of loan #42" in rendered(
        "keeper_action_failed", "en", action="expire")


def test_an_overdue_notice_reaches_a_persian_borrower_once(clock, run_bot, bob):
    reza = factories.borrower(telegram_id=1104, username="reza")
    user_set_language(user=reza, language="fa")
    loan = factories.active_loan(borrower=reza, lenders=[(bob, 90 * factories.USD)],
                                 principal=90 * factories.USD, installments=3)
    overdue_day = loan.schedule.get(number=1).due_at + timedelta(days=2)
    installment_reminders_queue(now=overdue_day)
    installment_reminders_queue(now=overdue_day + timedelta(hours=3))

    async def scenario(chat):
        chat.meet("reza")
        delivered = await deliver_outbox_once(chat.runtime.bot)
        return delivered, [c["params"]["text"] for c in chat.calls("sendMessage")]

    delivered, texts = run_bot(scenario)
    assert delivered == 1 and len(texts) == 1
    assert "۲ روز عقب افتاده" in texts[0] and "/repay" in texts[0]
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
