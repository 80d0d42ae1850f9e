from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import jobs, services


@shared_task(name="core.audit_purge", acks_late=True, time_limit=3600)
def audit_purge() -> dict:
    """Daily: delete audit, access and login entries past the retention period."""
    result = services.audit_purge()
    return {
        "cutoff": result.cutoff.isoformat(),
        "access_log": result.access_log,
        "login_log": result.login_log,
        "login_failures": result.login_failures,
        "history_events": result.history_events,
    }


@shared_task(name="core.generated_files_purge", acks_late=True, time_limit=3600)
def generated_files_purge() -> dict:
    """Hourly: delete generated files older than GENERATED_FILES_TTL_DAYS and mark their jobs expired."""
    from .files import generated_files_expire

    result = generated_files_expire()
    return {"jobs": result.jobs, "files": result.files}
@shared_task(name="core.outbox_run", acks_late=True, reject_on_worker_lost=True,
             time_limit=settings.CELERY_TASK_TIME_LIMIT)
def outbox_run(pk: int) -> dict:
    """Do one outbox row's work (queued once the transaction that recorded it committed)."""
    from . import outbox

    return {"outbox": pk, "done": outbox.outbox_run_one(pk)}


@shared_task(name="core.outbox_drain", acks_late=True, time_limit=settings.CELERY_TASK_TIME_LIMIT)
def outbox_drain() -> dict:
    """Every minute (and when a worker starts): do the outbox work that no queued message did."""
    from . import outbox

    return {"done": outbox.outbox_drain()}


@shared_task(name="core.jobs_fail_stuck", acks_late=True, time_limit=600)
def jobs_fail_stuck() -> dict:
    """Every five minutes: fail the jobs that gave no sign of life for JOB_STUCK_AFTER_MINUTES."""
    return {"failed": jobs.jobs_fail_stuck()}


@shared_task(name=jobs.TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True,
             time_limit=settings.CELERY_TASK_TIME_LIMIT, soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT)
def run_job(self, job_id: int) -> dict:
    """Run background job ``job_id`` by its kind (``apps.core.jobs``). Safe to run twice: a message redelivered
    after its worker died re-runs the job from the start; a duplicate of a running or finished job is skipped."""
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    job = jobs.job_run(job_id, redelivered=redelivered)
    if job is None:
        return {"job": job_id, "skipped": True}
    return {"job": job_id, "status": job.status, "rows": job.result.get("rows", 0)}


@shared_task(name="core.figures_refresh", acks_late=True, time_limit=3600)
def figures_refresh() -> dict:
    """Every FIGURES_REFRESH_MINUTES: recount the dashboard's figures for the running and compared periods."""
    from .figures import refresh_hot

    return refresh_hot()
