"""The care app's periodic task: the reminder run every night at 01:30 (Asia/Shanghai)."""

from apps.core.schedules import PeriodicTaskSpec

SCHEDULES = [PeriodicTaskSpec(name="care-reminders-nightly", task="care.reminders_run", minute="30", hour="1")]
