"""Report forms pages: the list of forms, uploading and binding a form (``reports.manage_forms``), generating a
unit's report (``reports.fill_report``), the report with its versions, review and lock (``reports.review_report``),
and the scoped download of every kept workbook (logged)."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views import View

from apps.core import figures
from apps.core.choices import AccessAction, OrgLevel
from apps.core.figures.periods import KINDS
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record
from apps.core.views.kit import ServiceFormView, selector_or_404

from .. import selectors, services, workbooks
from ..models import ReportStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_USERS = ("reports.manage_forms", "reports.fill_report", "reports.review_report")
REPORT_USERS = ("reports.fill_report", "reports.review_report")


class AnyPermissionMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Any one of ``permission_required`` lets the user in; none → 403 (login page when anonymous)."""

    def has_permission(self) -> bool:
        return any(self.request.user.has_perm(p) for p in self.get_permission_required())

    def handle_no_permission(self):
        self.raise_exception = self.request.user.is_authenticated
        return super().handle_no_permission()


# --- Django forms ------------------------------------------------------------------------------------


class ReportFormForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Code"), max_length=40,
                           help_text=gettext_lazy("Letters, digits and hyphens, e.g. city-2026-veterans; used by the command line."))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    description = forms.CharField(label=gettext_lazy("About the form"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    period_kind = forms.ChoiceField(label=gettext_lazy("Filled per"), choices=list(KINDS.items()), initial="quarter")
    unit_levels = forms.MultipleChoiceField(
        label=gettext_lazy("Filled by"), widget=forms.CheckboxSelectMultiple,
        choices=[(OrgLevel.DISTRICT.value, OrgLevel.DISTRICT.label), (OrgLevel.STREET.value, OrgLevel.STREET.label),
                 (OrgLevel.COMMUNITY.value, OrgLevel.COMMUNITY.label)])
    upload = forms.FileField(label=gettext_lazy("Form file (xlsx)"), required=False,
                             help_text=gettext_lazy("The authority's workbook as it is: merged headers, the unit rows, the totals row."))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
        else:
            self.fields["upload"].required = True


class GenerateForm(forms.Form):
    period = forms.CharField(label=pgettext_lazy("report", "Period"), max_length=16,
                             widget=forms.TextInput(attrs={"list": "period-choices", "autocomplete": "off"}))
    unit = forms.ChoiceField(label=gettext_lazy("Unit"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, f"{'— ' * (u.depth - 1)}{u.name}") for u in units]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("return", "return")])
    note = forms.CharField(label=gettext_lazy("Review note"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))


_LINE = re.compile(r"^\s*([^=:：＝]+?)\s*[=:：＝]\s*(.+?)\s*$")


def _lines(text: str, what: str, errors: list[str]) -> list[tuple[str, str]]:
    found = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            errors.append(_("%(what)s, line %(n)d: write it as “C5 = registry.veterans”.") % {"what": what, "n": number})
            continue
        found.append((match.group(1).strip().upper(), match.group(2).strip()))
    return found


class BindingsForm(forms.Form):
    """The binding page: the unit rows (mode, rows, totals row), one line per column of the sheet (reference
    and total), and the single cells as ``C3 = key`` lines."""

    mode = forms.ChoiceField(label=gettext_lazy("Unit rows"), required=False, choices=[
        ("", gettext_lazy("None (single cells only)")),
        (workbooks.CHILDREN, gettext_lazy("Every unit below the report's unit, in code order")),
        (workbooks.FIXED, gettext_lazy("Fixed rows: row number = unit code"))])
    first_row = forms.IntegerField(label=gettext_lazy("First unit row"), required=False, min_value=1)
    rows = forms.IntegerField(label=gettext_lazy("Rows for units"), required=False, min_value=1)
    totals_row = forms.IntegerField(label=gettext_lazy("Totals row"), required=False, min_value=1)
    units = forms.CharField(label=gettext_lazy("Fixed rows (one per line: 6 = 320111001000)"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
    cells = forms.CharField(label=gettext_lazy("Single cells (one per line: C3 = registry.veterans or B2 = @unit)"),
                            required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, columns: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = columns
        totals = [("", "—"), (workbooks.SUM, gettext_lazy("Sum of the column")),
                  (workbooks.OWN, gettext_lazy("The report unit's figure"))]
        for column in columns:
            self.fields[f"col_{column}_ref"] = forms.CharField(required=False, max_length=120, widget=forms.TextInput(
                attrs={"list": "figure-refs", "class": "form-control form-control-sm font-monospace binding-ref", "aria-label": _("Column %(c)s") % {"c": column}}))
            self.fields[f"col_{column}_total"] = forms.ChoiceField(required=False, choices=totals, widget=forms.Select(
                attrs={"class": "form-select form-select-sm binding-total", "aria-label": _("Total of column %(c)s") % {"c": column}}))

    @staticmethod
    def initial_from(bindings: dict) -> dict:
        grid = bindings.get("grid") or {}
        initial = {"mode": grid.get("mode", ""), "first_row": grid.get("first_row"), "rows": grid.get("rows"),
                   "totals_row": grid.get("totals_row"),
                   "units": "\n".join(f"{row} = {code}" for row, code in sorted((grid.get("units") or {}).items(),
                                                                                 key=lambda i: int(i[0]))),
                   "cells": "\n".join(f"{cell} = {ref}" for cell, ref in (bindings.get("cells") or {}).items())}
        for column, spec in (grid.get("columns") or {}).items():
            initial[f"col_{column}_ref"] = spec.get("ref", "")
            initial[f"col_{column}_total"] = spec.get("total", "")
        return initial

    def bindings(self) -> dict:
        """The bindings the page describes (checked by the service); a line written twice is refused here."""
        data, errors = self.cleaned_data, []
        result: dict = {}
        cells: dict[str, str] = {}
        for cell, ref in _lines(data.get("cells"), _("Single cells"), errors):
            if cell in cells:
                errors.append(_("Cell %(cell)s is bound twice (%(first)s and %(second)s).")
                              % {"cell": cell, "first": cells[cell], "second": ref})
            cells[cell] = ref
        if cells:
            result["cells"] = cells
        if data.get("mode"):
            grid: dict = {"mode": data["mode"]}
            for name in ("first_row", "rows", "totals_row"):
                if data.get(name):
                    grid[name] = data[name]
            if data["mode"] == workbooks.FIXED:
                units: dict[str, str] = {}
                for row, code in _lines(data.get("units"), _("Fixed rows"), errors):
                    if not row.isdigit():
                        errors.append(_("Fixed rows: “%(row)s” is not a row number.") % {"row": row})
                    elif row in units:
                        errors.append(_("Row %(row)s is given twice.") % {"row": row})
                    else:
                        units[row] = code
                grid["units"] = units
            grid["columns"] = {}
            for column in self.columns:
                ref = (data.get(f"col_{column}_ref") or "").strip()
                if ref:
                    grid["columns"][column] = {"ref": ref, **({"total": data[f"col_{column}_total"]}
                                                              if data.get(f"col_{column}_total") else {})}
            result["grid"] = grid
        if errors:
            raise ValidationError(errors)
        return result


# --- forms -------------------------------------------------------------------------------------------


class FormListView(AnyPermissionMixin, View):
    permission_required = FORM_USERS

    def get(self, request):
        forms_ = list(selectors.report_form_list(user=request.user))
        for form in forms_:
            grid = form.bindings.get("grid") or {}
            form.bound_columns = sum(1 for c in (grid.get("columns") or {}).values() if not c.get("ref", "").startswith("@"))
            form.bound_cells = len(form.bindings.get("cells") or {})
        reports = selectors.report_list(user=request.user)[:20] if any(
            request.user.has_perm(p) for p in REPORT_USERS) else []
        return render(request, "reports/form_list.html", {"forms": forms_, "reports": reports,
                                                          "title": _("Report forms (上报报表)")})


class FormCreateView(ServiceFormView):
    permission_required = "reports.manage_forms"
    form_class, multipart = ReportFormForm, True
    title = gettext_lazy("Upload a report form")
    cancel_url = "reports:form_list"
    success_message = gettext_lazy("The form is uploaded; now bind its cells to figures.")

    def get_initial(self) -> dict:
        return {"period_kind": "quarter", "unit_levels": [OrgLevel.DISTRICT.value]}

    def perform(self, data):
        upload = data["upload"]
        return services.report_form_save(actor=self.request.user, code=data["code"], name=data["name"],
                                         description=data["description"], period_kind=data["period_kind"],
                                         unit_levels=data["unit_levels"], content=upload.read(),
                                         file_name=upload.name)

    def success_url(self, result) -> str:
        from django.urls import reverse

        return reverse("reports:form_bindings", args=[result.pk])


class FormEditView(ServiceFormView):
    permission_required = "reports.manage_forms"
    form_class, multipart = ReportFormForm, True
    title = gettext_lazy("Change the report form")

    def load(self) -> None:
        self.report_form = selector_or_404(selectors.report_form_detail, user=self.request.user, pk=self.kwargs["pk"])

    def get_form_kwargs(self) -> dict:
        return {"editing": True}

    def make_form(self, data=None, files=None):
        if data is not None:
            data = data.copy()
            data["code"] = self.report_form.code
        return super().make_form(data, files)

    def get_initial(self) -> dict:
        f = self.report_form
        return {"code": f.code, "name": f.name, "description": f.description, "period_kind": f.period_kind,
                "unit_levels": f.unit_levels}

    def get_cancel_url(self) -> str:
        return self.report_form.get_absolute_url()

    def perform(self, data):
        upload = data.get("upload")
        return services.report_form_save(actor=self.request.user, form=self.report_form, code=self.report_form.code,
                                         name=data["name"], description=data["description"],
                                         period_kind=data["period_kind"], unit_levels=data["unit_levels"],
                                         content=upload.read() if upload else None,
                                         file_name=upload.name if upload else "")


class FormBindingsView(RoleRequiredMixin, View):
    permission_required = "reports.manage_forms"

    def setup_form(self, request, pk):
        self.report_form = selector_or_404(selectors.report_form_detail, user=request.user, pk=pk)
        _workbook, self.sheet = workbooks.open_sheet(bytes(self.report_form.template), self.report_form.sheet)
        from openpyxl.utils import get_column_letter

        self.columns = [get_column_letter(i) for i in range(1, (self.sheet.max_column or 1) + 1)]

    def render_page(self, request, form):
        grid = self.report_form.bindings.get("grid") or {}
        headers = workbooks.header_texts(self.sheet, int(form["first_row"].value() or grid.get("first_row") or 5))
        column_rows = [{"letter": c, "header": headers.get(c, ""), "ref": form[f"col_{c}_ref"],
                        "total": form[f"col_{c}_total"]} for c in self.columns]
        bound = {}
        for column, spec in (grid.get("columns") or {}).items():
            first = int(grid.get("first_row") or 0)
            bound[f"{column}{first}"] = spec.get("ref", "")
            if spec.get("total") and grid.get("totals_row"):
                bound[f"{column}{grid['totals_row']}"] = spec["total"]
        for cell, ref in (grid.get("units") or {}).items():
            bound.setdefault(f"A{cell}", f"= {ref}")
        bound.update(self.report_form.bindings.get("cells") or {})
        refs = []
        for figure in figures.all_figures():
            refs.append((figure.key, str(figure.label)))
            for code, label in (figure.buckets() if figure.buckets else []):
                refs.append((f"{figure.key}:{code}", f"{figure.label} · {label}"))
        refs += [(w, label) for w, label in [(workbooks.SERIAL, _("Row number")), (workbooks.UNIT, _("Unit name")),
                                            (workbooks.CODE, _("Unit code")), (workbooks.PERIOD, pgettext("report", "Period")),
                                            (workbooks.DATE, _("Date of generation"))]]
        return render(request, "reports/form_bindings.html", {
            "report_form": self.report_form, "form": form, "column_rows": column_rows, "refs": refs,
            "preview": workbooks.preview(bytes(self.report_form.template), self.report_form.sheet), "bound": bound,
            "title": _("Bind cells · %(form)s") % {"form": self.report_form.name}})

    def get(self, request, pk):
        self.setup_form(request, pk)
        form = BindingsForm(initial=BindingsForm.initial_from(self.report_form.bindings), columns=self.columns)
        return self.render_page(request, form)

    def post(self, request, pk):
        self.setup_form(request, pk)
        form = BindingsForm(request.POST, columns=self.columns)
        if form.is_valid():
            try:
                services.report_form_bind(actor=request.user, form=self.report_form, bindings=form.bindings())
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("Bindings saved."))
                return redirect(self.report_form)
        return self.render_page(request, form)


class FormDetailView(AnyPermissionMixin, View):
    permission_required = FORM_USERS

    def get(self, request, pk, generate_form=None):
        report_form = selector_or_404(selectors.report_form_detail, user=request.user, pk=pk)
        units = list(selectors.report_units(user=request.user, form=report_form))
        can_fill = request.user.has_perm("reports.fill_report")
        if generate_form is None and can_fill and units:
            generate_form = GenerateForm(units=units, initial={
                "period": figures.Period.current(report_form.period_kind).previous().key})
        return render(request, "reports/form_detail.html", {
            "report_form": report_form, "generate_form": generate_form if can_fill else None,
            "periods": figures.recent_periods(report_form.period_kind, 8),
            "reports": selectors.report_list(user=request.user, form=report_form)
            if any(request.user.has_perm(p) for p in REPORT_USERS) else [],
            "title": report_form.name})


class FormTemplateView(RoleRequiredMixin, View):
    """The form's file as it was uploaded (no personal data: a layout)."""

    permission_required = "reports.manage_forms"

    def get(self, request, pk):
        report_form = selector_or_404(selectors.report_form_detail, user=request.user, pk=pk)
        response = HttpResponse(bytes(report_form.template), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(True, report_form.template_name or f"{report_form.code}.xlsx")
        return response


class ReportGenerateView(RoleRequiredMixin, View):
    permission_required = "reports.fill_report"

    def post(self, request, pk):
        report_form = selector_or_404(selectors.report_form_detail, user=request.user, pk=pk)
        unit = figures.scoped_unit(request.user, request.POST.get("unit") or None)  # another street's unit: 404
        units = list(selectors.report_units(user=request.user, form=report_form))
        if unit not in units:
            units.append(unit)
        form = GenerateForm(request.POST, units=units)
        if form.is_valid():
            try:
                kept = services.report_generate(actor=request.user, form=report_form, unit=unit,
                                                period=form.cleaned_data["period"])
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                messages.success(request, _("Report generated (version %(v)d); a second person reviews it next.")
                                 % {"v": kept.version})
                return redirect(kept.report)
        return _page(FormDetailView, request, pk, generate_form=form)


def _page(view_class, request, pk, **extra):
    """Show a page again after a refused POST, with the bound form and its errors."""
    view = view_class()
    view.setup(request, pk=pk)
    return view.get(request, pk, **extra)


# --- reports -----------------------------------------------------------------------------------------


class ReportDetailView(AnyPermissionMixin, View):
    permission_required = REPORT_USERS

    def get(self, request, pk, review_form=None):
        report = selector_or_404(selectors.report_detail, user=request.user, pk=pk)
        files = list(report.files.select_related("created_by").order_by("-version"))
        current = files[0] if files else None
        user = request.user
        second = report.generated_by_id != user.pk
        return render(request, "reports/report_detail.html", {
            "report": report, "files": files, "current": current,
            "values": sorted((current.values if current else {}).items(), key=lambda i: _cell_order(i[0])),
            "can_review": user.has_perm("reports.review_report") and report.status == ReportStatus.FILLED and second,
            "can_lock": user.has_perm("reports.review_report") and report.status == ReportStatus.REVIEWED and second,
            "can_regenerate": user.has_perm("reports.fill_report") and not report.is_locked,
            "own_report": not second, "review_form": review_form or ReviewForm(),
            "title": str(report)})


def _cell_order(coordinate: str):
    match = re.match(r"([A-Z]+)(\d+)", coordinate)
    if not match:
        return (0, 0)
    from openpyxl.utils import column_index_from_string

    return (int(match.group(2)), column_index_from_string(match.group(1)))


class ReportReviewView(RoleRequiredMixin, View):
    permission_required = "reports.review_report"

    def post(self, request, pk):
        report = selector_or_404(selectors.report_detail, user=request.user, pk=pk)
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                services.report_review(actor=request.user, report=report,
                                       approve=form.cleaned_data["decision"] == "approve", note=form.cleaned_data["note"])
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("Review recorded."))
                return redirect(report)
        return _page(ReportDetailView, request, pk, review_form=form)


class ReportLockView(RoleRequiredMixin, View):
    permission_required = "reports.review_report"

    def post(self, request, pk):
        report = selector_or_404(selectors.report_detail, user=request.user, pk=pk)
        try:
            services.report_lock(actor=request.user, report=report)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The report is locked."))
        return redirect(report)


class ReportFileView(AnyPermissionMixin, View):
    """A kept workbook, served only within the user's area; each download goes to the access log."""

    permission_required = REPORT_USERS

    def get(self, request, pk):
        kept = selector_or_404(selectors.report_file_detail, user=request.user, pk=pk)
        try:
            with kept.file.open("rb") as handle:
                content = handle.read()
        except FileNotFoundError as exc:
            raise Http404 from exc
        access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=kept, request=request,
                          detail={"report": kept.report_id, "version": kept.version, "sha256": kept.sha256})
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(True, kept.download_name)
        response["Cache-Control"] = "private, max-age=0, no-store"
        return response
