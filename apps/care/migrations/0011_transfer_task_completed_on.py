"""Done tasks record the date of the visit that answered them (``completed_on``), so that a task visited after
its due date counts as late. Existing done tasks take their visit's date, or the day they were closed."""

from django.conf import settings
from django.db import migrations, models

BACKFILL = """
UPDATE care_duevisit d SET completed_on = v.date FROM care_visit v
 WHERE d.visit_id = v.id AND d.status = 'done' AND d.completed_on IS NULL;
UPDATE care_duevisit SET completed_on = (closed_at AT TIME ZONE %s)::date
 WHERE status = 'done' AND completed_on IS NULL AND closed_at IS NOT NULL;
"""


def backfill(apps, schema_editor):
    for statement in filter(None, (s.strip() for s in BACKFILL.split(";"))):
        params = [settings.TIME_ZONE] if "%s" in statement else []
        schema_editor.execute(statement, params)


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0010_worklist_occasion_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='duevisit',
            name='completed_on',
            field=models.DateField(blank=True, null=True, verbose_name='visited on'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
