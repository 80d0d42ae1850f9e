"""Grant the care permissions to the roles."""

from django.db import migrations

from apps.care.roles import ROLE_PERMISSIONS
from apps.core.roles import grant


def forwards(apps, schema_editor):
    grant(ROLE_PERMISSIONS, apps=apps, app_labels=("care",))


class Migration(migrations.Migration):
    dependencies = [("care", "0002_seed_occasions_and_rules"), ("core", "0002_seed_roles")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
