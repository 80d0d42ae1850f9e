"""What the reports app adds to the shared registries (called by ``apps.core.discovery``)."""

from __future__ import annotations


def register_home_pages() -> None:
    """The home page (``core:home``) by role: station staff see today's work, district-wide roles the
    dashboard; anyone else keeps core's summary."""
    from apps.core.home import register_home

    from .views import home

    register_home("reports.station", applies=home.station_applies, view=home.station_home, order=10)
    register_home("reports.dashboard", applies=home.dashboard_applies, view=home.dashboard_home, order=20)


def register() -> None:
    register_home_pages()
