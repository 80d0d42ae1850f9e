"""Report forms: the reads with rules. Reports and their files are read only through ``visible_to(user)``:
another street's report or file is missing (404)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from apps.core.models import OrgUnit, User

from .models import Report, ReportFile, ReportForm


def report_form_list(*, user: User) -> QuerySet[ReportForm]:
    forms = ReportForm.objects.defer("template").order_by("code")
    if not user.has_perm("reports.manage_forms"):
        forms = forms.filter(is_active=True)
    return forms


def report_form_detail(*, user: User, pk: int) -> ReportForm:
    return report_form_list(user=user).get(pk=pk)


def report_list(*, user: User, form: ReportForm | None = None) -> QuerySet[Report]:
    reports = (Report.objects.visible_to(user).select_related("form", "org_unit", "generated_by", "reviewed_by", "locked_by")
               .defer("form__template").annotate(versions=Count("files")))
    if form is not None:
        reports = reports.filter(form=form)
    return reports.order_by("-period", "org_unit__path", "form__code")


def report_detail(*, user: User, pk: int) -> Report:
    return report_list(user=user).get(pk=pk)


def report_file_detail(*, user: User, pk: int) -> ReportFile:
    return (ReportFile.objects.visible_to(user).select_related("report__form", "report__org_unit", "created_by")
            .defer("report__form__template").get(pk=pk))


def report_units(*, user: User, form: ReportForm) -> QuerySet[OrgUnit]:
    """The units of the user's area a report of this form may be made for."""
    return OrgUnit.objects.visible_to(user).filter(level__in=form.unit_levels, is_active=True).order_by("path")
