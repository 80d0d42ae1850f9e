"""The monthly work report page: the user's own monthly reports (copies in their download centre) with each
file's expiry, and, for administrators and bureau staff, "build now" for a month and a unit.

Downloads go through the download centre (``jobs:job_download``), which re-checks ownership, the permission and
area the file was made under, and expiry: this page adds no second way to a file.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy, pgettext
from django.views.generic import TemplateView

from apps.core import files, jobs
from apps.core.choices import JobStatus
from apps.core.figures import MONTH, Period, recent_periods
from apps.core.models import Job, OrgUnit
from apps.core.scoping import RoleRequiredMixin
from apps.core.views.kit import ServiceFormView

from ..monthly import JOB_KIND, PERMISSION, RECIPIENT_ROLE, last_month, monthly_report_request


def may_build(user) -> bool:
    """Administrators and bureau staff: district-wide users who generate reports."""
    return user.has_perm(PERMISSION) and user.has_perm("reports.fill_report") and user.sees_whole_district


class BuildForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Month"))
    unit = forms.TypedChoiceField(label=gettext_lazy("Unit"), coerce=int)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p.key, p.label) for p in recent_periods(MONTH, 13)]
        self.fields["period"].initial = last_month().key
        units = OrgUnit.objects.visible_to(user).filter(is_active=True, level__in=list(RECIPIENT_ROLE)).order_by("path")
        self.units = {u.pk: u for u in units}
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]


class MonthlyReportListView(RoleRequiredMixin, TemplateView):
    permission_required = PERMISSION
    template_name = "reports/monthly.html"
    paginate_by = 20

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        reports = Job.objects.visible_to(user).filter(kind=JOB_KIND).order_by("-created_at", "-pk")
        period = self.request.GET.get("period", "")
        try:
            period = Period.parse(period).key if period else ""
        except ValidationError:
            period = ""
        if period:
            reports = reports.filter(params__period=period)
        page = Paginator(reports, self.paginate_by).get_page(self.request.GET.get("page"))
        for job in page:
            job.expires_at = files.job_expires_at(job) if job.status == JobStatus.DONE else None
            job.past_ttl = job.status == JobStatus.DONE and files.job_is_past_ttl(job)
            job.may_download = (job.status == JobStatus.DONE and bool(job.output_file) and not job.past_ttl
                                and files.job_grants_hold(user, job))
        ctx.update(page_obj=page, reports=list(page), period=period, ttl_days=files.generated_files_ttl().days,
                   may_build=may_build(user), form=BuildForm(user=user) if may_build(user) else None)
        return ctx


class MonthlyReportBuildView(ServiceFormView):
    """Build a month's report for the district or a street now; the requester owns the build, the recipients
    get their copies and (once) a notification."""

    permission_required = PERMISSION
    form_class = BuildForm
    title = gettext_lazy("Build a monthly work report now")
    success_message = gettext_lazy("The report is being built; it will appear below and in the download centre.")
    cancel_url = "reports:monthly"

    def has_permission(self) -> bool:
        return super().has_permission() and may_build(self.request.user)

    def get_form_kwargs(self) -> dict:
        return {"user": self.request.user}

    def perform(self, data: dict):
        unit = self.form.units[data["unit"]]
        with transaction.atomic():
            job = monthly_report_request(unit=unit, period=Period.parse(data["period"]), actor=self.request.user)
            jobs.start(job)
        return reverse("reports:monthly")

    def form_error(self, form, exc: ValidationError) -> None:
        form.add_error(None, exc)

    def success_url(self, result) -> str:
        return result

    def get_context_data(self, form) -> dict:
        return {**super().get_context_data(form), "submit_label": pgettext("monthly report", "Build now"), "narrow": True}
