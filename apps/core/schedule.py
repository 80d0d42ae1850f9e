"""Periodic tasks, defined in code. ``manage.py sync_schedules`` loads them into django-celery-beat.

Apps add entries with ``register``; times are Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicTaskSpec:
    name: str
    task: str
    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"


SCHEDULE: dict[str, PeriodicTaskSpec] = {}


def register(spec: PeriodicTaskSpec) -> None:
    SCHEDULE[spec.name] = spec


register(PeriodicTaskSpec(name="audit-purge-daily", task="core.audit_purge", minute="30", hour="3"))
register(PeriodicTaskSpec(name="generated-files-purge-hourly", task="core.generated_files_purge", minute="20"))
register(PeriodicTaskSpec(name="outbox-drain", task="core.outbox_drain", minute="*"))
register(PeriodicTaskSpec(name="jobs-fail-stuck", task="core.jobs_fail_stuck", minute="*/5"))
