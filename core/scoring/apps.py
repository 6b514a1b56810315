from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "core.scoring"
    label = "scoring"
    verbose_name = "Credit scoring"
