from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The operators' admin screens and actions that span apps (no models of its own)."""

    name = "core.backoffice"
    label = "backoffice"
    verbose_name = "Back office"
