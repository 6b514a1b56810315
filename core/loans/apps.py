from django.apps import AppConfig


class LoansConfig(AppConfig):
    name = "core.loans"
    label = "loans"
