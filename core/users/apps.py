from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "core.users"
    label = "users"
    verbose_name = "Telegram users"
