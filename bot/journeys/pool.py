"""/pool: the backstop pool — its size, share value, APY and withdrawal cooldown, the person's
own position — and deposits (a typed amount) and withdrawals (ask first, then withdraw once
the cooldown is over), each through a signing request.

The chain decides when a withdrawal is ready (its clock, its maxRedeem); the buttons only
name an action, and the position is read again before anything is built.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.amounts import read_typed_amount, reading_value
from bot.conversation import END, BotContext, action_button, command, step_button
from bot.dbcall import run_in_db
from bot.i18n import (
    babel_locale,
    format_amount,
    format_date,
    format_number,
    format_percent_bps,
    localize_digits,
)
from bot.journeys import Journey
from bot.replies import answer_button, button, keyboard, say
from bot.signing import request_signing
from core.common.formatting import format_time
from core.pool.selectors import (
    PoolOverview,
    PoolPosition,
    pool_overview,
    pool_position,
    pool_shares_for,
)
from core.signing.actions import pool_deposit_request, pool_withdraw_request

DEPOSIT, WITHDRAW = "pool.deposit", "pool.withdraw"
KIND = "pool"
DAY = 86400


def _days(seconds: int, language: str) -> str:
    days = seconds // DAY
    if days and seconds % DAY == 0:
        return ngettext("%(count)s day", "%(count)s days", days) % {
            "count": format_number(days, language)}
    hours = max(1, seconds // 3600)
    return ngettext("%(count)s hour", "%(count)s hours", hours) % {
        "count": format_number(hours, language)}


def _share_price(price: Decimal, language: str) -> str:
    return localize_digits(format_decimal(price, format="#,##0.0000", locale=babel_locale(
        language), numbering_system="default"), language)


def _when(moment, language: str) -> str:
    return _("%(date)s, %(time)s UTC") % {"date": format_date(moment, language),
                                          "time": format_time(moment, language)}


def overview_text(overview: PoolOverview, position: PoolPosition | None, language: str) -> str:
    lines = [_("The backstop pool covers part of the principal when a loan defaults, and earns "
               "a premium on the interest of every repayment."),
             "",
             _("Pool size: %(amount)s") % {"amount": format_amount(overview.total_assets,
                                                                    language)},
             _("Value of one share: %(price)s") % {
                 "price": _share_price(overview.share_price, language)}]
    if overview.apy is None:
        lines.append(_("APY: not enough history yet."))
    else:
        lines.append(_("APY: %(apy)s (from the pool's income over the last 30 days)") % {
            "apy": format_percent_bps(int(overview.apy * 10_000), language)})
    lines.append(_("Withdrawals: ask first, then withdraw after %(cooldown)s, within "
                   "%(window)s.") % {"cooldown": _days(overview.cooldown_seconds, language),
                                     "window": _days(overview.withdraw_window_seconds,
                                                     language)})
    if overview.deposits_paused:
        lines.append(_("Deposits are paused at the moment; withdrawals still work."))
    lines.append("")
    if position is None:
        lines.append(_("Link your wallet (send /start) to see your own position."))
        return "\n".join(lines)
    if position.shares:
        lines.append(_("Your position: %(amount)s") % {
            "amount": format_amount(position.assets, language)})
    else:
        lines.append(_("You have no deposit in the pool yet."))
    status = position.withdraw_status
    if status == "cooling":
        lines.append(_("Withdrawal asked: it opens on %(date)s.") % {
            "date": _when(position.unlock_at, language)})
    elif status == "ready":
        lines.append(_("Ready to withdraw now: %(amount)s, until %(date)s.") % {
            "amount": format_amount(position.redeemable_assets, language),
            "date": _when(position.window_ends_at, language)})
    elif status == "lapsed" and position.shares:
        lines.append(_("Your last withdrawal window has closed; ask again to withdraw."))
    return "\n".join(lines)


def overview_markup(overview: PoolOverview,
                    position: PoolPosition | None) -> InlineKeyboardMarkup | None:
    if position is None:
        return None
    row = []
    if not overview.deposits_paused:
        row.append(button(_("Deposit"), KIND, "dep"))
    if position.shares:
        row.append(button(_("Withdraw now") if position.withdraw_status == "ready"
                          else _("Withdraw"), KIND, "wd"))
    return keyboard(row) if row else None


def _read(address: str) -> tuple[PoolOverview, PoolPosition | None]:
    return pool_overview(), pool_position(address=address) if address else None


async def pool_command(update: Update, context: BotContext) -> None:
    person = context.person
    overview, position = await run_in_db(_read, person.wallet_address)
    if not overview.available:
        await say(update, _("I cannot read the pool from the chain right now. Please try again "
                            "in a minute."))
        return
    await say(update, overview_text(overview, position, person.language),
              markup=overview_markup(overview, position))


async def out_of_date(update: Update, context: BotContext | None = None) -> None:
    """A /pool button this release did not make (forged, or from an older layout)."""
    await answer_button(update, _("This button is out of date. Send /pool for the latest "
                                  "figures."), alert=True)


async def _pressed_position(update: Update, context: BotContext) -> PoolPosition | None:
    """The person's position, read from the chain again; None (the press answered) when
    there is no wallet or the chain cannot be read."""
    person = context.person
    if not person.wallet_address:
        await answer_button(update, _("Link your wallet first."), alert=True)
        return None
    position = await run_in_db(pool_position, address=person.wallet_address)
    if position is None:
        await answer_button(update, _("I cannot read the pool from the chain right now. Please "
                                      "try again in a minute."), alert=True)
    return position


async def deposit_pressed(update: Update, context: BotContext,
                          args: tuple[str, ...]) -> str | None:
    position = await _pressed_position(update, context)
    if position is None:
        return None
    await answer_button(update)
    await say(update, _("How much would you like to deposit? Your wallet holds %(balance)s. "
                        "Send /cancel to stop.") % {
        "balance": format_amount(position.wallet_balance, context.person.language)})
    return DEPOSIT


async def withdraw_pressed(update: Update, context: BotContext,
                           args: tuple[str, ...]) -> str | None:
    position = await _pressed_position(update, context)
    if position is None:
        return None
    language = context.person.language
    status = position.withdraw_status
    if not position.shares:
        await answer_button(update, _("You have nothing in the pool to withdraw."), alert=True)
        return None
    if status == "cooling":
        await answer_button(update, _("Your withdrawal opens on %(date)s.") % {
            "date": _when(position.unlock_at, language)}, alert=True)
        return None
    await answer_button(update)
    if status == "ready":
        await request_signing(update, pool_withdraw_request, user=context.person,
                              shares=position.redeemable_shares, ready=True)
        return None
    await say(update, _("How much would you like to withdraw? Up to %(amount)s. After you "
                        "ask, the cooldown starts. Send /cancel to stop.") % {
        "amount": format_amount(position.assets, language)})
    return WITHDRAW


async def amount_typed(update: Update, context: BotContext) -> str | None:
    typed = await read_typed_amount(
        update, context, example=format_number(50, context.person.language),
        choice=lambda nonce, units: (KIND, "amt", nonce, units))
    if typed.units is None:
        return typed.next_step
    return await amount_chosen(update, context, typed.units)


async def amount_pressed(update: Update, context: BotContext, value: str) -> str | None:
    """One reading of an amount that read two ways."""
    return await amount_chosen(update, context, int(value))


async def amount_chosen(update: Update, context: BotContext, units: int) -> str | None:
    """A deposit or a withdrawal of `units` (by the step), or stay and say why not."""
    person, language = context.person, context.person.language
    position = await run_in_db(pool_position, address=person.wallet_address)
    if position is None:
        await say(update, _("I cannot read the pool from the chain right now. Please try again "
                            "in a minute."))
        return None
    if context.session.step == DEPOSIT:
        if units > position.wallet_balance:
            await say(update, _("Your wallet holds only %(balance)s. Type a smaller amount, or "
                                "send /cancel.") % {
                "balance": format_amount(position.wallet_balance, language)})
            return None
        await request_signing(update, pool_deposit_request, user=person, amount=units)
        return END
    if units > position.assets:
        await say(update, _("Your position is %(amount)s. Type that much or less, or send "
                            "/cancel.") % {"amount": format_amount(position.assets, language)})
        return None
    await request_signing(update, pool_withdraw_request, user=person,
                          shares=pool_shares_for(position=position, assets=units), ready=False)
    return END


def build_handlers() -> Journey:
    return Journey(
        name="pool",
        handlers=[
            command("pool", pool_command),
            action_button(KIND, "dep", deposit_pressed),
            action_button(KIND, "wd", withdraw_pressed),
            step_button(KIND, "amt", frozenset({DEPOSIT, WITHDRAW}), amount_pressed,
                        what_first=True, valid=reading_value),
            CallbackQueryHandler(out_of_date, pattern=callbacks.pattern(KIND)),
        ],
        steps={DEPOSIT: amount_typed, WITHDRAW: amount_typed},
        commands=[("pool", gettext_lazy("the backstop pool: deposit, withdraw, returns"))],
    )
