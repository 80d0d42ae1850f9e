"""Periodic tasks of the reports app (loaded into django-celery-beat by ``manage.py sync_schedules``)."""

from apps.core.schedules import PeriodicTaskSpec

SCHEDULES = [
    # Last month's work report for the district and each street, early on the 1st (Asia/Shanghai).
    PeriodicTaskSpec(name="monthly-work-report", task="reports.monthly_reports_build", minute="0", hour="6",
                     day_of_month="1"),
]
