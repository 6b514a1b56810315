from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Lendgram project (run command)"
    # Two configs live here: "config" in INSTALLED_APPS means this one.
    default = True

    def ready(self) -> None:
        from config import checks  # noqa: F401 (registers the deployment checks)


class OperatorAdminConfig(admin_apps.AdminConfig):
    """Django admin whose default site asks operators for a second factor (config/adminsite.py)."""

    default = False
    default_site = "config.adminsite.OperatorAdminSite"
