"""Background import of a veteran sheet (preview or commit phase of a ``core.Job``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import importing


@shared_task(name=importing.JOB_KIND, acks_late=True, reject_on_worker_lost=True,
             time_limit=settings.CELERY_TASK_TIME_LIMIT, soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT)
def veteran_import_task(job_id: int) -> dict:
    """Run the job's phase. Safe to run again: the write is one transaction, so a killed worker left nothing
    (the redelivered message runs it from the start, upserting) or everything (then only the result is finished)."""
    job = importing.import_job_run(job_pk=job_id)
    if job is None:
        return {"job": job_id, "skipped": True}
    return {"job": job_id, "status": job.status, "phase": job.params.get("phase"), "rows": job.result.get("rows", 0)}
