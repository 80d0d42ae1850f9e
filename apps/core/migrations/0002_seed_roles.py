"""Seed the six roles (Django groups) and the core permissions each one holds."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMIN = "系统管理员"
LEADER = "局领导"
BUREAU_STAFF = "局机关工作人员"
STREET_STATION = "街道(镇)服务站"
VILLAGE_STATION = "村(社区)服务站"
ENTERPRISE = "企业联络人"

ROLE_PERMISSIONS = {
    ADMIN: [
        "core.view_orgunit", "core.manage_orgunits", "core.view_user", "core.manage_users", "core.view_audit",
        "core.view_accesslog",
    ],
    LEADER: ["core.view_orgunit"],
    BUREAU_STAFF: ["core.view_orgunit"],
    STREET_STATION: ["core.view_orgunit"],
    VILLAGE_STATION: ["core.view_orgunit"],
    ENTERPRISE: [],
}


def seed_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; create core's now so they can be granted.
    config = apps.get_app_config("core")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def unseed_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(seed_roles, unseed_roles)]
