from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.core.schedule import SCHEDULE


class Command(BaseCommand):
    help = "Load the periodic tasks defined in code (apps/*/schedule.py) into django-celery-beat."

    def handle(self, *args, **options):
        with transaction.atomic():
            for spec in SCHEDULE.values():
                crontab, _created = CrontabSchedule.objects.get_or_create(
                    minute=spec.minute, hour=spec.hour, day_of_week=spec.day_of_week,
                    day_of_month=spec.day_of_month, month_of_year=spec.month_of_year, timezone=settings.TIME_ZONE,
                )
                PeriodicTask.objects.update_or_create(
                    name=spec.name, defaults={"task": spec.task, "crontab": crontab, "interval": None, "enabled": True}
                )
            stale = PeriodicTask.objects.exclude(name__in=list(SCHEDULE)).exclude(name__startswith="celery.")
            removed = stale.count()
            stale.delete()
        self.stdout.write(f"periodic tasks: {len(SCHEDULE)} defined, {removed} stale removed")
