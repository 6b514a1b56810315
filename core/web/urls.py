from django.urls import path
from django.views.i18n import set_language

from core.web import views
from core.web.framing import telegram_frameable

# The pages are the Mini App's too: Telegram's web clients may frame them.
app_name = "web"
urlpatterns = [
    path("", telegram_frameable(views.dashboard), name="dashboard"),
    path("loans/", telegram_frameable(views.loan_list), name="loans"),
    path("loans/<int:loan_id>/", telegram_frameable(views.loan_detail), name="loan"),
    path("pool/", telegram_frameable(views.pool), name="pool"),
    path("pool/position", views.pool_position_json, name="pool_position"),
    path("pool/deposit", views.pool_deposit, name="pool_deposit"),
    path("pool/withdraw", views.pool_withdraw, name="pool_withdraw"),
    path("me/", telegram_frameable(views.me), name="me"),
    path("me/login/<str:token>/", telegram_frameable(views.me_login), name="me_login"),
    path("me/app/", telegram_frameable(views.me_app), name="me_app"),
    path("me/app/auth", views.me_app_auth, name="me_app_auth"),
    path("me/logout", views.me_logout, name="me_logout"),
    path("language/", set_language, name="set_language"),
    path("me/statement.csv", views.me_statement_csv, name="me_statement_csv"),
]
