"""What the reports app adds to the portal: menu entries (one function per part)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy


def register_dashboard() -> None:
    from apps.core import navigation
    from apps.core.navigation import NavItem

    navigation.register(NavItem("dashboard", gettext_lazy("Statistics dashboard"), "reports:dashboard",
                                "bar-chart-line", "reports.view_dashboard", order=5))


def register() -> None:
    """Called once by apps.core.discovery."""
    register_dashboard()
