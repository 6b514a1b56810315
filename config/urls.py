"""URL map. Pages are added by the apps that own them."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # The public dashboard at "/", loans, the backstop pool and the personal pages (/me/).
    path("", include("core.web.urls")),
    path("admin/", admin.site.urls),
    # /health, /health/live and /metrics (core/ops/).
    path("", include("core.ops.urls")),
    path("", include("core.signing.urls")),
    # The bot: /telegram/webhook/ and the sandbox chat at /sandbox/.
    path("", include("bot.urls")),
]
