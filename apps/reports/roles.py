"""Reports permissions per role. Leadership and bureau staff see the dashboard and download its tables
(figures, no personal data); administrators keep the report forms; bureau staff and street stations generate
and review their unit's reports; leadership and street stations read the monthly work report."""

from apps.core.roles import ADMIN, BUREAU_STAFF, LEADER, STREET_STATION

DASHBOARD = ["reports.view_dashboard", "reports.export_dashboard"]
REPORTING = ["reports.fill_report", "reports.review_report"]
ROLE_PERMISSIONS = {
    ADMIN: DASHBOARD + REPORTING + ["reports.manage_forms", "reports.view_monthly_report"],
    LEADER: DASHBOARD + ["reports.view_monthly_report"],
    BUREAU_STAFF: DASHBOARD + REPORTING + ["reports.view_monthly_report"],
    STREET_STATION: DASHBOARD + REPORTING + ["reports.view_monthly_report"],
}
