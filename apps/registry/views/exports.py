"""Export of the filtered list (xlsx) and the one-person file (PDF)."""

from __future__ import annotations

import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from apps.core.choices import JobStatus
from apps.core.lists import is_partial, vary_on_htmx
from apps.core.scoping import RoleRequiredMixin

from .. import exporting, pdf, selectors
from .records import list_id_search


class ExportForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for the export"), max_length=300, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=gettext_lazy("Required for large exports and for full ID numbers."))
    unmasked = forms.BooleanField(label=gettext_lazy("Include full ID numbers"), required=False)

    def __init__(self, *args, may_reveal: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_reveal:
            del self.fields["unmasked"]


class VeteranExportView(RoleRequiredMixin, View):
    """GET: the export page (row count, reason, full-ID option). POST: small masked exports download at once;
    larger ones and exports of full ID numbers need a reason and go to the download centre."""

    permission_required = ("registry.view_veteran", exporting.EXPORT_PERMISSION)
    template_name = "registry/partials/job_export_form.html"

    def _context(self, request, form):
        filterset = selectors.veteran_filterset(user=request.user, params=exporting.export_params(request.GET),
                                                id_search=list_id_search(request))
        limit = exporting.sync_max_rows()
        count, over = exporting.count_capped(filterset.qs, limit)
        return {
            "form": form, "count": count, "over": over, "limit": limit,
            "filters": exporting.describe_filters(filterset),
            "query": exporting.export_params(request.GET).urlencode(),
            "frame": "core/partials/job_frame.html" if is_partial(request) else "base.html",
        }

    def _render(self, request, form, status: int = 200):
        return vary_on_htmx(render(request, self.template_name, self._context(request, form), status=status))

    def get(self, request):
        may_reveal = request.user.has_perm(exporting.REVEAL_PERMISSION)
        return self._render(request, ExportForm(may_reveal=may_reveal))

    def post(self, request):
        may_reveal = request.user.has_perm(exporting.REVEAL_PERMISSION)
        if request.POST.get("unmasked") and not may_reveal:
            raise PermissionDenied(_("You may not export full ID numbers."))
        form = ExportForm(request.POST, may_reveal=may_reveal)
        if not form.is_valid():
            return self._render(request, form)
        unmasked = bool(form.cleaned_data.get("unmasked"))
        id_search = list_id_search(request)
        filterset = selectors.veteran_filterset(user=request.user, params=exporting.export_params(request.GET),
                                                id_search=id_search)
        _count, over = exporting.count_capped(filterset.qs, exporting.sync_max_rows())
        background = exporting.needs_background(rows_over_threshold=over, unmasked=unmasked)
        try:
            reason = exporting.check_reason(form.cleaned_data["reason"], required=background)
        except ValidationError as exc:
            form.add_error("reason", exc.message_dict["reason"])
            return self._render(request, form)
        if background:
            job = exporting.export_job_start(actor=request.user, params=request.GET, unmasked=unmasked, reason=reason,
                                             request=request, id_search=id_search)
            job.refresh_from_db(fields=["status", "error"])
            if job.status == JobStatus.FAILED:  # Redis down: the job could not be queued (后台服务暂不可用)
                messages.error(request, job.error)
            else:
                messages.success(request, _("The export is being prepared in the background; download it here "
                                            "when it is done."))
            return redirect("jobs:job_list")
        handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it after sending
        try:
            result = exporting.veteran_export(actor=request.user, params=request.GET, target=handle, reason=reason,
                                              request=request, id_search=id_search)
        except Exception:
            handle.close()
            raise
        handle.seek(0)
        return FileResponse(handle, as_attachment=True, filename=result.filename,
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
@permission_required("registry.view_veteran", raise_exception=True)
def veteran_pdf(request, pk: int):
    """一人一档 PDF of a record in the user's scope (404 otherwise); every download is logged as printed."""
    veteran = selectors.person_or_404(request, pk)
    content = pdf.veteran_pdf(actor=request.user, veteran=veteran, request=request)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=bool(request.GET.get("download")), filename=pdf.veteran_pdf_filename(veteran))
    return response
