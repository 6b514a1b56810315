"""The public pages (dashboard, loans, backstop pool) and the personal pages (/me/).

Views parse the request, call selectors or one service, and render; the personal pages know
the person from the session a one-time login link or a Telegram Mini App opened.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST
from eth_utils import is_address

from core.common.csvexport import csv_response
from core.common.errors import ServiceError
from core.common.formatting import format_amount, format_date, format_number, localize_digits
from core.ledger.selectors import user_statement
from core.loans import labels as loan_labels
from core.loans import stats
from core.loans.funding import loan_open_for_funding
from core.pool.selectors import (
    pool_overview,
    pool_position,
    pool_shares_for,
)
from core.signing import actions
from core.users.models import TelegramUser
from core.web import charts, selectors, services
from onchain.deeplinks import qr_png

# Months of history the dashboard's chart shows.
CHART_SINCE = timedelta(days=365)


def _language() -> str:
    return translation.get_language() or "en"


def _person(request: HttpRequest) -> TelegramUser | None:
    user_id = request.session.get(services.SESSION_KEY)
    if not user_id:
        return None
    return TelegramUser.objects.filter(pk=user_id, is_frozen=False).first()


def _sign_in(request: HttpRequest, user: TelegramUser) -> None:
    request.session.cycle_key()  # a fresh session id: a planted one cannot be taken over
    request.session[services.SESSION_KEY] = user.pk


def _with_language(response: HttpResponse, user: TelegramUser) -> HttpResponse:
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax",
                        max_age=365 * 86400)
    return response


# --- public ---------------------------------------------------------------------------------

@require_GET
def dashboard(request: HttpRequest):
    language = _language()
    figures = stats.platform_stats()
    points = stats.cumulative(stats.volume_series(period="month",
                                                  since=timezone.now() - CHART_SINCE))
    shown_states = [state for state in selectors.PUBLIC_STATES | {"approved", "in_review"}
                    if figures.loans_by_state.get(state)]
    by_state = sorted(((loan_labels.state_label(s), figures.loans_by_state[s])
                       for s in shown_states),
                      key=lambda item: -item[1])
    money = lambda units: format_amount(units, language)  # noqa: E731
    count = lambda n: localize_digits(str(n), language)  # noqa: E731
    volume_chart = charts.line_chart(
        labels=[format_date(p.period, language) for p in points],
        series=[charts.Series(_("Funded"), [p.funded for p in points], "s-funded"),
                charts.Series(_("Repaid"), [p.repaid for p in points], "s-repaid")],
        title=_("Volume funded and repaid to date"), fmt=money)
    state_chart = charts.bar_chart(items=by_state, title=_("Loans by state"), fmt=count)
    return render(request, "web/dashboard.html", {
        "stats": figures, "pool": pool_overview(), "volume_chart": volume_chart,
        "state_chart": state_chart, "has_history": bool(points), "has_loans": bool(by_state),
        "section": "dashboard"})


@require_GET
def loan_list(request: HttpRequest):
    filters = selectors.loan_filters_from(request.GET)
    page = selectors.loan_page(filters=filters, page=request.GET.get("page"))
    return render(request, "web/loan_list.html", {
        "page": page, "filters": filters, "query": filters.query,
        "grades": ["A", "B", "C", "D", "E"], "terms": selectors.TERMS, "section": "loans"})


def telegram_link(start: str = "") -> str:
    """The bot's t.me link; `start` becomes the /start payload the bot acts on."""
    base = f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}"
    return f"{base}?start={start}" if start else base


@require_GET
def loan_detail(request: HttpRequest, loan_id: int):
    loan = selectors.public_loan(loan_id=loan_id)
    if loan is None:
        raise Http404
    link = telegram_link(f"loan_{loan.pk}")
    progress = loan.funded_amount * 100 // loan.principal
    return render(request, "web/loan_detail.html", {
        "loan": loan, "fund_link": link, "progress": progress,
        "open": loan_open_for_funding(loan=loan),
        "qr": base64.b64encode(qr_png(link, box_size=6)).decode(), "section": "loans"})


# --- backstop pool ---------------------------------------------------------------------------

def _duration(seconds: int, language: str) -> str:
    """A cooldown in whole days, or in hours when shorter than a day."""
    if seconds >= 86400:
        days = seconds // 86400
        return ngettext("%(count)s day", "%(count)s days", days) % {
            "count": format_number(days, language)}
    hours = -(-seconds // 3600)
    return ngettext("%(count)s hour", "%(count)s hours", hours) % {
        "count": format_number(hours, language)}


@require_GET
@ensure_csrf_cookie
def pool(request: HttpRequest):
    person = _person(request)
    overview = pool_overview()
    position = (pool_position(address=person.wallet_address)
                if person and person.wallet_address else None)
    return render(request, "web/pool.html", {
        "pool": overview, "person": person, "position": position,
        "cooldown": _duration(overview.cooldown_seconds, _language()),
        "client_text": {"noWallet": _("No wallet found in this browser."),
                        "failed": _("Something went wrong:")},
        "section": "pool"})


@require_GET
def pool_position_json(request: HttpRequest) -> JsonResponse:
    """The connected wallet's position, as the page shows it (amounts already formatted)."""
    address = request.GET.get("address", "")
    if not is_address(address):
        return JsonResponse({"ok": False, "error": _("The wallet address is not valid.")},
                            status=400)
    position = pool_position(address=address)
    if position is None:
        return JsonResponse({"ok": False, "error": _("The pool cannot be read right now.")},
                            status=503)
    language = _language()
    return JsonResponse({
        "ok": True, "shares": str(position.shares),
        "assets": format_amount(position.assets, language),
        "wallet": format_amount(position.wallet_balance, language),
        "status": position.withdraw_status,
        "unlock": format_date(position.unlock_at, language) if position.unlock_at else ""})


def _amount(text: str) -> int | None:
    """Whole or decimal tokens typed in a form (the browser's number field) to base units."""
    try:
        value = Decimal(localize_digits(text.strip(), "en"))
        units = value.scaleb(settings.STABLE_DECIMALS)  # "1e999999" overflows here
    except ArithmeticError:
        return None
    if not units.is_finite():
        return None
    return int(units) if units == units.to_integral_value() and units > 0 else None


def _pool_refused(request: HttpRequest, message: str):
    return render(request, "web/pool_refused.html", {"message": message, "section": "pool"},
                  status=400)


@require_POST
def pool_deposit(request: HttpRequest):
    person = _person(request)
    if person is None:
        return redirect("web:me")
    amount = _amount(request.POST.get("amount", ""))
    if amount is None:
        return _pool_refused(request, _("Choose an amount above zero."))
    try:
        _request, token = actions.pool_deposit_request(user=person, amount=amount)
    except ServiceError as error:
        return _pool_refused(request, str(error))
    return HttpResponseRedirect(reverse("signing:signing_page", args=[token]))


@require_POST
def pool_withdraw(request: HttpRequest):
    person = _person(request)
    if person is None:
        return redirect("web:me")
    # The position is read fresh from the chain: shares for an amount follow its price now.
    position = pool_position(address=person.wallet_address) if person.wallet_address else None
    if position is None:
        return _pool_refused(request, _("The pool cannot be read right now."))
    if position.withdraw_status == "ready":
        shares, ready = position.redeemable_shares, True
    else:
        amount = _amount(request.POST.get("amount", ""))
        shares = pool_shares_for(position=position, assets=amount) if amount else 0
        ready = False
    try:
        _request, token = actions.pool_withdraw_request(user=person, shares=shares, ready=ready)
    except ServiceError as error:
        return _pool_refused(request, str(error))
    return HttpResponseRedirect(reverse("signing:signing_page", args=[token]))


# --- personal pages --------------------------------------------------------------------------

STATEMENT_ROWS = 100


@require_GET
def me(request: HttpRequest):
    person = _person(request)
    if person is None:
        return render(request, "web/me_login.html", {
            "bot_link": telegram_link(), "section": "me"})
    return render(request, "web/me.html", {
        "person": person, "loans": selectors.my_loans(user=person),
        "portfolio": selectors.my_portfolio(user=person),
        "statement": user_statement(user=person, limit=STATEMENT_ROWS),
        "statement_rows": STATEMENT_ROWS, "section": "me"})


@require_GET
def me_login(request: HttpRequest, token: str):
    try:
        user = services.login_token_redeem(token=token)
    except services.LoginRefused as error:
        return render(request, "web/me_login.html", {
            "error": str(error), "bot_link": telegram_link(), "section": "me"},
            status=403)
    _sign_in(request, user)
    # Drop the token from the address bar and history.
    return _with_language(redirect("web:me"), user)


@require_GET
@ensure_csrf_cookie
def me_app(request: HttpRequest):
    """The Mini App entry: its script posts Telegram's init data to me_app_auth."""
    return render(request, "web/me_app.html", {"section": "me"})


@require_POST
def me_app_auth(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body or b"{}")
        init_data = str(body.get("init_data", "")) if isinstance(body, dict) else ""
    except ValueError:
        init_data = ""
    try:
        user = services.webapp_init_data_verify(init_data=init_data)
    except services.LoginRefused as error:
        return JsonResponse({"ok": False, "error": str(error)}, status=403)
    _sign_in(request, user)
    return _with_language(JsonResponse({"ok": True, "next": reverse("web:me")}), user)


@require_POST
def me_logout(request: HttpRequest):
    request.session.flush()
    return redirect("web:dashboard")


@require_GET
def me_statement_csv(request: HttpRequest):
    """The whole statement (not only the page's last rows), amounts in base units and tokens."""
    person = _person(request)
    if person is None:
        return redirect("web:me")
    scale = Decimal(10) ** -settings.STABLE_DECIMALS
    rows = ([posting.entry.occurred_at.isoformat(), posting.entry.description,
             posting.account.kind, posting.entry.loan_id or "", posting.amount,
             str(Decimal(posting.amount) * scale)]
            for posting in user_statement(user=person))
    return csv_response(name="lendgram-statement", rows=rows, header=[
        "occurred_at", "description", "account", "loan_id", "amount_base_units", "amount"])
