from __future__ import annotations

from celery import shared_task

from . import services


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
