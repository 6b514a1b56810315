from django.apps import AppConfig


class SigningConfig(AppConfig):
    # The label stays "wallets": the tables and migration history of existing databases are
    # recorded under it (the app was core/wallets before the chain indexer moved out).
    name = "core.signing"
    label = "wallets"
    verbose_name = "Signing"
