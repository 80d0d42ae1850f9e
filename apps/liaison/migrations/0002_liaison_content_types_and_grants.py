"""The content types of the moved models change app label care → liaison, so the Permission rows (and with
them every role's and user's grants, and the admin log) stay the same rows; their codenames do not change.
On a new database the roles then get the liaison permissions (care.0003 no longer lists them)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from apps.core.roles import ADMIN, BUREAU_STAFF, LEADER, STREET_STATION

MODELS = ("liaisonpairing", "liaisontask", "liaisontaskevent")
# As apps/liaison/roles.py had them when this migration was written (migrations do not import live grants).
READ = ["view_liaisonpairing", "view_liaisontask"]
ROLE_PERMISSIONS = {
    ADMIN: READ,
    LEADER: READ,
    BUREAU_STAFF: READ + ["add_liaisonpairing", "change_liaisonpairing", "add_liaisontask", "change_liaisontask"],
    STREET_STATION: READ + ["change_liaisontask"],
}


def _relabel(apps, old: str, new: str) -> None:
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    for model in MODELS:
        source = content_type_model.objects.filter(app_label=old, model=model).first()
        if source is None:
            continue
        target = content_type_model.objects.filter(app_label=new, model=model).first()
        if target is not None:
            # Created by a post-migrate run between the two migrations: its grants move onto the old rows.
            for permission in permission_model.objects.filter(content_type=target):
                twin = permission_model.objects.filter(content_type=source, codename=permission.codename).first()
                if twin is None:
                    permission.content_type = source
                    permission.save(update_fields=["content_type"])
                    continue
                for group in permission.group_set.all():
                    group.permissions.add(twin)
                for user in permission.user_set.all():
                    user.user_permissions.add(twin)
            target.delete()
        source.app_label = new
        source.save(update_fields=["app_label"])
    content_type_model.objects.clear_cache()


def forwards(apps, schema_editor):
    _relabel(apps, "care", "liaison")
    config = apps.get_app_config("liaison")
    had_module = getattr(config, "models_module", None)
    config.models_module = had_module or True  # create_permissions skips apps without a models module
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = had_module
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        group.permissions.add(*permission_model.objects.filter(content_type__app_label="liaison",
                                                               codename__in=codenames))


def backwards(apps, schema_editor):
    _relabel(apps, "liaison", "care")


class Migration(migrations.Migration):
    dependencies = [
        ("liaison", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("core", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
