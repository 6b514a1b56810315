"""The loans jobs run through Celery (eagerly here) and call their service."""

import pytest

from core.loans.tasks import refresh_lateness

pytestmark = pytest.mark.django_db


def test_refresh_lateness_runs_as_a_celery_task():
    assert refresh_lateness.apply().get() == 0


def test_every_scheduled_job_names_a_registered_task():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
