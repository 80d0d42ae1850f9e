"""Granted the care permissions to the roles by importing live code. The grants are now applied after every
``migrate`` from apps/care/roles.py (apps.core.discovery.grant_roles); this migration stays, empty, so that the
chain of migrations is unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("care", "0002_seed_occasions_and_rules"), ("core", "0002_seed_roles")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
