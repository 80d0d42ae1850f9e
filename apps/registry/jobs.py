"""The registry's background job kinds, registered with core's job runner (``apps.core.jobs``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core import jobs


def _import_run(job, progress) -> None:
    from . import importing

    importing.import_job_run(job_pk=job.pk)  # marks the job done or failed itself


def register_jobs() -> None:
    from . import exporting, importing

    jobs.register(kind=exporting.JOB_KIND, run=exporting.export_job_run, queue="reports",
                  label=_("Veteran list export"))
    jobs.register(kind=importing.JOB_KIND, run=_import_run, queue="imports", label=_("Veteran import"))
