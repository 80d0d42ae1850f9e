"""Periodic tasks, defined in code. ``manage.py sync_schedules`` loads them into django-celery-beat.

Each app lists its own in ``<app>/schedules.py`` as ``SCHEDULES = [PeriodicTaskSpec(...)]``, found by name
(``apps.core.discovery.schedules``); times are Asia/Shanghai. This module holds core's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class PeriodicTaskSpec:
    name: str
    task: str
    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"


SCHEDULES = [
    PeriodicTaskSpec(name="audit-purge-daily", task="core.audit_purge", minute="30", hour="3"),
    PeriodicTaskSpec(name="generated-files-purge-hourly", task="core.generated_files_purge", minute="20"),
    PeriodicTaskSpec(name="outbox-drain", task="core.outbox_drain", minute="*"),
    PeriodicTaskSpec(name="jobs-fail-stuck", task="core.jobs_fail_stuck", minute="*/5"),
    PeriodicTaskSpec(name="figures-refresh", task="core.figures_refresh", minute=f"*/{max(1, min(59, settings.FIGURES_REFRESH_MINUTES))}"),
]
