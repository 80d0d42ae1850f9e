"""The care app's periodic task: the reminder run every night at 01:30 (Asia/Shanghai)."""

from apps.core.schedule import PeriodicTaskSpec, register

register(PeriodicTaskSpec(name="care-reminders-nightly", task="care.reminders_run", minute="30", hour="1"))
