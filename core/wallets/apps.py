from django.apps import AppConfig


class WalletsConfig(AppConfig):
    name = "core.wallets"
    label = "wallets"
    verbose_name = "Wallet signing and chain sync"
