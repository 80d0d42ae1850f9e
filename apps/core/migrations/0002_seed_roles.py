"""Seeded the six roles and core's permissions by importing live code. The grants are now applied after every
``migrate`` from each app's ``roles.py`` (apps.core.discovery.grant_roles, a post_migrate receiver); this
migration stays, empty, so that the chain of migrations is unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
