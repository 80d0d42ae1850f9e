"""Reports: role home pages, the leadership dashboard, the authority's report forms and the monthly PDF.

The dashboard and the home pages keep no data of their own: they read the figure registry
(``apps.core.figures``) and the other apps' selectors.
"""

from __future__ import annotations

from django.db import models


class ReportsAccess(models.Model):
    """Holds the reports permissions (no table): who sees the dashboard, who may download its tables (figures
    only, no personal data), who keeps the report forms, fills and reviews reports, reads the monthly report."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboard", "Can view the leadership dashboard"),
            ("export_dashboard", "Can download dashboard tables (figures only)"),
            ("manage_forms", "Can upload report forms and bind their cells"),
            ("fill_report", "Can generate reports from report forms"),
            ("review_report", "Can review and lock reports"),
            ("view_monthly_report", "Can read the monthly work report"),
        ]

    def __str__(self) -> str:
        return "reports"
