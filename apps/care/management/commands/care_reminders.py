"""Run the nightly reminder job now (rules → due visits, cancel, escalate, remind): ``make run`` calls it once
so that the demo shows reminders without a Celery beat."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.care import services


class Command(BaseCommand):
    help = "Turn the visit rules into due visits now, escalate overdue ones and remind the stations."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, default=None, help="compute as of this day (ISO)")

    def handle(self, *args, date=None, **options):
        try:
            run = services.reminders_run(on=date)
        except services.RunInProgress as exc:
            raise CommandError("another reminder run is in progress") from exc
        self.stdout.write(f"care: created={run.created} cancelled={run.cancelled} escalated={run.escalated} "
                          f"units_reminded={run.notified_units} on={run.on_date}")
