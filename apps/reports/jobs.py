"""Background job kinds of the reports app (found by name: ``apps.core.discovery``)."""

from django.utils.translation import gettext_lazy as _

from apps.core import jobs


def register_jobs() -> None:
    from .monthly import JOB_KIND, monthly_report_run

    jobs.register(kind=JOB_KIND, run=monthly_report_run, queue="reports", label=_("Monthly work report"))
