from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    name = "core.devtools"
    label = "devtools"
    verbose_name = "Developer tools (run command, demo data)"
