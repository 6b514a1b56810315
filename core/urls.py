"""URL map. Pages are added by the apps that own them."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Lendgram operations"
admin.site.site_title = "Lendgram"

urlpatterns = [
    # The public dashboard takes "/" when the web pages land; until then operators start here.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("core.wallets.urls")),
    # The bot: /telegram/webhook/ and the sandbox chat at /sandbox/.
    path("", include("bot.urls")),
]
