from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "core.ops"
    label = "ops"
    verbose_name = "Operations: health, metrics, logs"

    def ready(self) -> None:
        from core.ops import metrics

        metrics.connect_celery_signals()
