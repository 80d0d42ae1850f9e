"""Celery application. Broker is Redis (REDIS_URL); without it tasks run in-process (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veterans_portal.settings.local")

app = Celery("veterans_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
