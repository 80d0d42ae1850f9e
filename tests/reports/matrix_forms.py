"""Report forms rows of the permission matrix (see tests/permissions.py). The report belongs to street A."""

from __future__ import annotations

import importlib

from django.apps import apps as django_apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.permissions import REDIRECT, Route

FILLERS = frozenset({"admin", "bureau", "street_a", "street_b", "manager_a", "manager_b"})  # fill/review_report
FORM_KEEPERS = frozenset({"admin"})  # manage_forms
A_REPORT = frozenset({"admin", "bureau", "street_a", "manager_a"})
A_REPORT_OUT = FILLERS - A_REPORT


def objects(users, tree) -> dict:
    from apps.reports.models import Report, ReportFile, ReportForm

    if not ReportForm.objects.filter(code="veterans-basic").exists():
        importlib.import_module("apps.reports.migrations.0003_ship_forms").load(django_apps, None)
    form = ReportForm.objects.get(code="veterans-basic")
    report = Report.objects.create(form=form, org_unit=tree["street_a"], period="2024-Q1",
                                   generated_by=users["street_a"], generated_at=timezone.now())
    kept = ReportFile(report=report, version=1, sha256="0" * 64, size=4, created_by=users["street_a"])
    kept.file.save("matrix.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    kept.save()
    return {"report_form": form, "report": report, "report_file": kept}


def _pk(key):
    return lambda objs: {"pk": objs[key].pk}


def _bindings_post(objs, who) -> dict:
    from apps.reports.views.forms import BindingsForm

    initial = BindingsForm.initial_from(objs["report_form"].bindings)
    return {k: ("" if v is None else v) for k, v in initial.items()}


def _upload(objs, who) -> dict:
    content = bytes(objs["report_form"].template)
    return {"code": f"matrix-{who}", "name": "矩阵测试表", "period_kind": "quarter", "unit_levels": ["district"],
            "upload": SimpleUploadedFile("form.xlsx", content)}


ROUTES = [
    Route("reports:form_list", ok=FILLERS),
    Route("reports:form_create", ok=FORM_KEEPERS),
    Route("reports:form_create", "post", data=_upload, ok=FORM_KEEPERS, ok_status=REDIRECT),
    Route("reports:form_detail", kwargs=_pk("report_form"), ok=FILLERS),
    Route("reports:form_edit", kwargs=_pk("report_form"), ok=FORM_KEEPERS),
    Route("reports:form_bindings", kwargs=_pk("report_form"), ok=FORM_KEEPERS),
    # The shipped bindings posted back as they are: they check out against the registered figures, saved.
    Route("reports:form_bindings", "post", kwargs=_pk("report_form"), data=_bindings_post, ok=FORM_KEEPERS,
          ok_status=REDIRECT),
    Route("reports:form_template", kwargs=_pk("report_form"), ok=FORM_KEEPERS),
    # A future period is refused on the page (200) whatever the figures; another street's unit is a 404.
    Route("reports:report_generate", "post", kwargs=_pk("report_form"),
          data=lambda objs, who: {"unit": objs["report"].org_unit_id, "period": "2099-Q1"},
          ok=A_REPORT, not_found=A_REPORT_OUT),
    Route("reports:report_detail", kwargs=_pk("report"), ok=A_REPORT, not_found=A_REPORT_OUT),
    # The first reviewer (admin, in the matrix's order) approves; the report is then no longer waiting for review,
    # and street A generated it: the others' reviews are refused on the page.
    Route("reports:report_review", "post", kwargs=_pk("report"), data=lambda objs, who: {"decision": "approve"},
          ok=A_REPORT, not_found=A_REPORT_OUT, override={"admin": REDIRECT}),
    # Not reviewed yet: the lock is refused with a message, back to the report.
    Route("reports:report_lock", "post", kwargs=_pk("report"), ok=A_REPORT, ok_status=REDIRECT,
          not_found=A_REPORT_OUT),
    Route("reports:report_file", kwargs=_pk("report_file"), ok=A_REPORT, not_found=A_REPORT_OUT),
]
