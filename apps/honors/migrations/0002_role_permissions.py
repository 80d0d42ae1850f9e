"""Grant the honours permissions to the roles: stations and bureau staff keep the registers, leadership reads."""

from django.db import migrations

from apps.core.roles import grant
from apps.honors.roles import ROLE_PERMISSIONS


def forwards(apps, schema_editor):
    grant(ROLE_PERMISSIONS, apps=apps, app_labels=("honors",))


class Migration(migrations.Migration):
    dependencies = [("honors", "0001_initial"), ("core", "0002_seed_roles")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
