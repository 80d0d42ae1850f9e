"""The registry's background job kinds, registered with core's job runner (``apps.core.jobs``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core import jobs
from apps.core.imports import jobs as import_jobs


def register_jobs() -> None:
    from . import exporting, importing

    jobs.register(kind=exporting.JOB_KIND, run=exporting.export_job_run, queue="reports",
                  label=_("Veteran list export"))
    import_jobs.register_kind(importing.SPEC)  # the import framework runs the job (its phase, progress, result)
