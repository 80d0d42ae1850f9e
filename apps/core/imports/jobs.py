"""Imports as jobs: the upload stored on a ``core.Job`` (encrypted at rest), its phase run — a dry run
(``preview``) or the write (``commit``) — in the request for small sheets or in a Celery task for large ones,
its progress written on a connection of its own, the error workbook attached when rows are bad."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core import files, jobs
from apps.core.choices import JobStatus
from apps.core.models import Job, OrgUnit, User

from .engine import ImportSpec, run_import
from .problems import ImportFileError, ImportReport
from .reading import Source, max_upload_bytes, sync_max_bytes, sync_max_rows
from .workbooks import error_workbook

logger = logging.getLogger(__name__)

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")


def import_job_create(spec: ImportSpec, *, actor: User, upload: UploadedFile, unit: OrgUnit | None = None,
                      atomic: bool = False) -> Job:
    """Store an uploaded sheet as an import job (phase: preview). Raises ValidationError for the form."""
    if not actor.has_perm(spec.permission):
        raise PermissionDenied
    unit = unit or actor.org_unit
    if unit is None or not OrgUnit.objects.visible_to(actor).filter(pk=unit.pk).exists():
        raise ValidationError({"unit": _("Choose a unit in your area.")})
    if upload.size and upload.size > max_upload_bytes():
        raise ValidationError({"file": _("The file is too large (at most %(mb)d MB).")
                               % {"mb": max_upload_bytes() // (1024 * 1024)}})
    name = Path(upload.name or "import").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError({"file": _("Upload an Excel workbook (xlsx or xls) or a CSV file.")})
    job = Job(kind=spec.job_kind, user=actor, title=(_("Import %(name)s") % {"name": name})[:200],
              grant_permissions=[spec.permission], grant_scope=unit.path,  # re-checked when its error sheet is downloaded
              params={"phase": "preview", "unit": unit.pk, "atomic": bool(atomic), "file_name": name,
                      "language": translation.get_language()})
    files.job_input_store(job, upload, suffix=suffix)  # full ID numbers: encrypted at rest, random name
    try:
        # Only the zip's directory and the sheet's declared range are read here: a file that would cost more to
        # read than a small sheet is read in the background (zip bombs are refused unread by Source).
        with files.job_input_path(job) as path:
            source = Source(path, name)
            try:
                job.total = source.estimate_rows()
                if source.content_bytes > sync_max_bytes():
                    job.params["background"] = True
            finally:
                source.close()
    except ImportFileError as exc:
        job.input_file.delete(save=False)
        raise ValidationError({"file": str(exc)}) from exc
    job.save()
    return job


def import_job_in_background(job: Job) -> bool:
    return job.total > sync_max_rows() or bool(job.params.get("background"))


def import_job_dispatch(spec: ImportSpec, job: Job) -> None:
    """Run the job's phase now (small sheets), or queue it for a worker once the current transaction commits
    (``core.jobs.start``; the broker down: the job fails at once with 后台服务暂不可用)."""
    if import_job_in_background(job):
        jobs.start(job)
    else:
        import_job_run(spec, job_pk=job.pk, report_progress=False)
        job.refresh_from_db()


def import_job_confirm(spec: ImportSpec, *, actor: User, job: Job) -> Job:
    """The user confirms a preview: the job moves to its commit phase (once)."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk, kind=spec.job_kind, user=actor)
        result = locked.result or {}
        if locked.params.get("phase") != "preview" or locked.status != JobStatus.DONE:
            raise ValidationError(_("This import has already been confirmed or is still being checked."))
        if not result.get("valid"):
            raise ValidationError(_("No row can be imported."))
        if locked.params.get("atomic") and result.get("errors"):
            raise ValidationError(_("All or nothing was chosen and some rows have errors: correct them and upload "
                                    "the sheet again."))
        locked.params = {**locked.params, "phase": "commit"}
        locked.status, locked.progress, locked.finished_at, locked.error = JobStatus.PENDING, 0, None, ""
        locked.save(update_fields=["params", "status", "progress", "finished_at", "error"])
    import_job_dispatch(spec, locked)
    return locked


def _job_fail(job: Job, message: str) -> None:
    job.status, job.error, job.finished_at = JobStatus.FAILED, message[:2000], timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])


def import_job_run(spec: ImportSpec, *, job_pk: int, report_progress: bool = True,
                   progress: jobs.Progress | None = None) -> Job | None:
    """Run an import job's phase (preview or commit). Safe to run again: a finished job is left alone,
    a commit already written is not written twice, anything else starts over."""
    job = Job.objects.select_related("user").filter(pk=job_pk, kind=spec.job_kind).first()
    if job is None or job.status == JobStatus.DONE:
        return job
    phase = job.params.get("phase", "preview")
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
        if phase == "commit" and job.result.get("phase") == "commit" and job.result.get("committed") is not None:
            _job_finish(spec, job, None)  # the write is done; only the error workbook was still missing
            return job
        job.status, job.error, job.progress, job.heartbeat_at = JobStatus.RUNNING, "", 0, timezone.now()
        job.save(update_fields=["status", "error", "progress", "heartbeat_at"])
        actor = job.user
        unit = OrgUnit.objects.filter(pk=job.params.get("unit")).first()
        if not actor.is_active or not actor.has_perm(spec.permission) or unit is None:
            _job_fail(job, _("You may no longer import into this unit; nothing was written."))
            return job
        if progress is None and report_progress:
            progress = jobs.Progress(job)
        report: ImportReport | None = None

        def committed(result: ImportReport) -> None:
            job.result = {"phase": phase, **result.as_json()}
            job.progress = job.total
            job.save(update_fields=["result", "progress"])

        try:
            with files.job_input_path(job) as path:
                report = run_import(spec, actor=actor, path=path, unit=unit, commit=phase == "commit",
                                    atomic=bool(job.params.get("atomic")),
                                    file_name=job.params.get("file_name", ""), job=job,
                                    progress=progress.update if progress is not None else None,
                                    on_committed=committed)
            if phase != "commit":
                committed(report)
        except (ImportFileError, PermissionDenied) as exc:
            _job_fail(job, str(exc))
            return job
        except Exception:
            logger.exception("import job %s failed", job.pk)
            _job_fail(job, _("The import stopped because of an internal error; nothing was written. Try again or "
                             "ask the administrator."))
            return job
        finally:
            if progress is not None:
                progress.close()
        _job_finish(spec, job, report)
    return job


def _job_finish(spec: ImportSpec, job: Job, report: ImportReport | None) -> None:
    """Attach the error workbook (when rows are bad) and mark the job done."""
    if report is None and job.result.get("errors") and not job.output_file:
        with files.job_input_path(job) as path:
            report = run_import(spec, actor=job.user, path=path,
                                unit=OrgUnit.objects.get(pk=job.params["unit"]),
                                file_name=job.params.get("file_name", ""))
    if report is not None and report.errors:
        stem = Path(job.params.get("file_name") or "import").stem
        with tempfile.TemporaryDirectory() as folder, files.job_input_path(job) as path:
            out = os.path.join(folder, "errors.xlsx")
            error_workbook(path=path, report=report, file_name=job.params.get("file_name", ""), out=out)
            if job.output_file:
                job.output_file.delete(save=False)
            with open(out, "rb") as handle:  # the sheet holds full ID numbers: encrypted, under a random name
                files.job_output_store(job, handle, suffix=".xlsx")
        job.result = {**job.result, "filename": _("%(name)s-errors.xlsx") % {"name": stem}}
    job.status, job.finished_at = JobStatus.DONE, timezone.now()
    job.save(update_fields=["status", "finished_at", "output_file", "output_encrypted", "result"])


def register_kind(spec: ImportSpec) -> None:
    """Register the spec's job kind with core's job runner: a worker runs the job's phase (its progress written
    by the runner's ``Progress``); the job is marked done or failed here, with the reason its owner reads."""

    def run(job: Job, progress: jobs.Progress) -> None:
        import_job_run(spec, job_pk=job.pk, progress=progress)

    jobs.register(kind=spec.job_kind, run=run, queue=spec.job_queue, label=spec.job_label)


def import_jobs(spec: ImportSpec, *, user: User) -> Iterable[Job]:
    """The user's own imports of ``spec``, newest first."""
    return Job.objects.visible_to(user).filter(kind=spec.job_kind).order_by("-created_at")
