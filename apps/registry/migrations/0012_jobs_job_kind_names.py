"""Background jobs run through core's job-kind registry: the registry's kinds are renamed from the Celery task
names they used to be (``registry.export_veterans``, ``registry.import_veterans``) to ``registry.export`` and
``registry.import``, so older jobs can still be retried and their files downloaded."""

from django.db import migrations

RENAMES = {"registry.export_veterans": "registry.export", "registry.import_veterans": "registry.import"}


def forwards(apps, schema_editor):
    Job = apps.get_model("core", "Job")
    for old, new in RENAMES.items():
        Job.objects.filter(kind=old).update(kind=new)


def backwards(apps, schema_editor):
    Job = apps.get_model("core", "Job")
    for old, new in RENAMES.items():
        Job.objects.filter(kind=new).update(kind=old)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_jobs_heartbeat_outbox"),
        ("registry", "0011_integrity_tags_categories_history"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
