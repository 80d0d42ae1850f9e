"""Background export of the veteran list into the user's download centre."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import exporting


@shared_task(name=exporting.JOB_KIND, acks_late=True, reject_on_worker_lost=True,
             time_limit=settings.CELERY_TASK_TIME_LIMIT, soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT)
def export_veterans(job_id: int) -> dict:
    """Write the export of job ``job_id``. A redelivered message re-runs it from the start; a finished one is kept."""
    job = exporting.export_job_run(job_id=job_id)
    if job is None:
        return {"job": job_id, "skipped": True}
    return {"job": job_id, "status": job.status, "rows": job.result.get("rows", 0)}
