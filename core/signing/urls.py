from django.urls import path

from core.signing import devwallet, views

app_name = "signing"
urlpatterns = [
    path("s/<str:token>/", views.signing_page, name="signing_page"),
    path("s/<str:token>/status", views.signing_status, name="status"),
    path("s/<str:token>/message", views.link_message, name="link_message"),
    path("s/<str:token>/verify", views.link_verify, name="link_verify"),
    path("s/<str:token>/submitted", views.report_transactions, name="submitted"),
    path("dev/wallet/rpc", devwallet.dev_wallet_rpc, name="dev_wallet_rpc"),
]
