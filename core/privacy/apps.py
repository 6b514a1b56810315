from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A person's own data: the export of everything held about them and the erasure of what
    the lending records do not require. It reads and writes across apps, so it sits on top."""

    name = "core.privacy"
    label = "privacy"
    verbose_name = "Privacy requests"
