"""What the reports app adds to the portal (called once by ``apps.core.discovery``): the home page by role and
the menu entries, one function per part."""

from __future__ import annotations

from django.utils.translation import gettext_lazy


def register_home_pages() -> None:
    """The home page (``core:home``) by role: station staff see today's work, district-wide roles the
    dashboard; anyone else keeps core's summary."""
    from apps.core.home import register_home

    from .views import home

    register_home("reports.station", applies=home.station_applies, view=home.station_home, order=10)
    register_home("reports.dashboard", applies=home.dashboard_applies, view=home.dashboard_home, order=20)


def register_dashboard() -> None:
    from apps.core import navigation
    from apps.core.navigation import NavItem

    navigation.register(NavItem("dashboard", gettext_lazy("Statistics dashboard"), "reports:dashboard",
                                "bar-chart-line", "reports.view_dashboard", order=5))


def register_monthly() -> None:
    from apps.core import navigation
    from apps.core.navigation import NavItem

    navigation.register(NavItem("monthly", gettext_lazy("Monthly work report"), "reports:monthly",
                                "file-earmark-bar-graph", "reports.view_monthly_report", order=6))


def register_report_forms() -> None:
    """上报报表: for whoever generates reports (administrators, who keep the forms, may too)."""
    from apps.core import navigation
    from apps.core.navigation import NavItem

    navigation.register(NavItem("report_forms", gettext_lazy("Report forms"), "reports:form_list",
                                "file-earmark-spreadsheet", "reports.fill_report", order=75))


def register() -> None:
    register_home_pages()
    register_dashboard()
    register_monthly()
    register_report_forms()
