from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "core.scoring"
    label = "scoring"
    verbose_name = "Credit scoring"

    def ready(self) -> None:
        # Registered in every process, so that a job lower apps queue by name
        # ("scoring.score_application") resolves here, eagerly in tests and scripts too.
        from core.scoring import tasks  # noqa: F401
