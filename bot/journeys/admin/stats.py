"""/admin's home screen: the platform's figures, the pool, the contracts' pause state and
what an admin can do from here."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from telegram import Update

from bot.cards import send_help
from bot.conversation import BotContext
from bot.dbcall import in_db
from bot.i18n import format_amount, format_number, format_percent_bps
from bot.journeys.admin.access import KIND, is_admin
from bot.replies import answer_button, button, keyboard, replace_or_say, say
from core.common.chain import ChainError
from core.loans.labels import state_label
from core.loans.stats import PlatformStats, platform_stats
from core.pool.selectors import PoolOverview, pool_overview
from core.scoring.selectors import review_queue_count
from core.signing.actions import contracts_paused


def _percent(ratio: float, language: str) -> str:
    return format_percent_bps(round(ratio * 10_000), language)


@dataclass(frozen=True)
class Dashboard:
    stats: PlatformStats
    pool: PoolOverview
    in_review: int
    paused: dict[str, bool] | None  # None: the chain could not be read


@in_db
def _dashboard() -> Dashboard:
    try:
        paused = contracts_paused()
    except ChainError:
        paused = None  # the figures still help while the node is away
    return Dashboard(stats=platform_stats(), pool=pool_overview(),
                     in_review=review_queue_count(), paused=paused)


def dashboard_text(board: Dashboard, language: str) -> str:
    stats, pool = board.stats, board.pool
    lines = [_("Lendgram today"), "", _("Loans by state:")]
    by_state = [(state, count) for state, count in stats.loans_by_state.items() if count]
    lines += [f"• {state_label(state)}: {format_number(count, language)}"
              for state, count in by_state] or [_("• no loans yet")]
    lines += [
        "",
        _("Funded volume: %(amount)s") % {"amount": format_amount(stats.volume_funded, language)},
        _("Repaid: %(amount)s") % {"amount": format_amount(stats.volume_repaid, language)},
        _("Principal outstanding: %(amount)s")
        % {"amount": format_amount(stats.outstanding_principal, language)},
        _("Default rate: %(rate)s") % {"rate": _percent(stats.default_rate, language)},
        _("Portfolio at risk over 30 days (PAR30): %(rate)s")
        % {"rate": _percent(stats.par30, language)},
        _("Borrowers: %(borrowers)s · lenders: %(lenders)s")
        % {"borrowers": format_number(stats.borrowers, language),
           "lenders": format_number(stats.lenders, language)},
    ]
    if pool.available:
        lines.append(_("Backstop pool (TVL): %(amount)s")
                     % {"amount": format_amount(pool.total_assets, language)})
    else:
        lines.append(_("Backstop pool: the chain cannot be read right now."))
    if board.paused is None:
        lines.append(_("Contracts: the chain cannot be read right now."))
    elif any(board.paused.values()):
        lines.append(_("Contracts: PAUSED"))
    else:
        lines.append(_("Contracts: running"))
    lines += ["", ngettext("%(count)s application waits for review.",
                           "%(count)s applications wait for review.", board.in_review)
              % {"count": format_number(board.in_review, language)}]
    return "\n".join(lines)


def dashboard_markup(board: Dashboard, language: str):
    paused = board.paused is not None and any(board.paused.values())
    return keyboard(
        [button(_("Review queue (%(count)s)") % {"count": format_number(board.in_review,
                                                                        language)}, KIND, "q")],
        [button(_("Find a user"), KIND, "find"), button(_("Broadcast"), KIND, "bc")],
        [button(_("Resume the contracts") if paused else _("Pause the contracts"), KIND,
                "ups" if paused else "ps")],
        [button(_("Refresh"), KIND, "home")],
    )


async def admin_command(update: Update, context: BotContext) -> None:
    if not is_admin(context.person):
        await send_help(update, context)
        return
    language = context.person.language
    board = await _dashboard()
    await say(update, dashboard_text(board, language), markup=dashboard_markup(board, language))


async def home_pressed(update: Update, context: BotContext, _target: int | None) -> None:
    await answer_button(update)
    language = context.person.language
    board = await _dashboard()
    await replace_or_say(update, dashboard_text(board, language),
                         markup=dashboard_markup(board, language))
