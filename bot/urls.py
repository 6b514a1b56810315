from django.urls import path

from bot import sandbox_views, webhook

urlpatterns = [
    path("telegram/webhook/", webhook.telegram_webhook, name="telegram-webhook"),
    path("sandbox/", sandbox_views.sandbox, name="sandbox"),
]
