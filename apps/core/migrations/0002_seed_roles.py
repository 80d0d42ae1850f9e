"""Seed the six roles (Django groups) and the core permissions each one holds."""

from django.db import migrations

from apps.core.roles import CORE_PERMISSIONS, grant


def seed_roles(apps, schema_editor):
    grant(CORE_PERMISSIONS, apps=apps, app_labels=("core",))


def unseed_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(CORE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(seed_roles, unseed_roles)]
