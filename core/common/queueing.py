"""Publishing Celery work from a user's request without making the request depend on Redis.

The broker is a doorbell, not the record: every job a request asks for is also written in
PostgreSQL (a loan left `submitted`, a message left in the outbox), and a periodic sweep finds
what nobody picked up. So a broker outage costs a delay, never an error shown to the person.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Signature, Task, current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)
# One quick try: a person is waiting, and the sweep covers a missed publish.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                 "interval_max": 0.2}


def publish(task: Task | Signature, *args: Any, **kwargs: Any) -> bool:
    """Send the task now; False (logged) when the broker cannot take it."""
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY)
    except (BrokerError, ConnectionError, OSError) as error:
        logger.warning("broker unavailable, %s left for its periodic sweep (%s)", task.name,
                       error)
        return False
    return True


def publish_by_name(name: str, *args: Any, **kwargs: Any) -> bool:
    """`publish` for a task the caller must not import (a higher layer's, or its own
    package's tasks module, which imports the caller): looked up by its Celery name."""
    return publish(current_app.signature(name), *args, **kwargs)


def publish_by_name_after_commit(name: str, *args: Any, **kwargs: Any) -> None:
    """`publish_by_name` once the current transaction commits (a worker must see its rows)."""
    transaction.on_commit(lambda: publish_by_name(name, *args, **kwargs))
