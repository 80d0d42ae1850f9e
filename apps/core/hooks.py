"""What core adds to the shared registries (called by ``apps.core.discovery``): its menu entries."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from .navigation import NavItem
    from .navigation import register as nav

    nav(NavItem("home", _("Home"), "core:home", "house", order=0))
    nav(NavItem("downloads", _("Download centre"), "jobs:job_list", "cloud-download", order=890))
    nav(NavItem("orgunits", _("Org units"), "core:orgunit_list", "diagram-3", "core.view_orgunit", order=900))
    nav(NavItem("users", _("Users"), "core:user_list", "people", "core.manage_users", order=910))
    nav(NavItem("audit", _("Audit log"), "core:audit", "shield-check", "core.view_audit", order=920))
