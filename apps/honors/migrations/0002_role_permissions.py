"""Granted the honors permissions to the roles by importing live code. The grants are now applied after every
``migrate`` from apps/honors/roles.py (apps.core.discovery.grant_roles); this migration stays, empty, so that the
chain of migrations is unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("honors", "0001_initial"), ("core", "0002_seed_roles")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
