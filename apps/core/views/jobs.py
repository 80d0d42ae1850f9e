"""The download centre: a user's own background jobs, their progress and their result files.

Jobs are scoped by ``Job.objects.visible_to(user)`` (owner only): another user's job answers 404.
A job's ``kind`` names its registered runner (``apps.core.jobs``), so a failed or stuck job is re-run here
without core knowing the app that started it. A job that gave no sign of life for ``JOB_STUCK_AFTER_MINUTES``
is failed when its owner lists their jobs; with Redis down a retry is refused and the job stays failed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from .. import files
from ..broker import BrokerUnavailable
from ..choices import AccessAction, JobStatus
from ..jobs import job_is_retryable, job_retry, jobs_fail_stuck, unavailable_message
from ..lists import is_partial, vary_on_htmx
from ..models import Job
from ..services import access_log_record

ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)


# --- views ---------------------------------------------------------------------------------------


class JobListView(LoginRequiredMixin, TemplateView):
    """The user's jobs, newest first; while one is waiting or running the table refreshes itself (htmx)."""

    template_name = "core/job_list.html"
    partial_template_name = "core/partials/job_table.html"
    paginate_by = 20

    def get_template_names(self) -> list[str]:
        if is_partial(self.request):
            return [self.partial_template_name]
        return [self.template_name]

    def render_to_response(self, context, **response_kwargs):
        return vary_on_htmx(super().render_to_response(context, **response_kwargs))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        jobs_fail_stuck(user=self.request.user)  # also every five minutes, but workers may all be down
        jobs = Job.objects.visible_to(self.request.user).order_by("-created_at", "-pk")
        page = Paginator(jobs, self.paginate_by).get_page(self.request.GET.get("page"))
        ctx["page_obj"] = page
        ctx["jobs"] = list(page)
        ctx["polling"] = any(job.status in ACTIVE for job in ctx["jobs"])
        for job in ctx["jobs"]:
            job.may_retry = job_is_retryable(job)
            # Shown as the row's action: download, or why not (expired, or the user's rights changed).
            job.expires_at = files.job_expires_at(job) if job.status == JobStatus.DONE else None
            job.past_ttl = job.status == JobStatus.DONE and files.job_is_past_ttl(job)
            job.may_download = (job.status == JobStatus.DONE and bool(job.output_file) and not job.past_ttl
                                and files.job_grants_hold(self.request.user, job))
        return ctx


@login_required
def job_download(request, pk: int):
    """The result file of one of the user's own finished jobs, while the user still holds the permissions and
    the area it was made under and it has not expired; every download is written to the access log."""
    job = get_object_or_404(Job.objects.visible_to(request.user), pk=pk)
    if job.status != JobStatus.DONE or not job.output_file:
        raise Http404
    if files.job_is_past_ttl(job):
        files.job_expire(job.pk)  # the hourly purge has not reached it yet
        raise Http404
    if not files.job_grants_hold(request.user, job):
        raise Http404
    filename = job.result.get("filename") or job.output_file.name.rsplit("/", 1)[-1]
    response = files.job_output_response(job, filename)
    access_log_record(user=request.user, action=AccessAction.DOWNLOAD, obj=job, request=request,
                      detail={"kind": job.kind, "file": job.output_file.name, "rows": job.result.get("rows")})
    return response


@login_required
@require_POST
def job_retry_view(request, pk: int):
    job = get_object_or_404(Job.objects.visible_to(request.user), pk=pk)
    try:
        job_retry(actor=request.user, job=job)
    except ValueError:
        messages.error(request, _("Only a failed job, or one that stopped giving signs of life, can be run again."))
    except BrokerUnavailable:
        messages.error(request, unavailable_message())
    else:
        messages.success(request, _("The job was put back in the queue."))
    return redirect("jobs:job_list")
