"""Settings of the Celery workers the fault tests start: the project's, with a beat schedule
cut down to the jobs a test names (FAULT_BEAT_JOBS), each run every FAULT_BEAT_EVERY_S."""

import os

from config.settings import *  # noqa: F403
from config.settings import CELERY_BEAT_SCHEDULE as _ALL_JOBS

_JOBS = [name for name in os.environ.get("FAULT_BEAT_JOBS", "").split(",") if name]
CELERY_BEAT_SCHEDULE = {
    name: {**_ALL_JOBS[name], "schedule": float(os.environ.get("FAULT_BEAT_EVERY_S", "1"))}
    for name in _JOBS
}
