"""Grant the registry permissions to the roles. Leadership reads; stations and bureau staff keep records."""

from django.db import migrations

from apps.core.roles import grant
from apps.registry.roles import ROLE_PERMISSIONS

def forwards(apps, schema_editor):
    grant(ROLE_PERMISSIONS, apps=apps, app_labels=("registry",))


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_seed_code_tables"), ("core", "0002_seed_roles")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
