from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.core.discovery import schedules


class Command(BaseCommand):
    help = "Load the periodic tasks defined in code (apps/*/schedules.py) into django-celery-beat."

    def handle(self, *args, **options):
        specs = schedules()
        with transaction.atomic():
            for spec in specs.values():
                crontab, _created = CrontabSchedule.objects.get_or_create(
                    minute=spec.minute, hour=spec.hour, day_of_week=spec.day_of_week,
                    day_of_month=spec.day_of_month, month_of_year=spec.month_of_year, timezone=settings.TIME_ZONE,
                )
                PeriodicTask.objects.update_or_create(
                    name=spec.name, defaults={"task": spec.task, "crontab": crontab, "interval": None, "enabled": True}
                )
            stale = PeriodicTask.objects.exclude(name__in=list(specs)).exclude(name__startswith="celery.")
            removed = stale.count()
            stale.delete()
        self.stdout.write(f"periodic tasks: {len(specs)} defined, {removed} stale removed")
