"""Import pages: upload, preview (dry run) with the bad rows, confirm, progress and result.

Every page needs ``registry.import_veteran``; a job is looked up among the user's own jobs, so another
user's import answers 404. The work is done by ``importing``, the veteran spec of core's import framework
(in the request for small sheets, in a Celery task for large ones).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST

from apps.core import files
from apps.core.choices import AccessAction, JobStatus
from apps.core.forms import OrgUnitChoiceField
from apps.core.imports import reading
from apps.core.jobs import jobs_fail_stuck
from apps.core.lists import is_partial
from apps.core.models import Job, OrgUnit
from apps.core.scoping import RoleRequiredMixin
from apps.core.services import access_log_record

from .. import importing

PROBLEMS_SHOWN = 500


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Sheet (xlsx, xls or csv)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.xls,.csv,.txt"}))
    unit = OrgUnitChoiceField(label=gettext_lazy("Default responsible unit"), queryset=OrgUnit.objects.none(),
                              required=False,
                              help_text=gettext_lazy("For rows without a 所属村(社区) value; rows may name units "
                                                     "below this one."))
    atomic = forms.BooleanField(label=gettext_lazy("All or nothing: write nothing if any row has an error"),
                                required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = OrgUnit.objects.visible_to(user).filter(is_active=True)
        self.fields["unit"].queryset = units
        if user.org_unit_id:
            self.fields["unit"].initial = user.org_unit_id


def _job_or_404(request, pk: int) -> Job:
    return get_object_or_404(importing.import_jobs(user=request.user), pk=pk)


class ImportUploadView(RoleRequiredMixin, View):
    """The upload form, the template download and the user's recent imports."""

    permission_required = importing.PERMISSION

    def _render(self, request, form, status: int = 200):
        return render(request, "registry/import_upload.html", {
            "form": form, "jobs": importing.import_jobs(user=request.user)[:10],
            "sync_max_rows": reading.sync_max_rows(), "max_mb": reading.max_upload_bytes() // (1024 * 1024),
        }, status=status)

    def get(self, request):
        return self._render(request, ImportForm(user=request.user))

    def post(self, request):
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                job = importing.import_job_create(actor=request.user, upload=form.cleaned_data["file"],
                                                  unit=form.cleaned_data["unit"], atomic=form.cleaned_data["atomic"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                importing.import_job_dispatch(job)
                return redirect("registry:import_detail", pk=job.pk)
        return self._render(request, form)


class ImportDetailView(RoleRequiredMixin, View):
    """One import: progress while it runs, then the preview (counts, bad rows, confirm) or the result."""

    permission_required = importing.PERMISSION

    def get(self, request, pk: int):
        jobs_fail_stuck(user=request.user)  # workers may all be gone: the page must not wait for ever
        job = _job_or_404(request, pk)
        result = job.result or {}
        phase = job.params.get("phase", "preview")
        unit = OrgUnit.objects.filter(pk=job.params.get("unit")).first()
        done = job.status == JobStatus.DONE
        ctx = {
            "job": job, "result": result, "phase": phase, "unit": unit, "done": done,
            "running": job.status in (JobStatus.PENDING, JobStatus.RUNNING),
            "problems": result.get("problems", [])[:PROBLEMS_SHOWN],
            "problems_more": max(0, result.get("problems_total", 0) - PROBLEMS_SHOWN),
            "can_confirm": done and phase == "preview" and result.get("valid", 0) > 0
            and not (job.params.get("atomic") and result.get("errors")),
        }
        return render(request, "registry/import_detail.html", ctx)


@login_required
@permission_required(importing.PERMISSION, raise_exception=True)
def import_progress(request, pk: int):
    """The progress bar (htmx polls it every second); once the job is over the page reloads itself."""
    jobs_fail_stuck(user=request.user)  # a silent job ends as failed, so the page stops waiting
    job = _job_or_404(request, pk)
    response = render(request, "registry/partials/import_progress.html", {"job": job})
    if job.status in (JobStatus.DONE, JobStatus.FAILED) and is_partial(request):
        response["HX-Refresh"] = "true"
    return response


@login_required
@permission_required(importing.PERMISSION, raise_exception=True)
@require_POST
def import_confirm(request, pk: int):
    job = _job_or_404(request, pk)
    try:
        importing.import_job_confirm(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("registry:import_detail", pk=job.pk)


@login_required
@permission_required(importing.PERMISSION, raise_exception=True)
def import_errors(request, pk: int):
    """The user's own sheet back with the bad cells marked; the download is written to the access log."""
    job = _job_or_404(request, pk)
    if not job.output_file or files.job_is_past_ttl(job) or not files.job_grants_hold(request.user, job):
        raise Http404
    response = files.job_output_response(job, job.result.get("filename") or "errors.xlsx")
    access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=job, request=request,
                      detail={"kind": job.kind, "file": job.output_file.name, "rows": job.result.get("errors")})
    return response


@login_required
@permission_required(importing.PERMISSION, raise_exception=True)
def import_template(request):
    data = importing.import_template(user=request.user)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = content_disposition_header(True, importing.SPEC.template_file_name())
    return response
