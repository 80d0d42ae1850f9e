"""The monthly work report (月度工作报告): what it says (``content``), the PDF (``document``), and how it is built
and handed out through core's jobs and download centre (``delivery``)."""

from .content import MonthlyContent, change, monthly_content, shown
from .delivery import (
    JOB_KIND,
    PERMISSION,
    RECIPIENT_ROLE,
    last_month,
    may_read,
    monthly_recipients,
    monthly_report_request,
    monthly_report_run,
    monthly_reports_build,
    report_units,
)
from .document import monthly_filename, monthly_html, monthly_pdf

__all__ = [
    "JOB_KIND", "PERMISSION", "RECIPIENT_ROLE", "MonthlyContent", "change", "last_month", "may_read", "monthly_content",
    "monthly_filename", "monthly_html", "monthly_pdf", "monthly_recipients", "monthly_report_request",
    "monthly_report_run", "monthly_reports_build", "report_units", "shown",
]
