"""The roles (Django groups) and core's permissions for each.

Every app lists its grants in ``<app>/roles.py`` as ``ROLE_PERMISSIONS = {role: ["app.codename", ...]}``;
after each ``migrate`` (and a test database's flush) core applies them all (``apps.core.discovery``,
``grant_roles``). Grants are additive: a permission taken out of a ``roles.py`` is not revoked from a
database that already granted it — revoking is a deliberate data migration that says why.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

ADMIN = "系统管理员"
LEADER = "局领导"
BUREAU_STAFF = "局机关工作人员"
STREET_STATION = "街道(镇)服务站"
VILLAGE_STATION = "村(社区)服务站"
ENTERPRISE = "企业联络人"

ROLE_PERMISSIONS = {
    ADMIN: ["core.view_orgunit", "core.manage_orgunits", "core.view_user", "core.manage_users", "core.view_audit",
            "core.view_accesslog"],
    LEADER: ["core.view_orgunit"],
    BUREAU_STAFF: ["core.view_orgunit"],
    STREET_STATION: ["core.view_orgunit"],
    VILLAGE_STATION: ["core.view_orgunit"],
    ENTERPRISE: [],
}


def grant(role_permissions: dict[str, list[str]], *, apps=global_apps, using: str = "default") -> int:
    """Create the roles if missing and give them the listed permissions; idempotent and additive (nothing is
    revoked). The permissions of the apps named are created first, in case their own post-migrate step has
    not run yet. Returns the number of permissions newly granted."""
    for label in sorted({dotted.split(".")[0] for perms in role_permissions.values() for dotted in perms}):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0, using=using)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    wanted = {dotted for perms in role_permissions.values() for dotted in perms}
    by_name = {f"{p.content_type.app_label}.{p.codename}": p for p in permission_model.objects.using(using)
               .filter(content_type__app_label__in={d.split(".")[0] for d in wanted}).select_related("content_type")}
    added = 0
    for role, perms in role_permissions.items():
        group, _created = group_model.objects.using(using).get_or_create(name=role)
        held = set(group.permissions.values_list("pk", flat=True))
        missing = [by_name[dotted] for dotted in perms if by_name[dotted].pk not in held]
        group.permissions.add(*missing)
        added += len(missing)
    return added
