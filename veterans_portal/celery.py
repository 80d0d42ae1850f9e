"""Celery application. Broker is Redis (REDIS_URL); without it tasks run in-process (see settings)."""

import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veterans_portal.settings.local")

app = Celery("veterans_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def drain_outbox_on_start(sender=None, **kwargs) -> None:
    """A worker (re)started after a kill does the follow-up work left in the outbox (apps.core.outbox)."""
    try:
        consumer = getattr(sender, "task_consumer", None)
        queues = [queue.name for queue in getattr(consumer, "queues", [])]
        sender.app.send_task("core.outbox_drain", ignore_result=True, queue=queues[0] if queues else None)
    except Exception:  # noqa: BLE001 - the minute drain from beat does it anyway
        logging.getLogger(__name__).warning("could not queue the outbox drain at worker start", exc_info=True)
