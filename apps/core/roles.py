"""Which permissions each role (Django group) holds. Seeded by migration; later apps' migrations
grant their own permissions with ``grant``."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

ADMIN = "系统管理员"
LEADER = "局领导"
BUREAU_STAFF = "局机关工作人员"
STREET_STATION = "街道(镇)服务站"
VILLAGE_STATION = "村(社区)服务站"
ENTERPRISE = "企业联络人"

CORE_PERMISSIONS = {
    ADMIN: ["core.view_orgunit", "core.manage_orgunits", "core.view_user", "core.manage_users", "core.view_audit",
            "core.view_accesslog"],
    LEADER: ["core.view_orgunit"],
    BUREAU_STAFF: ["core.view_orgunit"],
    STREET_STATION: ["core.view_orgunit"],
    VILLAGE_STATION: ["core.view_orgunit"],
    ENTERPRISE: [],
}


def all_role_permissions() -> list[tuple[dict[str, list[str]], tuple[str, ...]]]:
    """Every app's role grants, for re-seeding after a test flush (tests/conftest.py)."""
    from importlib import import_module

    grants = [(CORE_PERMISSIONS, ("core",))]
    for config in global_apps.get_app_configs():
        if config.name.startswith("apps.") and config.label != "core":
            try:
                module = import_module(f"{config.name}.roles")
            except ModuleNotFoundError:
                continue
            grants.append((module.ROLE_PERMISSIONS, (config.label,)))
    return grants


def grant(role_permissions: dict[str, list[str]], *, apps=global_apps, app_labels: tuple[str, ...] = ("core",)) -> None:
    """Create the roles if missing and give them the listed permissions (idempotent).

    Works with a migration's historical ``apps`` too: permissions of ``app_labels`` are created first,
    since Django would otherwise create them only after all migrations.
    """
    for label in app_labels:
        config = apps.get_app_config(label)
        had_module = getattr(config, "models_module", None)
        config.models_module = had_module or True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = had_module
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group, _created = group_model.objects.get_or_create(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))
