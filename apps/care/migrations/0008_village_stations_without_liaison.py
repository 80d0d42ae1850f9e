"""Village stations no longer read 机关驻街 (bureau departments paired with streets: nothing of it is in a
village's area, and its menu entry only led to an empty list)."""

from django.db import migrations

# Literal values, not imports of live code: a migration means what it meant when it was written.
VILLAGE_STATION = "村(社区)服务站"

# As they were named when this migration was written (机关驻街 has since moved to apps/liaison).
LIAISON_READ = ["care.view_liaisonpairing", "care.view_liaisontask"]


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=VILLAGE_STATION).first()
    if group is None:
        return
    for dotted in LIAISON_READ:
        app_label, codename = dotted.split(".")
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [("care", "0007_worklist_indexes"), ("core", "0002_seed_roles")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
